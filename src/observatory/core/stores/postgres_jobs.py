"""Job store on PostgreSQL: batched upserts with unnest arrays; its search (keyset pages,
metadata through job_meta) is postgres_job_search.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar

from observatory.core.contracts.ids import canonical_uuid
from observatory.core.contracts.vocabulary import TERMINAL, JobStatus
from observatory.core.stores.job_rows import StartRow, end_row, pending_rows, start_rows
from observatory.core.stores.postgres_job_search import COLUMNS, PostgresJobSearch, job_record
from observatory.core.stores.postgres_pool import guarded
from observatory.core.stores.records import (
    AttemptEnd,
    AttemptRecord,
    AttemptStart,
    JobRecord,
    JobState,
    Pending,
)
from observatory.core.stores.values import time_value

DEP = "job_store"

# A batch's start in one statement (one round trip, atomic without BEGIN/COMMIT): the jobs
# upsert runs first (the other parts read its RETURNING), so rows are locked jobs first,
# then attempts, as in every other writer. The upsert locks each row and skips a CANCELLED
# one (re-checked after a concurrent cancel commits): only the returned jobs started, and
# only they get an attempt row. job_meta only for rows the upsert inserted: a row that
# existed (PENDING, or begun before) got its pairs when it was written first, and the
# upsert leaves its metadata as it was.
BEGIN_JOBS = """
WITH u AS (
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[],
                         $6::timestamptz[], $7::int[], $8::int[], $9::uuid[], $10::text[])
        AS u(id, type, payload, metadata, created_at, at, attempt, run, event_id, correlation_id)
), j AS (
    INSERT INTO jobs (id, type, status, payload, metadata, created_at, updated_at, attempts,
                      run, event_id, correlation_id)
    SELECT u.id, u.type, 'EXECUTING', u.payload::jsonb, u.metadata::jsonb, u.created_at, u.at,
           u.attempt, u.run, u.event_id, u.correlation_id
    FROM u
    ON CONFLICT (id) DO UPDATE SET
        status = 'EXECUTING', updated_at = EXCLUDED.updated_at, attempts = EXCLUDED.attempts,
        completed_at = NULL, event_id = EXCLUDED.event_id,
        last_error = CASE WHEN EXCLUDED.run > jobs.run THEN NULL ELSE jobs.last_error END,
        run = EXCLUDED.run
    WHERE jobs.status <> 'CANCELLED'
      AND NOT (jobs.status IN ('COMPLETED', 'FAILED') AND jobs.run >= EXCLUDED.run)
    RETURNING id, xmax = 0 AS inserted
), a AS (
    INSERT INTO job_attempts (job_id, attempt, started_at)
    SELECT u.id, u.attempt, u.at FROM u JOIN j ON j.id = u.id ORDER BY u.id
    ON CONFLICT (job_id, attempt) DO UPDATE SET
        started_at = EXCLUDED.started_at, finished_at = NULL, outcome = NULL, error = NULL
), m AS (
    INSERT INTO job_meta (meta_key, meta_value, meta_created_at, meta_job_id)
    SELECT e.key, e.value, u.created_at, u.id
    FROM u JOIN j ON j.id = u.id AND j.inserted, jsonb_each_text(u.metadata::jsonb) AS e
    WHERE u.metadata <> '{}' AND e.value IS NOT NULL AND length(e.key) <= 64
      AND length(e.value) <= 200
    ON CONFLICT DO NOTHING
)
SELECT id::text FROM j
"""
BEGIN_META = """
INSERT INTO job_meta (meta_key, meta_value, meta_created_at, meta_job_id)
SELECT e.key, e.value, u.created_at, u.id
FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS u(id, metadata, created_at),
     jsonb_each_text(u.metadata::jsonb) AS e
