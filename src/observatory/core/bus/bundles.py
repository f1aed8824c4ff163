"""Event bundles: the lifecycle events of one publish, one AMQP message per queue.

An option of the RabbitMQ bus (`ODTO_EVENT_BUNDLES`, off by default: it changes what a
lifecycle queue's messages look like, see docs/bundles.md). The processor publishes a
batch's job.validated (then job.executed, then the terminal events) in one confirmed
round; with bundles on, the events of one round that go to one queue travel as one
message, so the broker stores, routes, delivers and is acked for one message instead of
one per job, and the metrics engine reads one delivery. Each event inside is unchanged:
the bytes of its envelope, one per line (orjson never writes a raw newline), and its own
`traceparent` in a header listing the parts' trace contexts in order.

A consumer splits a bundle back into one delivery per event (`split`), so a handler sees
what it would have seen without bundles and judges each event alone: an invalid one is
dead-lettered alone. The message is settled once every part is: any part to retry
requeues it all (every consumer is idempotent by event id, so the parts already done
change nothing the second time), else it is acked (a rejected part was dead-lettered by
its handler), or rejected when every part was. Every consumer splits, whether or not its
own process bundles, so a mixed deployment reads both forms.

Not bundled: job.created (the processor's work queue holds one job per message, which its
prefetch and per-job settlement count on), dead letters, messages with headers other than
`traceparent` (a `tracestate`, an attempt count) and anything that would exceed
MAX_PARTS or MAX_BUNDLE_BYTES.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from observatory.core.bus.port import Delivery, Outcome, Outgoing
from observatory.core.bus.topology import Names
from observatory.core.contracts.vocabulary import EventType

PARTS_HEADER = "x-bundle-parts"
"""A bundle's number of parts (decimal text): what marks a message as a bundle."""
TRACEPARENTS_HEADER = "x-bundle-traceparents"
"""The parts' `traceparent`s in order, comma separated (empty for a part without one)."""
SEPARATOR = b"\n"
MAX_PARTS = 500
MAX_BUNDLE_BYTES = 512 * 1024
PREFETCH = 8
"""Messages a consumer holds from a queue of bundles (`prefetches`)."""

BUNDLED_KEYS: frozenset[str] = frozenset(
    {
        EventType.VALIDATED,
        EventType.EXECUTED,
        EventType.COMPLETED,
        EventType.FAILED,
        EventType.CANCELLED,
    }
)
"""The routing keys whose messages may travel in bundles: the events only the metrics
engine reads, one queue each."""

_OWN_HEADERS = (PARTS_HEADER, TRACEPARENTS_HEADER)


def queues(names: Names) -> frozenset[str]:
    """The queues (under `names`' namespace) that receive bundles."""
    return frozenset(q for key in BUNDLED_KEYS for q in names.bound_queues(key))


