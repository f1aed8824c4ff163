"""Live counters in Redis under the seed's key names (metrics:jobs:total, ...).

Each effect is applied by one Lua script call that first claims the effect's key
(SET NX with a long expiry) and only then increments: a redelivered event finds its
key claimed and changes nothing, and a crash cannot leave half an effect.

An effect key lives EFFECT_TTL_SECONDS (7 days), so memory stays bounded by a week of
jobs. The price: a job.created delivered again more than 7 days after it was counted
counts again, and a run's end arriving more than 7 days after its job.created finds the
key it requires gone (`missing` reports it), so the metrics engine holds it back and
then dead-letters it instead of counting it. (The embedded counters keep every key.)

The time-series buckets (core.stores.series) are hashes `metrics:series:<level>:<start>`
expiring after SERIES_TTL_SECONDS; an effect's bucket increments happen in its APPLY call,
after the claim, so they are exactly-once too. The queue-depth sample is one more call
at the end of the batch's pipeline (a plain set: repeating it is harmless). A query is
one MERGE call: the server sums the buckets of each step and answers with one JSON
string (1,440 buckets for 24 h at a 2-min step cost one round trip, not 1,440).

A batch is one pipeline of EVALSHA calls, one round trip; `missing` is one MGET.
(redis-py's Script objects would ask SCRIPT EXISTS before every pipeline.) When Redis
has lost the scripts (a restart, SCRIPT FLUSH) they are loaded again and the batch is
re-sent: every call in it is idempotent.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from typing import Any

import orjson
import redis.asyncio as aioredis
from redis.exceptions import NoScriptError, RedisError

from observatory.core.errors import DependencyDown
from observatory.core.stores.records import COUNTER_NAMES, CounterEffect, CounterSnapshot
from observatory.core.stores.series import (
    SERIES_TTL_SECONDS,
    bucket_fields,
    bucket_starts,
    level_for,
)

DEP = "counters"
EFFECT_TTL_SECONDS = 7 * 24 * 3600
KEYS = {
    "total": "metrics:jobs:total",
    "completed": "metrics:jobs:completed",
    "failed": "metrics:jobs:failed",
    "retried": "metrics:jobs:retried",
    "dead_letters": "metrics:dead_letters",
    "cancelled": "metrics:jobs:cancelled",
}
LAST_EVENT = "metrics:last_event_time"

# KEYS[1] effect key, KEYS[2] last-event key, KEYS[3..2+n] counters, KEYS[3+n..] series
# buckets; ARGV[1] ttl, ARGV[2] event time ('' = none), ARGV[3] n, ARGV[4..3+n] deltas
# matching the counters, ARGV[4+n] bucket ttl, ARGV[5+n..] bucket fields to add 1 to.
APPLY = """
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
local n = tonumber(ARGV[3])
for i = 1, n do redis.call('INCRBY', KEYS[2 + i], ARGV[3 + i]) end
if ARGV[2] ~= '' then
  local current = redis.call('GET', KEYS[2])
  if (not current) or current < ARGV[2] then redis.call('SET', KEYS[2], ARGV[2]) end
end
local f = 4 + n
for k = 3 + n, #KEYS do
  for j = f + 1, #ARGV do redis.call('HINCRBY', KEYS[k], ARGV[j], 1) end
  redis.call('EXPIRE', KEYS[k], ARGV[f])
end
return 1
"""
# KEYS[1..4] total, completed, failed, cancelled; KEYS[5..] buckets; ARGV[1] bucket ttl.
SAMPLE_DEPTH = """
local v = {}
for i = 1, 4 do v[i] = tonumber(redis.call('GET', KEYS[i]) or '0') end
local depth = v[1] - v[2] - v[3] - v[4]
if depth < 0 then depth = 0 end
for k = 5, #KEYS do
  redis.call('HSET', KEYS[k], 'depth', depth)
  redis.call('EXPIRE', KEYS[k], ARGV[1])
end
return depth
"""
# KEYS[1] last-event key; ARGV[1] event time. Idempotent, so it needs no effect key.
MOVE_CLOCK = """
local current = redis.call('GET', KEYS[1])
if (not current) or current < ARGV[1] then redis.call('SET', KEYS[1], ARGV[1]) end
return 0
"""

# ARGV[1] key prefix ("<ns>:metrics:series:<level>:"), ARGV[2] first bucket start,
# ARGV[3] level, ARGV[4] buckets per step, ARGV[5] steps. Sums each step's fields on the
# server (one round trip, one JSON string back, however many buckets); `depth` is the
# latest sample, as later buckets overwrite earlier ones. The keys are built here rather
# than passed (passing 360 keys cost more than the query): like APPLY's several keys,
# that is for a single Redis, not a cluster.
MERGE = """
local prefix, first = ARGV[1], tonumber(ARGV[2])
local level, per, steps = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local out = {}
for p = 1, steps do
  local point = {}
  for b = 0, per - 1 do
    local fields = redis.call('HGETALL', prefix .. (first + ((p - 1) * per + b) * level))
    for j = 1, #fields, 2 do
      local name = fields[j]
      if name == 'depth' then
        point[name] = tonumber(fields[j + 1])
      else
        point[name] = (point[name] or 0) + tonumber(fields[j + 1])
      end
    end
  end
  out[p] = point