WHERE e.value IS NOT NULL AND length(e.key) <= 64 AND length(e.value) <= 200
ON CONFLICT DO NOTHING
"""
# A batch's ends in one statement: the jobs update first (the attempts update waits for
# its count, a one-time condition), so rows are locked jobs first, then attempts. A job
# that ends COMPLETED or FAILED gets its job_meta_final rows (migration jobs_0006) under
# its row lock; none for a job without metadata.
FINISH = """
WITH u AS (
    SELECT * FROM unnest($1::uuid[], $2::int[], $3::text[], $4::text[], $5::text[],
                         $6::timestamptz[])
        AS u(id, attempt, status, outcome, error, at)
), j AS (
    UPDATE jobs SET status = u.status, updated_at = u.at, last_error = u.error,
        completed_at = CASE WHEN u.status IN ('COMPLETED', 'FAILED') THEN u.at END
    FROM u WHERE jobs.id = u.id AND jobs.status <> 'CANCELLED'
    RETURNING jobs.id, jobs.created_at, jobs.metadata, jobs.status
), f AS (
    INSERT INTO job_meta_final (meta_key, meta_value, meta_status, meta_created_at, meta_job_id)
    SELECT e.key, e.value, j.status, j.created_at, j.id
    FROM j, jsonb_each_text(j.metadata) AS e
    WHERE j.status IN ('COMPLETED', 'FAILED') AND j.metadata <> '{}'
      AND e.value IS NOT NULL AND length(e.key) <= 64 AND length(e.value) <= 200
    ON CONFLICT DO NOTHING
)
UPDATE job_attempts SET finished_at = u.at, outcome = u.outcome, error = u.error
FROM u
WHERE job_attempts.job_id = u.id AND job_attempts.attempt = u.attempt
  AND (SELECT count(*) FROM j) >= 0
"""

# DO NOTHING takes no lock on a row that exists (the processor's, usually: the PENDING row
# comes late): a lock there would order against finish() and could deadlock with it.
ACCEPT_JOBS = """
INSERT INTO jobs (id, type, status, payload, metadata, created_at, updated_at, attempts, run,
                  event_id, correlation_id)
SELECT u.id, u.type, 'PENDING', u.payload::jsonb, u.metadata::jsonb, u.created_at, u.at,
       0, u.run, u.event_id, u.correlation_id
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[],
            $7::int[], $8::uuid[], $9::text[])
     AS u(id, type, payload, metadata, created_at, at, run, event_id, correlation_id)
ON CONFLICT (id) DO NOTHING
"""
# A rerun of a FAILED job (rare): its row moves to PENDING while still FAILED.
ACCEPT_RERUNS = """
UPDATE jobs SET status = 'PENDING', updated_at = u.at, run = u.run, event_id = u.event_id,
    correlation_id = u.correlation_id, last_error = NULL, completed_at = NULL
FROM unnest($1::uuid[], $2::timestamptz[], $3::int[], $4::uuid[], $5::text[])
     AS u(id, at, run, event_id, correlation_id)
WHERE jobs.id = u.id AND jobs.status = 'FAILED' AND jobs.run < u.run
"""
CANCEL_LATEST_FINISHED = """
SELECT finished_at IS NOT NULL FROM job_attempts WHERE job_id = $1::uuid AND attempt = $2
"""
# The job ends CANCELLED, and its job_meta_final rows are written (as in FINISH).
CANCEL = """
WITH j AS (
    UPDATE jobs SET status = 'CANCELLED', updated_at = $2, completed_at = $2
    WHERE id = $1::uuid
    RETURNING jobs.id, jobs.created_at, jobs.metadata
)
INSERT INTO job_meta_final (meta_key, meta_value, meta_status, meta_created_at, meta_job_id)
SELECT e.key, e.value, 'CANCELLED', j.created_at, j.id
FROM j, jsonb_each_text(j.metadata) AS e
WHERE e.value IS NOT NULL AND length(e.key) <= 64 AND length(e.value) <= 200
ON CONFLICT DO NOTHING
"""
REMOVE_META = """
DELETE FROM job_meta AS m USING jobs AS j, jsonb_each_text(j.metadata) AS e
WHERE j.id = ANY($1::uuid[]) AND m.meta_key = e.key AND m.meta_value = e.value
  AND m.meta_created_at = j.created_at AND m.meta_job_id = j.id
