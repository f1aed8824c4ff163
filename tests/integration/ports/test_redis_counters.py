"""What only the Redis counters adapter has to survive: Redis forgetting its scripts, and
effect keys expiring (EFFECT_TTL_SECONDS)."""

from __future__ import annotations

import redis.asyncio as aioredis
from tests.integration.ports.engines import delete_redis_keys
from tests.waiting import wait_until_async

from observatory.core.stores.records import CounterEffect
from observatory.core.stores.redis_counters import EFFECT_TTL_SECONDS, RedisCounters
from observatory.core.stores.series import SERIES_TTL_SECONDS


async def test_counting_goes_on_exactly_once_after_redis_loses_its_scripts(
    redis_url: str, namespace: str
) -> None:
    """After SCRIPT FLUSH (what a Redis restart does) the next batch reloads the scripts and
    applies; the batch before it is still not counted twice."""
    counters = RedisCounters(redis_url, namespace=namespace)
    admin = aioredis.Redis.from_url(redis_url)
    try:
        await counters.open()
        first = [CounterEffect("created:a", {"total": 1}, "2026-03-01T12:00:00.000Z")]
        assert await counters.apply(first) == 1

        await admin.script_flush()
        second = [
            CounterEffect("created:a", {"total": 1}, "2026-03-01T12:00:00.000Z"),
            CounterEffect("created:b", {"total": 1}, "2026-03-01T12:00:01.000Z"),
            CounterEffect("executed:b", {}, "2026-03-01T12:00:02.000Z"),
        ]
        assert await counters.apply(second) == 1

        snapshot = await counters.snapshot()
        assert snapshot.total == 2
        assert snapshot.last_event_time == "2026-03-01T12:00:02.000Z"
    finally:
        await counters.close()
        await admin.aclose()
        await delete_redis_keys(redis_url, namespace)


async def test_an_expired_effect_key_is_missing_again(redis_url: str, namespace: str) -> None:
    """Effect keys expire after EFFECT_TTL_SECONDS: then `missing` reports them, so a run's
    end arriving after that is held back instead of counted (redis_counters docstring)."""
    counters = RedisCounters(redis_url, namespace=namespace)
    admin = aioredis.Redis.from_url(redis_url)
    try:
        await counters.open()
        await counters.apply([CounterEffect("created:old", {"total": 1})])
        key = f"{namespace}:metrics:effect:created:old"
        assert 0 < await admin.ttl(key) <= EFFECT_TTL_SECONDS
        assert await counters.missing(["created:old"]) == set()

        await admin.pexpire(key, 1)  # what a week does

        async def forgotten() -> bool:
            return await counters.missing(["created:old"]) == {"created:old"}

        await wait_until_async(forgotten, timeout=5, message="the effect key to expire")
        assert (await counters.snapshot()).total == 1
    finally:
        await counters.close()
        await admin.aclose()
        await delete_redis_keys(redis_url, namespace)


async def test_series_buckets_expire_after_their_ttl(redis_url: str, namespace: str) -> None:
    """Every time bucket an effect or a depth sample writes carries an expiry of at most
    SERIES_TTL_SECONDS (26 h), so a day's buckets never pile up."""
    counters = RedisCounters(redis_url, namespace=namespace)
    admin = aioredis.Redis.from_url(redis_url)
    try:
        await counters.open()
        effect = CounterEffect("created:s", {"total": 1}, None, series="created", at=1_767_225_600)
        await counters.apply([effect], depth_at=1_767_225_700)
        keys = [k async for k in admin.scan_iter(f"{namespace}:metrics:series:*")]
        assert len(keys) == 5  # the event's and the sample's buckets; one 10-min bucket holds both
        for key in keys:
            assert 0 < await admin.ttl(key) <= SERIES_TTL_SECONDS
    finally:
        await counters.close()
        await admin.aclose()
        await delete_redis_keys(redis_url, namespace)
