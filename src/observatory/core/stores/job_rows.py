"""How attempt records map to job-store columns, checked (shared by the SQL adapters).

Both adapters build their rows here, so a value is stored by both engines or refused by
both with the same `InvalidMessage`, before anything is written (see `values`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from observatory.core.errors import InvalidMessage
from observatory.core.stores.records import AttemptEnd, AttemptStart, Pending
from observatory.core.stores.values import (
    int32_value,
    json_text,
    optional_text,
    text_value,
    time_value,
    uuid_value,
)


class StartRow(NamedTuple):
    job_id: str
    type: str
    payload: str  # JSON text
    metadata: str  # JSON text
    created_at: datetime  # UTC
    at: datetime  # UTC
    attempt: int
    run: int
    event_id: str
    correlation_id: str


class EndRow(NamedTuple):
    job_id: str
    attempt: int
    status: str
    outcome: str
    error: str | None
    at: datetime  # UTC


def start_row(start: AttemptStart) -> StartRow:
    """Raises InvalidMessage naming the first field no engine could store."""
    return StartRow(
        job_id=uuid_value(start.job_id, "job id"),
        type=text_value(start.type, "type"),
        # jsonb holds no NUL: refused here so SQLite gives the same answer.
        payload=json_text(start.payload, "payload", nul=False),
        metadata=json_text(start.metadata, "metadata", nul=False),
        created_at=time_value(start.created_at, "createdAt"),
        at=time_value(start.at, "startedAt"),
        attempt=int32_value(start.attempt, "attempt"),
        run=int32_value(start.run, "run"),
        event_id=uuid_value(start.event_id, "event id"),
        correlation_id=text_value(start.correlation_id, "correlation id"),
    )


def end_row(end: AttemptEnd) -> EndRow:
    """Raises InvalidMessage naming the first field no engine could store."""
    return EndRow(
        job_id=uuid_value(end.job_id, "job id"),
        attempt=int32_value(end.attempt, "attempt"),
        status=text_value(end.status, "status"),
        outcome=text_value(end.outcome, "outcome"),
        error=optional_text(end.error, "error"),
        at=time_value(end.at, "finishedAt"),
    )


def start_rows(starts: Sequence[AttemptStart]) -> list[StartRow]:
    """Checked rows of one begin(); a job twice in one call is refused on every engine
    (PostgreSQL cannot upsert one row twice in a statement, SQLite would)."""
    rows = [start_row(s) for s in starts]
    if len({row.job_id for row in rows}) < len(rows):
        raise InvalidMessage("job id appears twice in one begin()")
    return rows


def pending_rows(pendings: Sequence[Pending]) -> list[StartRow]:
    """Checked rows of one accept() (attempt 0: nothing started), one per job, sorted by id
    so concurrent writers lock rows in one order. A job twice in one call keeps its
    highest run (the first of equal runs: a repeated submission changes nothing)."""
    rows: dict[str, StartRow] = {}
    for p in pendings:
        row = StartRow(
            job_id=uuid_value(p.job_id, "job id"),
            type=text_value(p.type, "type"),
            payload=json_text(p.payload, "payload", nul=False),
            metadata=json_text(p.metadata, "metadata", nul=False),
            created_at=time_value(p.created_at, "createdAt"),
            at=time_value(p.at, "acceptedAt"),
            attempt=0,
            run=int32_value(p.run, "run"),
            event_id=uuid_value(p.event_id, "event id"),
            correlation_id=text_value(p.correlation_id, "correlation id"),
        )
        kept = rows.get(row.job_id)
        if kept is None or row.run > kept.run:
            rows[row.job_id] = row
    return [rows[key] for key in sorted(rows)]
