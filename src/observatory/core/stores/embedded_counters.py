"""Embedded counters in SQLite: the same exactly-once effects as Redis, one transaction each."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from observatory.core.sqlite_writer import SqliteReader, SqliteWriter
from observatory.core.stores.migrate import migrate_sqlite
from observatory.core.stores.records import COUNTER_NAMES, CounterEffect, CounterSnapshot


class EmbeddedCounters:
    """Counters adapter over a SQLite file."""

    def __init__(self, path: Path) -> None:
        self._writer = SqliteWriter(path)
        self._reader = SqliteReader(path)

    async def open(self) -> None:
        await self._writer.open(lambda conn: migrate_sqlite(conn, "counters"))

    async def apply(self, effects: Sequence[CounterEffect]) -> int:
        def work(conn: sqlite3.Connection) -> int:
            applied = 0
            for effect in effects:
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

    async def ping(self) -> bool:
        try:
            await self._reader.read(lambda conn: conn.execute("SELECT 1").fetchone())
        except sqlite3.Error:
            return False
        return True

    async def close(self) -> None:
        await self._reader.close()
        await self._writer.close()