def prefetches(names: Sequence[str], prefetch: int, bundled: Collection[str]) -> dict[str, int]:
    """Each of a consumer's queues' share of `prefetch`: an equal one, except that a queue
    of bundles (`bundled`) takes PREFETCH messages (each holds many events) and the others
    share the rest. Without that, a consumer reading job.created copies beside bundles of
    later events (the metrics engine) would hold far more of the later events than of the
    job.created they wait for, and put most of them back."""
    plain = [n for n in names if n not in bundled]
    share = max(1, prefetch // max(1, len(plain)))
    return {n: PREFETCH if n in bundled else share for n in names}


def _bundleable(message: Outgoing, keys: Collection[str]) -> bool:
    if message.routing_key not in keys or SEPARATOR in message.body:
        return False
    headers = message.headers
    if not headers:
        return True
    if len(headers) > 1:
        return False
    parent = headers.get("traceparent")
    return isinstance(parent, str) and "," not in parent


class _Group:
    """Messages of one routing key becoming one bundle."""

    __slots__ = ("messages", "size")

    def __init__(self) -> None:
        self.messages: list[Outgoing] = []
        self.size = 0

    def room_for(self, message: Outgoing) -> bool:
        return (
            len(self.messages) < MAX_PARTS and self.size + len(message.body) + 1 <= MAX_BUNDLE_BYTES
        )

    def add(self, message: Outgoing) -> None:
        self.messages.append(message)
        self.size += len(message.body) + 1

    def message(self) -> Outgoing:
        """The group as one message: its only one as it is, or a bundle."""
        group = self.messages
        if len(group) == 1:
            return group[0]
        headers: dict[str, str] = {PARTS_HEADER: str(len(group))}
        parents = [m.headers.get("traceparent", "") if m.headers else "" for m in group]
        if any(parents):
            headers[TRACEPARENTS_HEADER] = ",".join(parents)
        return Outgoing(group[0].routing_key, SEPARATOR.join(m.body for m in group), headers)


def join(messages: Sequence[Outgoing], keys: Collection[str] = BUNDLED_KEYS) -> list[Outgoing]:
    """`messages` with those of each routing key in `keys` joined into bundles (in publish
    order, within the size limits); a routing key with one such message keeps it as it is,
    and every other message is passed on unchanged."""
    groups: dict[str, _Group] = {}
    out: list[Outgoing | _Group] = []
    for message in messages:
        if not _bundleable(message, keys):
            out.append(message)
            continue
        group = groups.get(message.routing_key)
        if group is None or not group.room_for(message):
            group = groups[message.routing_key] = _Group()
            out.append(group)  # the bundle takes the place of its first message
        group.add(message)
    return [item if isinstance(item, Outgoing) else item.message() for item in out]


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode("ascii", errors="replace")
    return value if isinstance(value, str) else None


def split(delivery: Delivery) -> Sequence[Delivery]:
    """The events of a bundle, one delivery each; `delivery` alone when it is not a
    bundle, or not a well-formed one (its part count missing the mark or above
    MAX_PARTS): then its handler judges it whole, and a forged one is dead-lettered."""
    headers = delivery.headers
    if PARTS_HEADER not in headers:
        return (delivery,)
    declared = _text(headers[PARTS_HEADER])
    bodies = delivery.body.split(SEPARATOR)
    if declared is None or declared != str(len(bodies)) or len(bodies) > MAX_PARTS:
        return (delivery,)
    rest = {k: v for k, v in headers.items() if k not in _OWN_HEADERS}
    parents = (_text(headers.get(TRACEPARENTS_HEADER)) or "").split(",")
    if len(parents) != len(bodies):
        parents = [""] * len(bodies)
    whole = _Whole(delivery, len(bodies))
    return [
        Part(
            delivery.queue,
            body,
            {**rest, "traceparent": parent} if parent else rest,
            delivery.redelivered,
            whole,
        )
        for body, parent in zip(bodies, parents, strict=True)
    ]


_RANK = {Outcome.REJECT: 0, Outcome.ACK: 1, Outcome.RETRY: 2}
"""A bundle's outcome is its parts' highest: any retry requeues it, any ack acks it."""


class _Whole:
    """The bundle's own delivery, settled once every part is."""

    __slots__ = ("delivery", "left", "outcome")

    def __init__(self, delivery: Delivery, parts: int) -> None:
        self.delivery = delivery
        self.left = parts
        self.outcome: Outcome | None = None

    async def part_settled(self, outcome: Outcome) -> None:
        if self.outcome is None or _RANK[outcome] > _RANK[self.outcome]:
            self.outcome = outcome
        self.left -= 1
        if self.left == 0:
            await self.delivery.settle(self.outcome)


class Part:
    """One event of a bundle: a delivery of its own to the handler."""

    __slots__ = ("_whole", "body", "headers", "queue", "redelivered")

    def __init__(
        self, queue: str, body: bytes, headers: Mapping[str, Any], redelivered: bool, whole: _Whole
    ) -> None:
        self.queue = queue
        self.body = body
        self.headers = headers
        self.redelivered = redelivered
        self._whole = whole

    async def settle(self, outcome: Outcome) -> None:
        await self._whole.part_settled(outcome)
