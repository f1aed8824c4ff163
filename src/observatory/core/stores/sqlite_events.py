"""Event store on SQLite (embedded profile, or EVENT_STORE_URL=sqlite:///path)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from observatory.core.clock import SystemClock, iso
from observatory.core.contracts.ids import canonical_uuid
from observatory.core.stores.event_rows import event_row, stored_envelope
from observatory.core.stores.records import DeadLetter
from observatory.core.stores.sqlite_base import SqliteAdapter
from observatory.core.stores.values import json_text, ms_text, text_value


class SqliteEventStore(SqliteAdapter):
    """EventStore over a SQLite file."""

    component = "events"
    dependency = "event_store"

    async def insert(self, envelopes: Sequence[dict[str, Any]]) -> list[str]:
        rows = []
        for envelope in envelopes:  # every row checked before anything is written
            row = event_row(envelope)
            # orjson, as in the PostgreSQL adapter's json codec: the same envelopes refused.
            text = json_text(stored_envelope(envelope, row), "envelope", nul=True)
            rows.append((row.event_id, row.job_id, row.event_type, iso(row.occurred_at), text))

        def work(conn: sqlite3.Connection) -> list[str]:
            new = []
            for row in rows:
                cur = conn.execute(
                    "INSERT INTO job_events (event_id, job_id, event_type, occurred_at, envelope)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING",
                    row,
                )
                if cur.rowcount:
                    new.append(row[0])
            return new

        with self.guarded():
            return await self._writer.run(work)

    async def for_job(self, job_id: str, *, limit: int, newest_first: bool) -> list[dict[str, Any]]:
        canonical = canonical_uuid(job_id)
        if canonical is None:
            return []  # events are filed under canonical job ids only
        order = "DESC" if newest_first else "ASC"
        sql = (
            "SELECT envelope FROM job_events WHERE job_id = ?"  # noqa: S608 — only ASC/DESC is interpolated
            f" ORDER BY occurred_at {order}, seq {order} LIMIT ?"
        )
        with self.guarded():
            rows = await self._reader.read(
                lambda conn: conn.execute(sql, (canonical, limit)).fetchall()
            )
        return [json.loads(row[0]) for row in rows]

    async def recent(self, limit: int) -> list[dict[str, Any]]:
        sql = "SELECT envelope FROM job_events ORDER BY occurred_at DESC, seq DESC LIMIT ?"
        with self.guarded():
            rows = await self._reader.read(lambda conn: conn.execute(sql, (limit,)).fetchall())
        return [json.loads(row[0]) for row in rows]

    async def add_dead_letters(self, letters: Sequence[DeadLetter]) -> int:
        now = iso(SystemClock().now())
        rows = [
            (
                text_value(d.key, "dead letter key"),
                str(d.document.get("rejected_at") or now),
                json_text(d.document, "dead letter", nul=True),
            )
            for d in letters
        ]

        def work(conn: sqlite3.Connection) -> int:
            before = conn.total_changes
            conn.executemany(
                "INSERT INTO dead_letters (key, rejected_at, document) VALUES (?, ?, ?)"
                " ON CONFLICT (key) DO NOTHING",
                rows,
            )
            return conn.total_changes - before

        with self.guarded():
            return await self._writer.run(work)

    async def dead_letters(self, limit: int) -> list[dict[str, Any]]:
        sql = "SELECT seq, document FROM dead_letters ORDER BY seq DESC LIMIT ?"
        with self.guarded():
            rows = await self._reader.read(lambda conn: conn.execute(sql, (limit,)).fetchall())
        return [{"id": str(row[0]), **json.loads(row[1])} for row in rows]

    async def remove_for_jobs(
        self, job_ids: Sequence[str], *, before: datetime, dry_run: bool = False
    ) -> int:
        wanted = [c for c in map(canonical_uuid, job_ids) if c is not None]
        if not wanted:
            return 0
        where = f"WHERE job_id IN ({','.join('?' * len(wanted))}) AND occurred_at < ?"
        args = [*wanted, ms_text(before)]
        if dry_run:
            sql = f"SELECT count(*) FROM job_events {where}"  # noqa: S608 — only "?" marks are interpolated
            with self.guarded():
                return int(
                    await self._reader.read(lambda conn: conn.execute(sql, args).fetchone()[0])
                )
        delete = f"DELETE FROM job_events {where}"  # noqa: S608 — only "?" marks are interpolated
        with self.guarded():
            return int(await self._writer.run(lambda conn: conn.execute(delete, args).rowcount))

    async def remove_dead_letters(
        self, before: datetime, *, limit: int, dry_run: bool = False
    ) -> int:
        bound = ms_text(before)
        if dry_run:
            sql = "SELECT count(*) FROM dead_letters WHERE rejected_at < ?"
            with self.guarded():
                return int(
                    await self._reader.read(lambda conn: conn.execute(sql, (bound,)).fetchone()[0])
                )
        delete = (
            "DELETE FROM dead_letters WHERE seq IN (SELECT seq FROM dead_letters"
            " WHERE rejected_at < ? ORDER BY seq LIMIT ?)"
        )
        with self.guarded():
            return int(
                await self._writer.run(lambda conn: conn.execute(delete, (bound, limit)).rowcount)
            )
