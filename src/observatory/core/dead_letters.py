"""Parsing incoming bus messages, and the dead-letter documents for those that fail.

Shared by both consumers: a message is parsed and validated once; anything that is not
a valid envelope becomes a `dead-letter` document (raw text kept when it is not JSON)
published to jobs.failed.validation, and the original is rejected without requeue.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from observatory.__about__ import __version__
from observatory.core.bus.port import Outgoing
from observatory.core.bus.topology import DEAD_LETTER_KEY
from observatory.core.clock import Clock, iso
from observatory.core.contracts.envelope import correlation_of
from observatory.core.contracts.validator import validate_event
from observatory.core.errors import InvalidMessage

MAX_MESSAGE_BYTES = 1024 * 1024
RAW_TEXT_LIMIT = 64 * 1024
KEY_HEADER = "x-dead-letter-key"


@dataclass(frozen=True, slots=True)
class Rejected:
    """Why a message was refused, and what it was."""

    error: str
    original: Any
    correlation_id: str | None
    key: str
    queue: str = ""


def message_key(body: bytes, queue: str) -> str:
    """A stable identity for a message (its queue and bytes), so a redelivery is stored once."""
    return hashlib.sha256(queue.encode() + b"\0" + body).hexdigest()


def parse_envelope(body: bytes) -> dict[str, Any]:
    """The valid envelope in `body`, or InvalidMessage saying what is wrong."""
    if len(body) > MAX_MESSAGE_BYTES:
        raise InvalidMessage(f"message of {len(body)} bytes exceeds {MAX_MESSAGE_BYTES}")
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidMessage(f"not JSON: {exc}") from exc
    problems = validate_event(document)
    if problems:
        raise InvalidMessage("Envelope validation failed", problems)
    return dict(document)


def rejected(body: bytes, error: InvalidMessage, queue: str) -> Rejected:
    """What the dead letter of `body` says: the message as JSON when it is JSON that can
    be written again (orjson reads deeper nesting than it writes: a 300-deep array reads
    but does not write), else as text, at most RAW_TEXT_LIMIT bytes of it."""
    try:
        original: Any = orjson.loads(body) if len(body) <= MAX_MESSAGE_BYTES else None
        orjson.dumps(original)
    except (orjson.JSONDecodeError, TypeError):
        original = None
    if original is None:
        original = body[:RAW_TEXT_LIMIT].decode("utf-8", errors="replace")
    return Rejected(
        error.describe(), original, correlation_of(original), message_key(body, queue), queue
    )


def dead_letter(reject: Rejected, *, service: str, clock: Clock) -> Outgoing:
    """The jobs.failed.validation message for a rejected delivery."""
    document = {
        "original_event": reject.original,
        "validation_error": reject.error,
        "rejected_at": iso(clock.now()),
        "correlation_id": reject.correlation_id,
        "service": service,
        "service_version": __version__,
    }
    if reject.queue:  # where it was rejected, so it can be replayed there (core.replay)
        document["queue"] = reject.queue
    return Outgoing(DEAD_LETTER_KEY, orjson.dumps(document), {KEY_HEADER: reject.key})
