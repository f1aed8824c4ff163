"""Audit entries as the event stores keep them (shared by every adapter): the entry's
JSON as shown (AuditEntry.as_dict) and the canonical ids of the jobs it touched, checked
before anything is written."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from observatory.core.contracts.ids import canonical_uuid
from observatory.core.stores.records import AuditEntry
from observatory.core.stores.values import json_text, time_value, uuid_value


class AuditRow(NamedTuple):
    event_id: str
    occurred_at: datetime
    entry: dict[str, Any]
    text: str  # the entry's JSON
    job_ids: tuple[str, ...]


def audit_rows(entries: Sequence[AuditEntry]) -> list[AuditRow]:
    rows = []
    for e in entries:
        shown = e.as_dict()
        jobs = tuple(dict.fromkeys(c for c in map(canonical_uuid, e.job_ids) if c is not None))
        rows.append(
            AuditRow(
                uuid_value(e.event_id, "event id"),
                time_value(e.occurred_at, "occurredAt"),
                shown,
                json_text(shown, "audit entry", nul=True),
                jobs,
            )
        )
    return rows


def seq_cursor(cursor: str | None) -> int | None:
    """The position a SQL store's cursor names; ValueError for one it did not make."""
    if cursor is None:
        return None
    if not cursor.isdigit() or len(cursor) > 18:
        raise ValueError("not a cursor of this store")
    return int(cursor)