"""
# every final status named, so each is one descent of the key (not a walk of the value)
REMOVE_FINAL_META = """
DELETE FROM job_meta_final AS m USING jobs AS j, jsonb_each_text(j.metadata) AS e
WHERE j.id = ANY($1::uuid[]) AND m.meta_key = e.key AND m.meta_value = e.value
  AND m.meta_status IN ('COMPLETED', 'FAILED', 'CANCELLED')
  AND m.meta_created_at = j.created_at AND m.meta_job_id = j.id
"""


class PostgresJobStore(PostgresJobSearch):
    """JobStore over PostgreSQL (see module docstring); its search methods are
    PostgresJobSearch's (postgres_job_search.py)."""

    component = "jobs"
    dependency = DEP
    # No parallel workers: a page is a few index reads, and under a stream of searches
    # each one starting two workers costs more than it saves (benchmarks/README.md, job
    # search). Forcing custom plans was tried too and left out: it did not stop the
    # open-loop collapse of metadata searches and planning one took 15 ms.
    session: ClassVar[dict[str, str]] = {
        **PostgresJobSearch.session,
        "max_parallel_workers_per_gather": "0",
    }

    async def load(self, ids: Sequence[str]) -> dict[str, JobState]:
        wanted = [c for c in map(canonical_uuid, ids) if c is not None]
        if not wanted:
            return {}
        async with guarded(DEP):
            rows = await self.pool.fetch(
                "SELECT id::text AS id, status, attempts, run, event_id::text AS event_id"
                " FROM jobs WHERE id = ANY($1::uuid[])",
                wanted,
            )
        return {
            r["id"]: JobState(r["id"], r["status"], r["attempts"], r["run"], r["event_id"] or "")
            for r in rows
        }

    async def begin(self, starts: Sequence[AttemptStart]) -> list[str]:
        if not starts:
            return []
        # Sorted by id, so concurrent writers (accept, cancel) lock rows in one order.
        rows = sorted(start_rows(starts), key=lambda r: r.job_id)
        async with guarded(DEP):
            returned = await self.pool.fetch(BEGIN_JOBS, *_columns(rows))
        started = {r["id"] for r in returned}
        return [r.job_id for r in rows if r.job_id in started]

    async def finish(self, ends: Sequence[AttemptEnd]) -> None:
        if not ends:
            return
        # Sorted by id, like begin() and accept(): concurrent writers lock rows in one order.
        rows = sorted(map(end_row, ends), key=lambda r: (r.job_id, r.attempt))
        ids, attempts, statuses, outcomes, errors, at = (
            list(col) for col in zip(*rows, strict=True)
        )
        async with guarded(DEP):
            await self.pool.execute(FINISH, ids, attempts, statuses, outcomes, errors, at)

    async def get(self, job_id: str) -> JobRecord | None:
        canonical = canonical_uuid(job_id)
        if canonical is None:
            return None  # no row can have an id that is not a UUID
        async with guarded(DEP), self.pool.acquire() as conn:
            row = await conn.fetchrow(f"SELECT {COLUMNS} FROM jobs WHERE id = $1::uuid", canonical)  # noqa: S608 — COLUMNS is a constant
            if row is None:
                return None
            attempts = await conn.fetch(
                "SELECT attempt, started_at, finished_at, outcome, error FROM job_attempts"
                " WHERE job_id = $1::uuid ORDER BY attempt",
                canonical,
            )
        history = tuple(
            AttemptRecord(a["attempt"], a["started_at"], a["finished_at"], a["outcome"], a["error"])
            for a in attempts
        )
        return job_record(row, history)

    async def count(self) -> int:
        async with guarded(DEP):
            return int(await self.pool.fetchval("SELECT COUNT(*) FROM jobs"))

    async def accept(self, pendings: Sequence[Pending]) -> None:
        rows = pending_rows(pendings)  # sorted by id, refused values raise before writing
        if not rows:
            return
        cols = _columns(rows)
        jobs = (*cols[:6], cols[7], cols[8], cols[9])
        reruns = _columns([r for r in rows if r.run > 1])
        if not reruns and all(text == "{}" for text in cols[3]):  # the usual batch
            async with guarded(DEP):  # one statement: atomic alone, one round trip
                await self.pool.execute(ACCEPT_JOBS, *jobs)
            return
        async with guarded(DEP), self.pool.acquire() as conn, conn.transaction():
            await conn.execute(ACCEPT_JOBS, *jobs)
            if reruns:
                await conn.execute(
                    ACCEPT_RERUNS, reruns[0], reruns[5], reruns[7], reruns[8], reruns[9]
                )
            await _add_meta(conn, cols)  # a PENDING job is found by its metadata too

    async def cancel(self, job_id: str, at: datetime) -> tuple[str, bool] | None:
        canonical = canonical_uuid(job_id)
        if canonical is None:
            return None
        moment = time_value(at, "cancelledAt")
        async with guarded(DEP), self.pool.acquire() as conn, conn.transaction():
            # The row lock orders this against begin(): each statement after it sees what
            # a begin() that held the lock committed (READ COMMITTED takes a new snapshot).
            row = await conn.fetchrow(
                "SELECT status, attempts FROM jobs WHERE id = $1::uuid FOR UPDATE", canonical
            )
            if row is None:
                return None
            status = str(row["status"])
            if status == JobStatus.EXECUTING:
                waiting = bool(
                    await conn.fetchval(CANCEL_LATEST_FINISHED, canonical, row["attempts"])
                )
            else:
                waiting = status == JobStatus.PENDING
            if not waiting:
                return status, False
            await conn.execute(CANCEL, canonical, moment)
        return JobStatus.CANCELLED.value, True

    async def expired(self, before: datetime, *, limit: int, after: str = "") -> list[str]:
        start = canonical_uuid(after) if after else None
        async with guarded(DEP):
            rows = await self.pool.fetch(
                "SELECT id::text AS id FROM jobs WHERE status = ANY($1::text[])"
                " AND updated_at < $2 AND ($3::uuid IS NULL OR id > $3::uuid)"
                " ORDER BY id LIMIT $4",
                sorted(TERMINAL),
                before,
                start,
                limit,
            )
        return [row["id"] for row in rows]

    async def remove(
        self, ids: Sequence[str], *, before: datetime, dry_run: bool = False
    ) -> tuple[int, int]:
        wanted = [c for c in map(canonical_uuid, ids) if c is not None]
        if not wanted:
            return 0, 0
        chosen = (
            "SELECT id FROM jobs WHERE id = ANY($1::uuid[]) AND status = ANY($2::text[])"
            " AND updated_at < $3"
        )
        args = (wanted, sorted(TERMINAL), before)
        async with guarded(DEP), self.pool.acquire() as conn, conn.transaction():
            if dry_run:
                row = await conn.fetchrow(
                    f"SELECT (SELECT count(*) FROM ({chosen}) AS j) AS jobs,"  # noqa: S608 — constant SQL; values are $n parameters
                    f" (SELECT count(*) FROM job_attempts WHERE job_id IN ({chosen})) AS attempts",
                    *args,
                )
                return int(row["jobs"]), int(row["attempts"])
            jobs = await conn.fetch(f"{chosen} FOR UPDATE SKIP LOCKED", *args)
            gone = [row["id"] for row in jobs]
            await conn.execute(REMOVE_META, gone)
            await conn.execute(REMOVE_FINAL_META, gone)
            attempts = await conn.execute(
                "DELETE FROM job_attempts WHERE job_id = ANY($1::uuid[])", gone
            )
            await conn.execute("DELETE FROM jobs WHERE id = ANY($1::uuid[])", gone)
        return len(gone), int(attempts.split()[-1])


def _columns(rows: Sequence[StartRow]) -> list[list[Any]]:
    """Columns of the unnest arrays, in StartRow's field order."""
    return [list(col) for col in zip(*rows, strict=True)]


async def _add_meta(conn: Any, cols: list[list[Any]]) -> None:
    """The job_meta rows of these jobs (StartRow columns); most jobs carry no metadata,
    so no round trip for them."""
    meta = [i for i, text in enumerate(cols[3]) if text != "{}"]
    if meta:
        await conn.execute(
            BEGIN_META, *([col[i] for i in meta] for col in (cols[0], cols[3], cols[4]))
        )
