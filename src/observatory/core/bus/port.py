"""The bus port: what every bus adapter offers, and what a consumer handler sees."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol


class Outcome(enum.Enum):
    """What to do with a delivery once it has been handled."""

    ACK = "ack"  # effects are durable: remove the message
    REJECT = "reject"  # poison (already dead-lettered by the handler): drop, never requeue
    RETRY = "retry"  # a dependency failed: give it back to the queue after a back-off


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to publish: routed through the exchange by `routing_key`. `message_id`
    (the event's id, when it has one) becomes the AMQP message-id."""

    routing_key: str
    body: bytes
    headers: Mapping[str, Any] = field(default_factory=dict)
    message_id: str | None = None


class Delivery(Protocol):
    """One received message. Settled exactly once through `settle`."""

    body: bytes
    headers: Mapping[str, Any]
    queue: str
    redelivered: bool

    async def settle(self, outcome: Outcome) -> None:
        """Ack, reject (drop) or requeue the message on the broker."""


def queue_names(queues: str | Sequence[str]) -> tuple[str, ...]:
    """`consume` takes one queue name or several: always a tuple of names."""
    return (queues,) if isinstance(queues, str) else tuple(queues)


Settlement = Outcome | Awaitable[Outcome]
"""What a handler says of one delivery: its outcome now, or one that comes later (a job
whose work is still running). A later outcome holds only its own delivery, never the
batch it came in nor anyone else's acknowledgement."""

BatchHandler = Callable[[Sequence[Delivery]], Awaitable[Sequence[Settlement]]]
"""Handles a batch of deliveries and returns one Settlement per delivery, in order.

Raising DependencyDown means "the whole batch must be retried later"; raising anything
else means one of its items is bad (see core.bus.isolation)."""


class Bus(Protocol):
    """A durable message bus with publisher confirms.

    `publish_many` returns only when every message is durable on the bus (a confirm per
    message) and raises DependencyDown when the bus does not answer in time.
    """

    async def open(self) -> None:
        """Open connections and declare the topology. Raises DependencyDown."""

    async def publish_many(self, messages: Sequence[Outgoing]) -> None:
        """Route and durably store every message, or raise DependencyDown."""

    async def schedule(
        self, queue: str, body: bytes, headers: Mapping[str, Any], delay: float
    ) -> None:
        """Deliver `body` straight to `queue` after `delay` seconds (durably, confirmed)."""

    async def consume(
        self, queues: str | Sequence[str], handler: BatchHandler, *, prefetch: int, batch_size: int
    ) -> None:
        """Start consuming `queues` (one name or several); batches of at most `batch_size`
        go to `handler`, each delivery naming its queue; at most about `prefetch`
        deliveries are in flight. Returns once consuming."""

    async def queue_depth(self, queue: str) -> int:
        """Messages ready for delivery in `queue`. Raises DependencyDown."""

    async def ping(self) -> bool:
        """True when the bus answers now."""

    async def close(self) -> None:
        """Stop consuming, wait for in-flight handlers, close connections."""
