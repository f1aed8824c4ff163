"""Embedded counters in SQLite: the same exactly-once effects as Redis, one transaction each.

Unlike Redis, applied effect keys are kept for good (no expiry), so `missing` never
forgets a job here. The time-series buckets (core.stores.series) are rows of
`series_buckets`, written in the same transaction as the effect that claims them;
buckets older than SERIES_TTL_SECONDS are deleted when the depth is sampled."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Sequence

from observatory.core.stores.records import COUNTER_NAMES, CounterEffect, CounterSnapshot
from observatory.core.stores.series import (
    DEPTH,
    LEVELS,
    SERIES_TTL_SECONDS,
    bucket_fields,
    bucket_starts,
    level_for,
)
from observatory.core.stores.sqlite_base import SqliteAdapter

ADD_TO_BUCKET = (
    "INSERT INTO series_buckets (level, start, field, value) VALUES (?, ?, ?, 1)"
    " ON CONFLICT (level, start, field) DO UPDATE SET value = value + 1"
)
SET_DEPTH = (
    "INSERT INTO series_buckets (level, start, field, value) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (level, start, field) DO UPDATE SET value = excluded.value"
)


def _sample_depth(conn: sqlite3.Connection, at: int) -> None:
    values = dict(conn.execute("SELECT name, value FROM counters").fetchall())
    depth = int(values.get("total", 0)) - sum(
        int(values.get(n, 0)) for n in ("completed", "failed", "cancelled")
    )
    conn.executemany(
        SET_DEPTH, [(level, start, DEPTH, max(0, depth)) for level, start in bucket_starts(at)]
    )
    for level in LEVELS:  # one index range per level
        conn.execute(
            "DELETE FROM series_buckets WHERE level = ? AND start < ?",
            (level, at - SERIES_TTL_SECONDS),
        )


class EmbeddedCounters(SqliteAdapter):
    """Counters adapter over a SQLite file."""

    component = "counters"
    dependency = "counters"

    async def apply(self, effects: Sequence[CounterEffect], *, depth_at: int | None = None) -> int:
        def work(conn: sqlite3.Connection) -> int:
            applied = 0
            for effect in effects:
                if not effect.counts:  # only moves the clock; needs no claim
                    if effect.event_time:
                        conn.execute(
                            "INSERT INTO counter_meta (name, value) VALUES ('last_event_time', ?)"
                            " ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)",
                            (effect.event_time,),
                        )
                    continue
                claimed = conn.execute(
                    "INSERT INTO counter_effects (key) VALUES (?) ON CONFLICT DO NOTHING",
                    (effect.key,),
                ).rowcount
                if not claimed:
                    continue
                applied += 1
                conn.executemany(
                    "INSERT INTO counters (name, value) VALUES (?, ?)"
                    " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                    [(n, d) for n, d in effect.deltas.items() if d],
                )
                fields = bucket_fields(effect.series, effect.latency_ms)
                conn.executemany(
                    ADD_TO_BUCKET,
                    [(lv, at, f) for lv, at in bucket_starts(effect.at) for f in fields],
                )
                if effect.event_time:
                    conn.execute(
                        "INSERT INTO counter_meta (name, value) VALUES ('last_event_time', ?)"
                        " ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)",
                        (effect.event_time,),
                    )
            if depth_at is not None:
                _sample_depth(conn, depth_at)
            return applied

        if not effects and depth_at is None:
            return 0
        with self.guarded():
            return await self._writer.run(work)

    async def missing(self, keys: Collection[str]) -> set[str]:
        wanted = list(dict.fromkeys(keys))
        if not wanted:
            return set()

        def work(conn: sqlite3.Connection) -> set[str]:
            rows = conn.execute(
                "SELECT key FROM counter_effects WHERE key IN (SELECT value FROM json_each(?))",
                (json.dumps(wanted),),
            )
            return set(wanted) - {row[0] for row in rows}

        with self.guarded():
            return await self._reader.read(work)

    async def snapshot(self) -> CounterSnapshot:
        def work(conn: sqlite3.Connection) -> CounterSnapshot:
            values = dict(conn.execute("SELECT name, value FROM counters").fetchall())
            row = conn.execute(
                "SELECT value FROM counter_meta WHERE name = 'last_event_time'"
            ).fetchone()
            numbers = {n: int(values.get(n, 0)) for n in COUNTER_NAMES}
            return CounterSnapshot(**numbers, last_event_time=row[0] if row else "")

        with self.guarded():
            return await self._reader.read(work)

    async def series(self, start: int, step: int, points: int) -> list[dict[str, int]]:
        level = level_for(step)

        def work(conn: sqlite3.Connection) -> list[dict[str, int]]:
            merged: list[dict[str, int]] = [{} for _ in range(points)]
            window = (level, start, start + step * points)
            sums = conn.execute(
                "SELECT (start - ?) / ? AS p, field, SUM(value) FROM series_buckets"
                " WHERE level = ? AND start >= ? AND start < ? AND field != 'depth'"
                " GROUP BY p, field",
                (start, step, *window),
            )
            for point, field, value in sums:
                merged[point][field] = value
            depths = conn.execute(  # the latest sample of each step: later rows overwrite
                "SELECT (start - ?) / ?, value FROM series_buckets"
                " WHERE level = ? AND start >= ? AND start < ? AND field = 'depth' ORDER BY start",
                (start, step, *window),
            )
            for point, value in depths:
                merged[point][DEPTH] = value
            return merged

        with self.guarded():
            return await self._reader.read(work)
