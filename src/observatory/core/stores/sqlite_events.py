"""Event store on SQLite (embedded profile, or EVENT_STORE_URL=sqlite:///path)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from observatory.core.clock import SystemClock, iso
from observatory.core.contracts.ids import canonical_uuid
from observatory.core.stores.audit_rows import audit_rows, seq_cursor
from observatory.core.stores.dead_letter_rows import (
    letter_queue,
    letter_reason,
    rejected_time,
    replay_failed,
    shown,
)
from observatory.core.stores.event_rows import event_row, stored_envelope
from observatory.core.stores.news import EventNews, LocalNews, Signal
from observatory.core.stores.records import AuditEntry, AuditPage, DeadLetter, DeadLetterQuery
from observatory.core.stores.sqlite_base import SqliteAdapter
from observatory.core.stores.values import json_text, ms_text, text_value, time_value


class SqliteEventStore(SqliteAdapter):
    """EventStore over a SQLite file."""

    component = "events"
    dependency = "event_store"

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._news = Signal()  # raised after each commit that stored something

    def news_source(self, *, shared: bool) -> EventNews:
        """This process's news of the store: complete only when `shared` (every writer
        uses this object); another process's inserts are not announced."""
        return LocalNews(self._news, live=shared)

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
            new = await self._writer.run(work)
        if new:  # committed: stored, then announced
            self._news.notify()
        return new

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
        moment = SystemClock().now()
        now = iso(moment)
        rows = [
            (
                text_value(d.key, "dead letter key"),
                str(d.document.get("rejected_at") or now),
                rejected_time(d.document, moment),
                json_text(d.document, "dead letter", nul=True),
                letter_queue(d),
                letter_reason(d),
            )
            for d in letters
        ]

        def work(conn: sqlite3.Connection) -> int:
            added = 0
            for key, rejected_at, rejected, document, queue, reason in rows:
                replayed = conn.execute(
                    "SELECT seq, state_at FROM dead_letters"
                    " WHERE (key = ? OR replay_key = ?) AND state = 'replayed'",
                    (key, key),
                ).fetchall()
                failed = [(seq,) for seq, sent in replayed if replay_failed(rejected, sent)]
                if failed:  # a replay that failed again: no new letter
                    conn.executemany(
                        "UPDATE dead_letters SET state = 'replay_failed', replay_error = ?,"
                        " state_at = ? WHERE seq = ?",
                        [(reason, now, seq) for (seq,) in failed],
                    )
                    continue
                added += conn.execute(
                    "INSERT INTO dead_letters (key, rejected_at, document, queue, reason)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                    (key, rejected_at, document, queue, reason),
                ).rowcount
            return added

        with self.guarded():
            return await self._writer.run(work)

    async def dead_letters(self, limit: int) -> list[dict[str, Any]]:
        return await self.find_dead_letters(DeadLetterQuery(), limit)

    async def find_dead_letters(self, query: DeadLetterQuery, limit: int) -> list[dict[str, Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if query.state:
            clauses.append("state = ?")
            args.append(query.state)
        if query.queue:
            clauses.append("queue = ?")
            args.append(query.queue)
        if query.reason:
            clauses.append("instr(lower(reason), lower(?)) > 0")
            args.append(query.reason)
        if query.since:
            clauses.append("rejected_at >= ?")
            args.append(iso(query.since))
        if query.until:
            clauses.append("rejected_at < ?")
            args.append(iso(query.until))
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {LETTER_COLUMNS} FROM dead_letters {where} ORDER BY seq DESC LIMIT ?"  # noqa: S608 — constant columns and clauses; values are "?" parameters
        with self.guarded():
            rows = await self._reader.read(
                lambda conn: conn.execute(sql, [*args, limit]).fetchall()
            )
        return [_letter(row) for row in rows]

    async def dead_letter(self, letter_id: str) -> dict[str, Any] | None:
        if not letter_id.isdigit() or len(letter_id) > 18:
            return None
        sql = f"SELECT {LETTER_COLUMNS} FROM dead_letters WHERE seq = ?"  # noqa: S608 — constant columns
        with self.guarded():
            row = await self._reader.read(
                lambda conn: conn.execute(sql, (int(letter_id),)).fetchone()
            )
        return _letter(row) if row else None

    async def mark_dead_letter(
        self,
        letter_id: str,
        state: str,
        *,
        at: datetime,
        replay_key: str | None = None,
        error: str | None = None,
    ) -> None:
        if not letter_id.isdigit() or len(letter_id) > 18:
            return
        args = (state, iso(time_value(at, "stateAt")), replay_key, error, int(letter_id))

        def work(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE dead_letters SET state = ?, state_at = ?,"
                " replay_key = coalesce(?, replay_key), replay_error = ? WHERE seq = ?",
                args,
            )

        with self.guarded():
            await self._writer.run(work)

    async def add_audit(self, entries: Sequence[AuditEntry]) -> None:
        rows = audit_rows(entries)  # every entry checked before anything is written
        if not rows:
            return

        def work(conn: sqlite3.Connection) -> None:
            for row in rows:
                cur = conn.execute(
                    "INSERT INTO audit_events (event_id, occurred_at, entry) VALUES (?, ?, ?)"
                    " ON CONFLICT (event_id) DO NOTHING",
                    (row.event_id, iso(row.occurred_at), row.text),
                )
                if cur.rowcount:
                    conn.executemany(
                        "INSERT INTO audit_jobs (job_id, seq) VALUES (?, ?)",
                        [(job_id, cur.lastrowid) for job_id in row.job_ids],
                    )

        with self.guarded():
            await self._writer.run(work)

    async def audit(self, limit: int, cursor: str | None) -> AuditPage:
        before = seq_cursor(cursor)
        sql = "SELECT seq, entry FROM audit_events"
        args: list[Any] = []
        if before is not None:
            sql += " WHERE seq < ?"
            args.append(before)
        sql += " ORDER BY seq DESC LIMIT ?"
        with self.guarded():
            rows = await self._reader.read(
                lambda conn: conn.execute(sql, [*args, limit + 1]).fetchall()
            )
        more = len(rows) > limit
        return AuditPage(
            [json.loads(r[1]) for r in rows[:limit]], str(rows[limit - 1][0]) if more else None
        )

    async def audit_for_job(self, job_id: str, limit: int) -> list[dict[str, Any]]:
        canonical = canonical_uuid(job_id)
        if canonical is None:
            return []
        sql = (
            "SELECT a.entry FROM audit_jobs j JOIN audit_events a ON a.seq = j.seq"
            " WHERE j.job_id = ? ORDER BY j.seq LIMIT ?"
        )
        with self.guarded():
            rows = await self._reader.read(
                lambda conn: conn.execute(sql, (canonical, limit)).fetchall()
            )
        return [json.loads(r[0]) for r in rows]

    async def remove_for_jobs(
        self, job_ids: Sequence[str], *, before: datetime, dry_run: bool = False
    ) -> int:
        wanted = [c for c in map(canonical_uuid, job_ids) if c is not None]
        if not wanted:
            return 0
        # The ids are one JSON parameter (json_each), as in the job store: nothing is
        # interpolated, and no limit on the number of parameters.
        args = [json.dumps(wanted), ms_text(before)]
        if dry_run:
            sql = (
                "SELECT count(*) FROM job_events"
                " WHERE job_id IN (SELECT value FROM json_each(?)) AND occurred_at < ?"
            )
            with self.guarded():
                return int(
                    await self._reader.read(lambda conn: conn.execute(sql, args).fetchone()[0])
                )
        delete = (
            "DELETE FROM job_events"
            " WHERE job_id IN (SELECT value FROM json_each(?)) AND occurred_at < ?"
        )
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

    async def remove_audit(self, before: datetime, *, limit: int, dry_run: bool = False) -> int:
        bound = ms_text(before)
        if dry_run:
            sql = "SELECT count(*) FROM audit_events WHERE occurred_at < ?"
            with self.guarded():
                return int(
                    await self._reader.read(lambda conn: conn.execute(sql, (bound,)).fetchone()[0])
                )

        def work(conn: sqlite3.Connection) -> int:
            seqs = [
                (row[0],)
                for row in conn.execute(
                    "SELECT seq FROM audit_events WHERE occurred_at < ? ORDER BY seq LIMIT ?",
                    (bound, limit),
                )
            ]
            conn.executemany("DELETE FROM audit_jobs WHERE seq = ?", seqs)
            conn.executemany("DELETE FROM audit_events WHERE seq = ?", seqs)
            return len(seqs)

        with self.guarded():
            return await self._writer.run(work)


LETTER_COLUMNS = "seq, document, state, queue, reason, replay_error, state_at"


def _letter(row: Any) -> dict[str, Any]:
    return shown(
        str(row[0]),
        json.loads(row[1]),
        state=row[2],
        queue=row[3],
        reason=row[4],
        replay_error=row[5],
        state_at=row[6],
    )
