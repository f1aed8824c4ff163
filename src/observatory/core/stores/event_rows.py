"""How an envelope maps to event-store columns, checked (shared by every event store).

Each adapter builds its row here, so an envelope is stored by every engine or refused
by every engine with the same `InvalidMessage`, before anything is written (see `values`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from observatory.core.clock import parse_iso
from observatory.core.contracts.ids import canonical_uuid
from observatory.core.stores.values import refused, text_value, time_value, uuid_value


class EventRow(NamedTuple):
    event_id: str  # canonical
    job_id: str | None  # canonical, None when the payload names no job
    event_type: str
    occurred_at: datetime  # UTC


def job_id_of(envelope: dict[str, Any]) -> str | None:
    """The job an envelope is about, canonical, so any spelling finds its events."""
    payload = envelope.get("payload")
    if isinstance(payload, dict):
        return canonical_uuid(payload.get("id"))
    return None


def event_row(envelope: object) -> EventRow:
    """Raises InvalidMessage naming the first field no engine could store."""
    if not isinstance(envelope, dict):
        raise refused("envelope", "is not an object")
    occurred = envelope.get("occurredAt")
    try:
        moment: object = parse_iso(occurred) if isinstance(occurred, str) else None
    except ValueError:
        moment = None
    return EventRow(
        event_id=uuid_value(envelope.get("eventId"), "eventId"),
        job_id=job_id_of(envelope),
        event_type=text_value(envelope.get("eventType"), "eventType"),
        occurred_at=time_value(moment, "occurredAt"),
    )


def stored_envelope(envelope: dict[str, Any], row: EventRow) -> dict[str, Any]:
    """The envelope as every engine keeps it: eventId and payload.id in canonical form.

    Usually the envelope itself; a copy (same field order) when an id was spelled
    otherwise, so each engine finds, deduplicates and returns the same ids."""
    payload = envelope.get("payload")
    if not isinstance(payload, dict) or payload.get("id") == row.job_id or row.job_id is None:
        payload = None  # nothing to rewrite in the payload
    if envelope["eventId"] == row.event_id and payload is None:
        return envelope
    stored = {**envelope, "eventId": row.event_id}
    if payload is not None:
        stored["payload"] = {**payload, "id": row.job_id}
    return stored
