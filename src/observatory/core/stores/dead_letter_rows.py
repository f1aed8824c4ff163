"""How dead letters map to the event stores' columns and back (shared by every adapter).

A letter's document is kept as it came; its queue (topology name, namespace removed) and
reason (`validation_error`) are stored beside it so they can be filtered, with its state
(`records.DEAD_LETTER_STATES`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from observatory.core.bus.topology import logical_name
from observatory.core.clock import iso
from observatory.core.stores.records import DeadLetter

NEW, REPLAYED, REPLAY_FAILED = "new", "replayed", "replay_failed"


def letter_queue(letter: DeadLetter) -> str | None:
    queue = letter.document.get("queue")
    return logical_name(queue) if isinstance(queue, str) else None


def letter_reason(letter: DeadLetter) -> str:
    reason = letter.document.get("validation_error")
    return reason if isinstance(reason, str) else ""


def shown(
    letter_id: str,
    document: dict[str, Any],
    *,
    state: str,
    queue: str | None,
    reason: str,
    replay_error: str | None,
    state_at: datetime | str | None,
) -> dict[str, Any]:
    """A letter as the read model lists it: its document, id, state, queue (topology name;
    the name on the bus, when the document has one, as `busQueue`) and reason."""
    shown: dict[str, Any] = {**document}
    if isinstance(document.get("queue"), str):
        shown["busQueue"] = shown.pop("queue")
    shown.update({"id": letter_id, "state": state, "queue": queue, "reason": reason})
    if replay_error is not None:
        shown["replayError"] = replay_error
    if state_at is not None:
        shown["stateAt"] = iso(state_at) if isinstance(state_at, datetime) else state_at
    return shown
