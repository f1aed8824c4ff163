"""Embedded counters in SQLite: the same exactly-once effects as Redis, one transaction each."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from observatory.core.stores.records import COUNTER_NAMES, CounterEffect, CounterSnapshot
from observatory.core.stores.sqlite_base import SqliteAdapter


class EmbeddedCounters(SqliteAdapter):
    """Counters adapter over a SQLite file."""

    component = "counters"

    async def apply(self, effects: Sequence[CounterEffect]) -> int:
        def work(conn: sqlite3.Connection) -> int:
            applied = 0
            for effect in effects:
                if not any(effect.deltas.values()):  # only moves the clock; needs no claim
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
                if effect.event_time:
                    conn.execute(
                        "INSERT INTO counter_meta (name, value) VALUES ('last_event_time', ?)"
                        " ON CONFLICT (name) DO UPDATE SET value = max(value, excluded.value)",
                        (effect.event_time,),
                    )
            return applied

        return await self._writer.run(work) if effects else 0

    async def snapshot(self) -> CounterSnapshot:
        def work(conn: sqlite3.Connection) -> CounterSnapshot:
            values = dict(conn.execute("SELECT name, value FROM counters").fetchall())
            row = conn.execute(
                "SELECT value FROM counter_meta WHERE name = 'last_event_time'"
            ).fetchone()
            numbers = {n: int(values.get(n, 0)) for n in COUNTER_NAMES}
            return CounterSnapshot(**numbers, last_event_time=row[0] if row else "")

        return await self._reader.read(work)
