"""What replaying a dead letter sends, checked like any new message (SPEC §13).

A letter's original message is sent again to the queue it was rejected from, through the
routing key bound to that queue (core.bus.topology). It must pass what the consumer
checks first: a JSON envelope valid against the contracts, of the event type that queue
carries. A message that fails is not sent: `replay_message` raises InvalidMessage with the
problems, and the letter is marked replay_failed.

The bytes sent are the original's JSON as orjson writes it, which for messages our own
services published are the original bytes: dead-lettered again, the message gets the
letter's own key. `replay_key` is the key it would get in any case, which the event store
keeps so a failing replay flips its letter to replay_failed (EventStore.add_dead_letters).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from observatory.core.bus.port import Outgoing
from observatory.core.bus.topology import DEAD_LETTERS, JOBS_CREATED, logical_name, routing_key_for
from observatory.core.contracts.validator import Violation
from observatory.core.dead_letters import message_key, parse_envelope
from observatory.core.errors import InvalidMessage

SERVICE_QUEUES = {"processor": JOBS_CREATED}
"""Where letters stored before their queue was kept came from, by the service that
rejected them (the metrics engine reads several queues: such letters cannot be replayed)."""


@dataclass(frozen=True, slots=True)
class Replay:
    message: Outgoing
    replay_key: str


def replay_message(letter: dict[str, Any]) -> Replay:
    """The message to send for `letter` (as EventStore.dead_letter shows it), or
    InvalidMessage naming why it cannot be sent."""
    bus_queue = (
        letter.get("busQueue")
        or letter.get("queue")
        or SERVICE_QUEUES.get(str(letter.get("service")))
    )
    queue = logical_name(bus_queue) if isinstance(bus_queue, str) else None
    if queue is None or queue == DEAD_LETTERS:
        raise InvalidMessage(
            "Replay refused", [Violation("$.queue", "the queue it came from is not known")]
        )
    original = letter.get("original_event")
    body = original.encode() if isinstance(original, str) else orjson.dumps(original)
    envelope = parse_envelope(body)  # InvalidMessage with the problems, as a consumer would
    routing_key = routing_key_for(queue)
    if routing_key is None or envelope["eventType"] != routing_key:
        raise InvalidMessage(
            "Replay refused",
            [
                Violation(
                    "$.eventType",
                    f"event {envelope['eventType']} does not belong on queue {queue}",
                )
            ],
        )
    message = Outgoing(routing_key, body, message_id=str(envelope["eventId"]))
    return Replay(message, message_key(body, str(bus_queue)))
