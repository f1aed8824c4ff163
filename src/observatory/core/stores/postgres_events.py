"""Event store on PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from observatory.core.clock import SystemClock
from observatory.core.contracts.ids import canonical_uuid
from observatory.core.stores.audit_rows import audit_rows, seq_cursor
from observatory.core.stores.dead_letter_rows import (
    letter_queue,
    letter_reason,
    rejected_time,
    shown,
)
from observatory.core.stores.event_rows import EventRow, event_row, stored_envelope
from observatory.core.stores.news import EventNews
from observatory.core.stores.postgres_base import PostgresAdapter
from observatory.core.stores.postgres_news import PostgresNews, news_channel
from observatory.core.stores.postgres_pool import guarded
from observatory.core.stores.records import AuditEntry, AuditPage, DeadLetter, DeadLetterQuery
from observatory.core.stores.values import time_value

DEP = "event_store"
# The insert announces itself on the namespace's channel (postgres_news): PostgreSQL
# delivers a NOTIFY at COMMIT and only then, once per transaction for one channel and
# payload however many rows called it, and not at all when nothing new was stored.
INSERT = """
WITH added AS (
    INSERT INTO job_events (event_id, job_id, event_type, occurred_at, envelope)
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::json[])
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id::text AS event_id
)
SELECT event_id, pg_notify($6, '') FROM added
"""


class PostgresEventStore(PostgresAdapter):
    """EventStore over PostgreSQL (a database of its own or the job store's)."""

    component = "events"
    dependency = DEP

    def news_source(self, *, shared: bool) -> EventNews:
        """A listener on this namespace's channel (each writer's insert notifies it)."""
        return PostgresNews(self._url, namespace=self._namespace)

    async def insert(self, envelopes: Sequence[dict[str, Any]]) -> list[str]:
        if not envelopes:
            return []
        # Every row checked before anything is sent; the first copy of an event id wins.
        first: dict[str, tuple[EventRow, dict[str, Any]]] = {}
        for envelope in envelopes:
            row = event_row(envelope)
            first.setdefault(row.event_id, (row, stored_envelope(envelope, row)))
        unique = list(first.values())
        async with guarded(DEP):
            rows = await self.pool.fetch(
                INSERT,
                [row.event_id for row, _ in unique],
                [row.job_id for row, _ in unique],
                [row.event_type for row, _ in unique],
                [row.occurred_at for row, _ in unique],
                [e for _, e in unique],
                news_channel(self._namespace),
            )
        return [row[0] for row in rows]

    async def for_job(self, job_id: str, *, limit: int, newest_first: bool) -> list[dict[str, Any]]:
        canonical = canonical_uuid(job_id)
        if canonical is None:
            return []  # events are filed under canonical job ids only
        order = "DESC" if newest_first else "ASC"
        sql = (
            "SELECT envelope FROM job_events WHERE job_id = $1"  # noqa: S608 — only ASC/DESC is interpolated
            f" ORDER BY occurred_at {order}, seq {order} LIMIT $2"
        )
        async with guarded(DEP):
            rows = await self.pool.fetch(sql, canonical, limit)
        return [row[0] for row in rows]

    async def recent(self, limit: int) -> list[dict[str, Any]]:
        async with guarded(DEP):
            rows = await self.pool.fetch(
                "SELECT envelope FROM job_events ORDER BY occurred_at DESC, seq DESC LIMIT $1",
                limit,
            )
        return [row[0] for row in rows]

    async def add_dead_letters(self, letters: Sequence[DeadLetter]) -> int:
        if not letters:
            return 0
        now = SystemClock().now()
        async with guarded(DEP):
            rows = await self.pool.fetch(
                ADD_LETTERS,
                [d.key for d in letters],
                [rejected_time(d.document, now) for d in letters],
                [d.document for d in letters],
                [letter_queue(d) for d in letters],
                [letter_reason(d) for d in letters],
                now,
            )
        return len(rows)

    async def dead_letters(self, limit: int) -> list[dict[str, Any]]:
        return await self.find_dead_letters(DeadLetterQuery(), limit)

    async def find_dead_letters(self, query: DeadLetterQuery, limit: int) -> list[dict[str, Any]]:
        clauses: list[str] = []
        args: list[Any] = []

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        if query.state:
            clauses.append(f"state = {arg(query.state)}")
        if query.queue:
            clauses.append(f"queue = {arg(query.queue)}")
        if query.reason:
            clauses.append(f"position(lower({arg(query.reason)}) in lower(reason)) > 0")
        if query.since:
            clauses.append(f"rejected_at >= {arg(query.since)}")
        if query.until:
            clauses.append(f"rejected_at < {arg(query.until)}")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        last = arg(limit)
        sql = f"SELECT {LETTER_COLUMNS} FROM dead_letters {where} ORDER BY seq DESC LIMIT {last}"  # noqa: S608 — constant columns and clauses; values are $n parameters
        async with guarded(DEP):
            rows = await self.pool.fetch(sql, *args)
        return [_letter(row) for row in rows]

    async def dead_letter(self, letter_id: str) -> dict[str, Any] | None:
        if not letter_id.isdigit() or len(letter_id) > 18:
            return None
        async with guarded(DEP):
            row = await self.pool.fetchrow(
                f"SELECT {LETTER_COLUMNS} FROM dead_letters WHERE seq = $1",  # noqa: S608 — constant columns
                int(letter_id),
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
        async with guarded(DEP):
            await self.pool.execute(
                "UPDATE dead_letters SET state = $1, state_at = $2,"
                " replay_key = coalesce($3, replay_key), replay_error = $4 WHERE seq = $5",
                state,
                time_value(at, "stateAt"),
                replay_key,
                error,
                int(letter_id),
            )

    async def add_audit(self, entries: Sequence[AuditEntry]) -> None:
        rows = audit_rows(entries)  # every entry checked before anything is written
        if not rows:
            return
        links = [(row.event_id, job_id) for row in rows for job_id in row.job_ids]
        async with guarded(DEP):
            await self.pool.execute(
                ADD_AUDIT,
                [r.event_id for r in rows],
                [r.occurred_at for r in rows],
                [r.entry for r in rows],
                [event_id for event_id, _ in links],
                [job_id for _, job_id in links],
            )

    async def audit(self, limit: int, cursor: str | None) -> AuditPage:
        before = seq_cursor(cursor)
        async with guarded(DEP):
            if before is None:
                rows = await self.pool.fetch(
                    "SELECT seq, entry FROM audit_events ORDER BY seq DESC LIMIT $1", limit + 1
                )
            else:
                rows = await self.pool.fetch(
                    "SELECT seq, entry FROM audit_events WHERE seq < $1 ORDER BY seq DESC LIMIT $2",
                    before,
                    limit + 1,
                )
        more = len(rows) > limit
        return AuditPage(
            [r["entry"] for r in rows[:limit]], str(rows[limit - 1]["seq"]) if more else None
        )

    async def audit_for_job(self, job_id: str, limit: int) -> list[dict[str, Any]]:
        canonical = canonical_uuid(job_id)
        if canonical is None:
            return []
        async with guarded(DEP):
            rows = await self.pool.fetch(
                "SELECT a.entry FROM audit_jobs j JOIN audit_events a ON a.seq = j.seq"
                " WHERE j.job_id = $1 ORDER BY j.seq LIMIT $2",
                canonical,
                limit,
            )
        return [r["entry"] for r in rows]

    async def remove_for_jobs(
        self, job_ids: Sequence[str], *, before: datetime, dry_run: bool = False
    ) -> int:
        wanted = [c for c in map(canonical_uuid, job_ids) if c is not None]
        if not wanted:
            return 0
        where = "WHERE job_id = ANY($1::text[]) AND occurred_at < $2"
        count = f"SELECT count(*) FROM job_events {where}"  # noqa: S608 — constant SQL
        delete = f"DELETE FROM job_events {where}"  # noqa: S608 — constant SQL
        async with guarded(DEP):
            if dry_run:
                return int(await self.pool.fetchval(count, wanted, before))
            status = await self.pool.execute(delete, wanted, before)
        return int(status.split()[-1])

    async def remove_dead_letters(
        self, before: datetime, *, limit: int, dry_run: bool = False
    ) -> int:
        async with guarded(DEP):
            if dry_run:
                return int(
                    await self.pool.fetchval(
                        "SELECT count(*) FROM dead_letters WHERE rejected_at < $1", before
                    )
                )
            status = await self.pool.execute(
                "DELETE FROM dead_letters WHERE seq IN (SELECT seq FROM dead_letters"
                " WHERE rejected_at < $1 ORDER BY seq LIMIT $2)",
                before,
                limit,
            )
        return int(status.split()[-1])

    async def remove_audit(self, before: datetime, *, limit: int, dry_run: bool = False) -> int:
        async with guarded(DEP):
            if dry_run:
                return int(
                    await self.pool.fetchval(
                        "SELECT count(*) FROM audit_events WHERE occurred_at < $1", before
                    )
                )
            return int(await self.pool.fetchval(REMOVE_AUDIT, before, limit))


# One statement a batch: the oldest entries before the bound and their links to jobs.
REMOVE_AUDIT = """
WITH old AS (
    SELECT seq FROM audit_events WHERE occurred_at < $1 ORDER BY seq LIMIT $2
), links AS (
    DELETE FROM audit_jobs WHERE seq IN (SELECT seq FROM old)
), gone AS (
    DELETE FROM audit_events WHERE seq IN (SELECT seq FROM old) RETURNING 1
)
SELECT count(*) FROM gone
"""


# One round trip for a batch of entries and the jobs each touched (a repeat is stored once).
ADD_AUDIT = """
WITH added AS (
    INSERT INTO audit_events (event_id, occurred_at, entry)
    SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::json[])
    ON CONFLICT (event_id) DO NOTHING
    RETURNING seq, event_id
)
INSERT INTO audit_jobs (job_id, seq)
SELECT j.job_id, added.seq
FROM added JOIN unnest($4::uuid[], $5::text[]) AS j(event_id, job_id)
     ON j.event_id = added.event_id
ON CONFLICT DO NOTHING
"""
LETTER_COLUMNS = "seq, document, state, queue, reason, replay_error, state_at"
# A letter whose key is a replayed letter's (or its replay's), rejected at or after the
# replay was sent, flips that one to replay_failed (dead_letter_rows.py); the others are
# stored once.
ADD_LETTERS = """
WITH incoming AS (
    SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::json[], $4::text[], $5::text[])
        AS u(key, rejected_at, document, queue, reason)
), flipped AS (
    UPDATE dead_letters d SET state = 'replay_failed', replay_error = i.reason, state_at = $6
    FROM incoming i
    WHERE (d.key = i.key OR d.replay_key = i.key) AND d.state = 'replayed'
      AND (d.state_at IS NULL OR i.rejected_at >= d.state_at)
    RETURNING i.key
)
INSERT INTO dead_letters (key, rejected_at, document, queue, reason)
SELECT key, rejected_at, document, queue, reason FROM incoming
WHERE key NOT IN (SELECT key FROM flipped)
ON CONFLICT (key) DO NOTHING
RETURNING seq
"""


def _letter(row: Any) -> dict[str, Any]:
    return shown(
        str(row["seq"]),
        row["document"],
        state=row["state"],
        queue=row["queue"],
        reason=row["reason"],
        replay_error=row["replay_error"],
        state_at=row["state_at"],
    )
