"""How dead letters map to the event stores' columns and back (shared by every adapter).

A letter's document is kept as it came; its queue (topology name, namespace removed) and
reason (`validation_error`) are stored beside it so they can be filtered, with its state
(`records.DEAD_LETTER_STATES`).

A replayed letter turns replay_failed when a letter with its key (or its replay's key)
comes in that was rejected at or after the replay was sent (`state_at`, which the
replayer sets to the moment before publishing). One rejected before is not its replay
failing: it is the same dead letter delivered again (the broker redelivers what was not
acked), or another copy of the original message refused before the replay went out;
it is stored once, as always, and the letter stays replayed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from observatory.core.bus.topology import logical_name
from observatory.core.clock import iso, parse_iso
from observatory.core.contracts.times import as_utc
from observatory.core.stores.records import DeadLetter

NEW, REPLAYED, REPLAY_FAILED = "new", "replayed", "replay_failed"


def letter_queue(letter: DeadLetter) -> str | None:
    queue = letter.document.get("queue")
    return logical_name(queue) if isinstance(queue, str) else None


def letter_reason(letter: DeadLetter) -> str:
    reason = letter.document.get("validation_error")
    return reason if isinstance(reason, str) else ""


def rejected_time(document: dict[str, Any], default: datetime) -> datetime:
    """When a letter was rejected (`default`, the moment it arrived, when the document does
    not say in a form we read: a dead letter is never refused for its own garbage)."""
    try:
        return as_utc(parse_iso(str(document["rejected_at"]))) or default
    except (KeyError, ValueError):
        return default


def replay_failed(rejected: datetime, replayed_at: datetime | str | None) -> bool:
    """Whether a letter rejected at `rejected` is the failure of a replay sent at
    `replayed_at` (a letter's state_at; see the module docstring)."""
    if replayed_at is None:
        return True  # marked before state_at was kept: any later letter is its failure
    sent = replayed_at if isinstance(replayed_at, datetime) else as_utc(parse_iso(replayed_at))
    return sent is None or rejected >= sent


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
