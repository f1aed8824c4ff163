"""Job store on SQLite (embedded profile)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from observatory.core.clock import iso, parse_iso
from observatory.core.contracts.ids import canonical_uuid
from observatory.core.contracts.vocabulary import TERMINAL, JobStatus
from observatory.core.stores.cursor import encode_cursor
from observatory.core.stores.job_rows import end_row, pending_rows, start_rows
from observatory.core.stores.job_search import sqlite_functions, sqlite_where
from observatory.core.stores.records import (
    AttemptEnd,
    AttemptRecord,
    AttemptStart,
    JobFilter,
    JobPage,
    JobRecord,
    JobState,
    Pending,
)
from observatory.core.stores.sqlite_base import SqliteAdapter
from observatory.core.stores.values import ms_text, time_value

_TERMINAL_JSON = json.dumps(sorted(TERMINAL))
"""The terminal statuses as one JSON parameter (`IN (SELECT value FROM json_each(?))`)."""

COLUMNS = (
    "id, type, status, payload, metadata, created_at, updated_at, completed_at, attempts, run, "
    "last_error"
)


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


def _unstartable(conn: sqlite3.Connection, runs: dict[str, int]) -> set[str]:
    """The jobs among `runs` (id -> the run an attempt would start in) that must not
    start: CANCELLED, or finished (COMPLETED, FAILED) in that run or a later one (a
    delivery decided on before another processor finished the job: begun anyway, it would
    reopen a finished job)."""
    if not runs:
        return set()
    rows = conn.execute(
        "SELECT id, status, run FROM jobs WHERE id IN (SELECT value FROM json_each(?))",
        (json.dumps(list(runs)),),
    )
    return {
        job_id
        for job_id, status, run in rows
        if status in TERMINAL and (status == JobStatus.CANCELLED or run >= runs[job_id])
    }


class SqliteJobStore(SqliteAdapter):
    """JobStore over a SQLite file: one writer thread with group commit, one reader."""

    component = "jobs"
    dependency = "job_store"

    async def load(self, ids: Sequence[str]) -> dict[str, JobState]:
        wanted = [c for c in map(canonical_uuid, ids) if c is not None]
        if not wanted:
            return {}

        def work(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            return conn.execute(
                "SELECT id, status, attempts, run, event_id FROM jobs"
                " WHERE id IN (SELECT value FROM json_each(?))",
                (json.dumps(wanted),),
            ).fetchall()

        with self.guarded():
            rows = await self._reader.read(work)
        return {r[0]: JobState(r[0], r[1], r[2], r[3], r[4] or "") for r in rows}

    async def begin(self, starts: Sequence[AttemptStart]) -> list[str]:
        rows = start_rows(starts)  # refuses what no engine stores, before writing
        jobs = [
            (
                r.job_id,
                r.type,
                r.payload,
                r.metadata,
                iso(r.created_at),
                iso(r.at),
                r.attempt,
                r.run,
                r.event_id,
                r.correlation_id,
            )
            for r in rows
        ]
        attempts = [(r.job_id, r.attempt, iso(r.at)) for r in rows]

        def work(conn: sqlite3.Connection) -> list[str]:
            # The writer holds the file's write lock (BEGIN IMMEDIATE) for the whole unit,
            # so no cancel() can come between this look and the upsert.
            cancelled = _unstartable(conn, {j[0]: j[7] for j in jobs})
            todo = [j for j in jobs if j[0] not in cancelled]
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
                todo,
            )
            conn.executemany(
                "INSERT INTO job_attempts (job_id, attempt, started_at) VALUES (?, ?, ?)"
                " ON CONFLICT (job_id, attempt) DO UPDATE SET started_at = excluded.started_at,"
                " finished_at = NULL, outcome = NULL, error = NULL",
                [a for a in attempts if a[0] not in cancelled],
            )
            return [j[0] for j in todo]

        # One unit of the writer: it runs under a savepoint, so an error leaves no row.
        with self.guarded():
            return await self._writer.run(work)

    async def finish(self, ends: Sequence[AttemptEnd]) -> None:
        rows = [end_row(e) for e in ends]
        jobs = [
            (
                r.status,
                iso(r.at),
                iso(r.at) if r.status in TERMINAL else None,
                r.error,
                r.job_id,
            )
            for r in rows
        ]
        attempts = [(iso(r.at), r.outcome, r.error, r.job_id, r.attempt) for r in rows]

        def work(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "UPDATE jobs SET status = ?, updated_at = ?, completed_at = ?, last_error = ?"
                " WHERE id = ? AND status <> 'CANCELLED'",
                jobs,
            )
            conn.executemany(
                "UPDATE job_attempts SET finished_at = ?, outcome = ?, error = ?"
                " WHERE job_id = ? AND attempt = ?",
                attempts,
            )

        with self.guarded():
            await self._writer.run(work)

    async def get(self, job_id: str) -> JobRecord | None:
        canonical = canonical_uuid(job_id)
        if canonical is None:
            return None  # no row can have an id that is not a UUID

        def work(conn: sqlite3.Connection) -> JobRecord | None:
            row = conn.execute(f"SELECT {COLUMNS} FROM jobs WHERE id = ?", (canonical,)).fetchone()  # noqa: S608 — COLUMNS is a constant
            if row is None:
                return None
            history = tuple(
                AttemptRecord(a[0], parse_iso(a[1]), parse_iso(a[2]) if a[2] else None, a[3], a[4])
                for a in conn.execute(
                    "SELECT attempt, started_at, finished_at, outcome, error FROM job_attempts"
                    " WHERE job_id = ? ORDER BY attempt",
                    (canonical,),
                )
            )
            return _record(row, history)

        with self.guarded():
            return await self._reader.read(work)

    async def recent(self, limit: int) -> list[JobRecord]:
        return (await self.page(JobFilter(), limit=limit, cursor=None)).items

    async def page(self, filter: JobFilter, *, limit: int, cursor: str | None) -> JobPage:
        where = sqlite_where(filter, cursor)
        sql = f"SELECT {COLUMNS} FROM jobs {where.sql()} ORDER BY created_at DESC, id DESC LIMIT ?"  # noqa: S608 — constant columns and clauses; values are "?" parameters

        def work(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
            sqlite_functions(conn)
            return conn.execute(sql, [*where.args, limit + 1]).fetchall()

        with self.guarded():
            rows = await self._reader.read(work)
        items = [_record(row) for row in rows[:limit]]
        more = len(rows) > limit
        return JobPage(
            items, encode_cursor(rows[limit - 1][5], rows[limit - 1][0]) if more else None
        )

    async def count(self) -> int:
        def work(conn: sqlite3.Connection) -> int:
            return int(conn.execute("SELECT COUNT(*) FROM jobs").fetchone()[0])

        with self.guarded():
            return await self._reader.read(work)

    async def accept(self, pendings: Sequence[Pending]) -> None:
        rows = pending_rows(pendings)  # refuses what no engine stores, before writing
        if not rows:
            return
        jobs = [
            (
                r.job_id,
                r.type,
                r.payload,
                r.metadata,
                iso(r.created_at),
                iso(r.at),
                r.run,
                r.event_id,
                r.correlation_id,
            )
            for r in rows
        ]

        def work(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO jobs (id, type, status, payload, metadata, created_at, updated_at,"
                " attempts, run, event_id, correlation_id)"
                " VALUES (?, ?, 'PENDING', ?, ?, ?, ?, 0, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET status = 'PENDING',"
                " updated_at = excluded.updated_at, run = excluded.run,"
                " event_id = excluded.event_id, correlation_id = excluded.correlation_id,"
                " last_error = NULL, completed_at = NULL"
                " WHERE jobs.status = 'FAILED' AND jobs.run < excluded.run",
                jobs,
            )

        with self.guarded():
            await self._writer.run(work)

    async def cancel(self, job_id: str, at: datetime) -> tuple[str, bool] | None:
        canonical = canonical_uuid(job_id)
        if canonical is None:
            return None
        moment = iso(time_value(at, "cancelledAt"))

        def work(conn: sqlite3.Connection) -> tuple[str, bool] | None:
            row = conn.execute(
                "SELECT status, attempts FROM jobs WHERE id = ?", (canonical,)
            ).fetchone()
            if row is None:
                return None
            status, attempts = row
            if status == JobStatus.EXECUTING:
                latest = conn.execute(
                    "SELECT finished_at FROM job_attempts WHERE job_id = ? AND attempt = ?",
                    (canonical, attempts),
                ).fetchone()
                waiting = latest is not None and latest[0] is not None
            else:
                waiting = status == JobStatus.PENDING
            if not waiting:
                return str(status), False
            conn.execute(
                "UPDATE jobs SET status = 'CANCELLED', updated_at = ?, completed_at = ?"
                " WHERE id = ?",
                (moment, moment, canonical),
            )
            return JobStatus.CANCELLED.value, True

        with self.guarded():
            return await self._writer.run(work)

    async def count_matching(self, filter: JobFilter) -> int:
        where = sqlite_where(filter, None)
        sql = f"SELECT COUNT(*) FROM jobs {where.sql()}"  # noqa: S608 — constant clauses; values are "?" parameters

        def work(conn: sqlite3.Connection) -> int:
            sqlite_functions(conn)
            return int(conn.execute(sql, where.args).fetchone()[0])

        with self.guarded():
            return await self._reader.read(work)

    async def expired(self, before: datetime, *, limit: int, after: str = "") -> list[str]:
        sql = (
            "SELECT id FROM jobs WHERE status IN (SELECT value FROM json_each(?))"
            " AND updated_at < ? AND id > ? ORDER BY id LIMIT ?"
        )
        args = [
            _TERMINAL_JSON,
            ms_text(before),
            (canonical_uuid(after) or "") if after else "",
            limit,
        ]

        def work(conn: sqlite3.Connection) -> list[str]:
            return [row[0] for row in conn.execute(sql, args)]

        with self.guarded():
            return await self._reader.read(work)

    async def remove(
        self, ids: Sequence[str], *, before: datetime, dry_run: bool = False
    ) -> tuple[int, int]:
        wanted = [c for c in map(canonical_uuid, ids) if c is not None]
        if not wanted:
            return 0, 0
        chosen = (
            "SELECT id FROM jobs WHERE id IN (SELECT value FROM json_each(?))"
            " AND status IN (SELECT value FROM json_each(?)) AND updated_at < ?"
        )
        args = [json.dumps(wanted), _TERMINAL_JSON, ms_text(before)]

        def work(conn: sqlite3.Connection) -> tuple[int, int]:
            gone = [row[0] for row in conn.execute(chosen, args)]
            if not gone:
                return 0, 0
            listed = (json.dumps(gone),)
            if dry_run:
                attempts = conn.execute(
                    "SELECT count(*) FROM job_attempts"
                    " WHERE job_id IN (SELECT value FROM json_each(?))",
                    listed,
                ).fetchone()[0]
                return len(gone), int(attempts)
            removed = conn.execute(
                "DELETE FROM job_attempts WHERE job_id IN (SELECT value FROM json_each(?))", listed
            ).rowcount
            conn.execute("DELETE FROM jobs WHERE id IN (SELECT value FROM json_each(?))", listed)
            return len(gone), removed

        with self.guarded():
            if dry_run:
                return await self._reader.read(work)
            return await self._writer.run(work)
