"""How an envelope maps to event-store columns (shared by the SQL adapters)."""

from __future__ import annotations

from typing import Any

from observatory.core.clock import iso, parse_iso


def job_id_of(envelope: dict[str, Any]) -> str | None:
    payload = envelope.get("payload")
    if isinstance(payload, dict) and isinstance(payload.get("id"), str):
        return str(payload["id"])
    return None


def occurred_text(envelope: dict[str, Any]) -> str:
    """occurredAt normalised to UTC milliseconds, so text order is time order."""
    return iso(parse_iso(str(envelope["occurredAt"])))