end
return cjson.encode(out)
"""


def _sha(script: str) -> str:
    return hashlib.sha1(script.encode(), usedforsecurity=False).hexdigest()


class RedisCounters:
    """Counters adapter for Redis (see module docstring)."""

    def __init__(self, url: str, *, namespace: str = "") -> None:
        self._redis = aioredis.Redis.from_url(
            url, socket_timeout=5, socket_connect_timeout=5, decode_responses=True
        )
        self._prefix = f"{namespace}:" if namespace else ""
        self._apply_sha = _sha(APPLY)
        self._move_clock_sha = _sha(MOVE_CLOCK)
        self._depth_sha = _sha(SAMPLE_DEPTH)
        self._merge_sha = _sha(MERGE)
        # Before open() and after close() the counters are down, as every adapter is
        # (redis-py would otherwise quietly reconnect a closed client).
        self._open = False
        self._closed = False

    def _key(self, name: str) -> str:
        return self._prefix + name

    def _require_open(self) -> None:
        if not self._open:
            raise DependencyDown(DEP, "closed" if self._closed else "not open")

    async def open(self) -> None:
        if self._closed:
            raise DependencyDown(DEP, "closed")
        if not await self._answers():
            raise DependencyDown(DEP, "no answer")
        try:
            await self._load_scripts()
        except RedisError as exc:
            raise DependencyDown(DEP, type(exc).__name__) from exc
        self._open = True

    async def _load_scripts(self) -> None:
        for script in (APPLY, MOVE_CLOCK, SAMPLE_DEPTH, MERGE):
            await self._redis.script_load(script)

    async def apply(self, effects: Sequence[CounterEffect], *, depth_at: int | None = None) -> int:
        self._require_open()
        if not effects and depth_at is None:
            return 0
        calls = self._calls(effects)
        if depth_at is not None:
            calls.append(self._depth_call(depth_at))
        try:
            try:
                results = await self._run(calls)
            except NoScriptError:
                await self._load_scripts()
                results = await self._run(calls)
        except RedisError as exc:
            raise DependencyDown(DEP, type(exc).__name__) from exc
        if depth_at is not None:
            results = results[:-1]
        return sum(int(r) for r in results)

    def _bucket_key(self, level: int, start: int) -> str:
        return self._key(f"metrics:series:{level}:{start}")

    def _depth_call(self, at: int) -> list[Any]:
        counters = [self._key(KEYS[n]) for n in ("total", "completed", "failed", "cancelled")]
        buckets = [self._bucket_key(level, start) for level, start in bucket_starts(at)]
        keys = counters + buckets
        return [self._depth_sha, len(keys), *keys, SERIES_TTL_SECONDS]

    async def series(self, start: int, step: int, points: int) -> list[dict[str, int]]:
        self._require_open()
        level = level_for(step)
        args = (self._bucket_key(level, 0)[:-1], start, level, step // level, points)
        try:
            try:
                answer = await self._redis.evalsha(self._merge_sha, 0, *args)
            except NoScriptError:
                await self._load_scripts()
                answer = await self._redis.evalsha(self._merge_sha, 0, *args)
        except RedisError as exc:
            raise DependencyDown(DEP, type(exc).__name__) from exc
        merged = orjson.loads(answer)  # a list of objects ({} for a step without buckets)
        if not isinstance(merged, list):
            return [{} for _ in range(points)]
        return [{k: int(v) for k, v in p.items()} if isinstance(p, dict) else {} for p in merged]

    def _calls(self, effects: Sequence[CounterEffect]) -> list[list[Any]]:
        """EVALSHA arguments: one call per counting effect, one clock move for the rest."""
        calls: list[list[Any]] = []
        times = [e.event_time for e in effects if e.event_time and not e.counts]
        if times:  # events that count nothing only move the clock: no key per event
            calls.append([self._move_clock_sha, 1, self._key(LAST_EVENT), max(times)])
        for effect in effects:
            if not effect.counts:
                continue
            names = [n for n in COUNTER_NAMES if effect.deltas.get(n)]
            fields = bucket_fields(effect.series, effect.latency_ms)
            keys = [self._key(f"metrics:effect:{effect.key}"), self._key(LAST_EVENT)]
            keys += [self._key(KEYS[n]) for n in names]
            if fields:
                keys += [self._bucket_key(lv, at) for lv, at in bucket_starts(effect.at)]
            args: list[Any] = [EFFECT_TTL_SECONDS, effect.event_time or "", len(names)]
            args += [effect.deltas[n] for n in names]
            args += [SERIES_TTL_SECONDS, *fields]
            calls.append([self._apply_sha, len(keys), *keys, *args])
        return calls

    async def _run(self, calls: list[list[Any]]) -> list[Any]:
        async with self._redis.pipeline(transaction=False) as pipe:
            for call in calls:
                pipe.evalsha(*call)
            return list(await pipe.execute())

    async def missing(self, keys: Collection[str]) -> set[str]:
        self._require_open()
        if not keys:
            return set()
        names = list(keys)
        try:
            values = await self._redis.mget([self._key(f"metrics:effect:{k}") for k in names])
        except RedisError as exc:
            raise DependencyDown(DEP, type(exc).__name__) from exc
        return {k for k, v in zip(names, values, strict=True) if v is None}

    async def snapshot(self) -> CounterSnapshot:
        self._require_open()
        try:
            values = await self._redis.mget(
                [self._key(KEYS[n]) for n in COUNTER_NAMES] + [self._key(LAST_EVENT)]
            )
        except RedisError as exc:
            raise DependencyDown(DEP, type(exc).__name__) from exc
        numbers = {n: int(v or 0) for n, v in zip(COUNTER_NAMES, values, strict=False)}
        return CounterSnapshot(**numbers, last_event_time=str(values[-1] or ""))

    async def ping(self) -> bool:
        return self._open and await self._answers()

    async def _answers(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        self._open, self._closed = False, True
        await self._redis.aclose()
