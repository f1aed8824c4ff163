"""Job store on SQLite (embedded profile)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from observatory.core.clock import iso, parse_iso
from observatory.core.stores.cursor import decode_cursor, encode_cursor
from observatory.core.stores.records import (
    AttemptEnd,
    AttemptRecord,
    AttemptStart,
    JobPage,
    JobRecord,
    JobState,
)
from observatory.core.stores.sqlite_base import SqliteAdapter

COLUMNS = (
    "id, type, status, payload, metadata, created_at, updated_at, completed_at, attempts, run, "
    "last_error"
)
TERMINAL_SQL = "('COMPLETED', 'FAILED')"


def _record(
    row: sqlite3.Row | tuple[Any, ...], history: tuple[AttemptRecord, ...] = ()
) -> JobRecord:
    return JobRecord(
        id=row[0],
        type=row[1],
        status=row[2],
        payload=json.loads(row[3]),
        metadata=json.loads(row[4]),
        created_at=parse_iso(row[5]),
        updated_at=parse_iso(row[6]),
        completed_at=parse_iso(row[7]) if row[7] else None,
        attempts=row[8],
        run=row[9],
        last_error=row[10],
        history=history,
    )


class SqliteJobStore(SqliteAdapter):
    """JobStore over a SQLite file: one writer thread with group commit, one reader."""

    component = "jobs"

    async def load(self, ids: Sequence[str]) -> dict[str, JobState]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))

        def work(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return conn.execute(
                f"SELECT id, status, attempts, run, event_id FROM jobs WHERE id IN ({marks})",  # noqa: S608
                list(ids),
            ).fetchall()

        rows = await self._reader.read(work)
        return {r[0]: JobState(r[0], r[1], r[2], r[3], r[4] or "") for r in rows}

    async def begin(self, starts: Sequence[AttemptStart]) -> None:
        jobs = [
            (
                s.job_id,
                s.type,
                json.dumps(s.payload),
                json.dumps(s.metadata),
                iso(s.created_at),
                iso(s.at),
                s.attempt,
                s.run,
                s.event_id,
                s.correlation_id,
            )
            for s in starts
        ]
        attempts = [(s.job_id, s.attempt, iso(s.at)) for s in starts]

        def work(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO jobs (id, type, status, payload, metadata, created_at, updated_at,"
                " attempts, run, event_id, correlation_id)"
                " VALUES (?, ?, 'EXECUTING', ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET status = 'EXECUTING',"
                " updated_at = excluded.updated_at, attempts = excluded.attempts,"
                " completed_at = NULL, event_id = excluded.event_id,"
                " last_error = CASE WHEN excluded.run > jobs.run"
                " THEN NULL ELSE jobs.last_error END,"
                " run = excluded.run",
                jobs,
            )
            conn.executemany(
                "INSERT INTO job_attempts (job_id, attempt, started_at) VALUES (?, ?, ?)"
                " ON CONFLICT (job_id, attempt) DO UPDATE SET started_at = excluded.started_at,"
                " finished_at = NULL, outcome = NULL, error = NULL",
                attempts,
            )

        await self._writer.run(work)

    async def finish(self, ends: Sequence[AttemptEnd]) -> None:
        jobs = [
            (
                e.status,
                iso(e.at),
                iso(e.at) if e.status in ("COMPLETED", "FAILED") else None,
                e.error,
                e.job_id,
            )
            for e in ends
        ]
        attempts = [(iso(e.at), e.outcome, e.error, e.job_id, e.attempt) for e in ends]

        def work(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "UPDATE jobs SET status = ?, updated_at = ?, completed_at = ?, last_error = ?"
                " WHERE id = ?",
                jobs,
            )
            conn.executemany(
                "UPDATE job_attempts SET finished_at = ?, outcome = ?, error = ?"
                " WHERE job_id = ? AND attempt = ?",
                attempts,
            )

        await self._writer.run(work)

    async def get(self, job_id: str) -> JobRecord | None:
        def work(conn: sqlite3.Connection) -> JobRecord | None:
            row = conn.execute(f"SELECT {COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()  # noqa: S608
            if row is None:
                return None
            history = tuple(
                AttemptRecord(a[0], parse_iso(a[1]), parse_iso(a[2]) if a[2] else None, a[3], a[4])
                for a in conn.execute(
                    "SELECT attempt, started_at, finished_at, outcome, error FROM job_attempts"
                    " WHERE job_id = ? ORDER BY attempt",
                    (job_id,),
                )
            )
            return _record(row, history)

        return await self._reader.read(work)

    async def recent(self, limit: int) -> list[JobRecord]:
        return (await self.page(status=None, type=None, limit=limit, cursor=None)).items

    async def page(
        self, *, status: str | None, type: str | None, limit: int, cursor: str | None
    ) -> JobPage:
        clauses, args = [], []
        if status:
            clauses.append("status = ?")
            args.append(status)
        if type:
            clauses.append("type = ?")
            args.append(type)
        if cursor:
            created_at, job_id = decode_cursor(cursor)
            clauses.append("(created_at, id) < (?, ?)")
            args += [created_at, job_id]
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT {COLUMNS} FROM jobs {where} ORDER BY created_at DESC, id DESC LIMIT ?"  # noqa: S608

        def work(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return conn.execute(sql, [*args, limit + 1]).fetchall()

        rows = await self._reader.read(work)
        items = [_record(row) for row in rows[:limit]]
        more = len(rows) > limit
        return JobPage(
            items, encode_cursor(rows[limit - 1][5], rows[limit - 1][0]) if more else None
        )

    async def count(self) -> int:
        def work(conn: sqlite3.Connection) -> int:
            return int(conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])

        return await self._reader.read(work)
