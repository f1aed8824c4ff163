"""Event store on PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from observatory.core.clock import SystemClock, parse_iso
from observatory.core.contracts.ids import canonical_uuid
from observatory.core.contracts.times import as_utc
from observatory.core.stores.event_rows import EventRow, event_row, stored_envelope
from observatory.core.stores.postgres_base import PostgresAdapter
from observatory.core.stores.postgres_pool import guarded
from observatory.core.stores.records import DeadLetter

DEP = "event_store"
INSERT = """
INSERT INTO job_events (event_id, job_id, event_type, occurred_at, envelope)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $5::json[])
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id::text
"""


class PostgresEventStore(PostgresAdapter):
    """EventStore over PostgreSQL (a database of its own or the job store's)."""

    component = "events"
    dependency = DEP

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
                "INSERT INTO dead_letters (key, rejected_at, document)"
                " SELECT * FROM unnest($1::text[], $2::timestamptz[], $3::json[])"
                " ON CONFLICT (key) DO NOTHING RETURNING seq",
                [d.key for d in letters],
                [_when(d.document, now) for d in letters],
                [d.document for d in letters],
            )
        return len(rows)

    async def dead_letters(self, limit: int) -> list[dict[str, Any]]:
        async with guarded(DEP):
            rows = await self.pool.fetch(
                "SELECT seq, document FROM dead_letters ORDER BY seq DESC LIMIT $1", limit
            )
        return [{"id": str(row["seq"]), **row["document"]} for row in rows]

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


def _when(document: dict[str, Any], default: datetime) -> datetime:
    """When a letter was rejected; a dead letter is never refused for its own garbage."""
    try:
        return as_utc(parse_iso(str(document["rejected_at"]))) or default
    except (KeyError, ValueError):
        return default
