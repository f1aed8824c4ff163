"""A batch that fails because of one item is split until the item is found.

Batching shares one database transaction and one publish round among many messages, so
one bad value (a time that does not convert, a value the engine refuses) fails all of
them. `Isolating` wraps a batch handler:

- the handler raises anything but DependencyDown → the batch is halved and each half
  handled on its own, down to the single item, which goes to `poison` (it dead-letters
  the message with the reason, or fails the job) while every other item proceeds;
- the handler raises DependencyDown → the batch is retried later, as before. A backend
  that is really down fails every batch, so that is all that happens during an outage.
  But a message that keeps failing while other batches succeed is suspicious (a bad
  value a driver reports as a database error): after `SPLIT_AFTER` such failures its
  batch is split too, and after `POISON_AFTER` it is treated as poison. Nothing retries
  forever while the system around it works.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import structlog

from observatory.core.bus.port import BatchHandler, Delivery, Outcome, Settlement
from observatory.core.bus.tracing import message_span
from observatory.core.errors import DependencyDown, InvalidMessage

log = structlog.get_logger("observatory.bus")

SPLIT_AFTER = 3
POISON_AFTER = 6
REMEMBERED = 10_000

Poison = Callable[[Delivery, str], Awaitable[Outcome]]
"""What to do with an isolated bad delivery (given the reason); returns its outcome."""


@dataclass(slots=True)
class _Strikes:
    count: int
    epoch: int


def _identity(delivery: Delivery) -> str:
    return hashlib.blake2b(
        delivery.queue.encode() + b"\0" + delivery.body, digest_size=16
    ).hexdigest()


def _reason(exc: Exception) -> str:
    if isinstance(exc, InvalidMessage):
        return exc.describe()
    return f"{type(exc).__name__}: {str(exc)[:300]}"


class Isolating:
    """A BatchHandler that isolates poison items of `handler` (see module docstring)."""

    def __init__(self, handler: BatchHandler, poison: Poison) -> None:
        self.handler = handler
        self.poison = poison
        self._epoch = 0  # grows with every batch that succeeds
        self._strikes: OrderedDict[str, _Strikes] = OrderedDict()

    async def __call__(self, batch: Sequence[Delivery]) -> Sequence[Settlement]:
        try:
            outcomes = await self.handler(batch)
        except DependencyDown as exc:
            strikes = self._strike(batch)
            if strikes < SPLIT_AFTER:
                raise
            if len(batch) == 1:
                if strikes < POISON_AFTER:
                    raise
                return [await self._poisoned(batch[0], f"kept failing: {exc}")]
            return await self._split(batch, exc)
        except Exception as exc:  # not an outage: one of these items is bad
            if len(batch) == 1:
                return [await self._poisoned(batch[0], _reason(exc))]
            return await self._split(batch, exc)
        self._epoch += 1
        return outcomes

    async def _split(self, batch: Sequence[Delivery], exc: Exception) -> list[Settlement]:
        log.warning("batch failed; splitting it", size=len(batch), error=_reason(exc))
        half = len(batch) // 2
        outcomes: list[Settlement] = []
        outage: DependencyDown | None = None
        for part in (batch[:half], batch[half:]):
            try:
                outcomes += await self(part)
            except DependencyDown as down:
                outage = down
                outcomes += [Outcome.RETRY] * len(part)
        if outage is not None and all(o is Outcome.RETRY for o in outcomes):
            raise outage  # every part failed alike: an outage after all, so back off
        return outcomes

    async def _poisoned(self, delivery: Delivery, reason: str) -> Outcome:
        """`poison`'s outcome for an isolated item. When `poison` itself breaks on it (a
        defect: it could not even be dead-lettered), REJECT, logged with the message's
        start: a quorum queue's broker dead-letters it as it came, a classic queue drops
        it; either way it never sends its batch back for good. An outage while poisoning
        is retried as any."""
        self._strikes.pop(_identity(delivery), None)
        log.warning("poison message isolated", queue=delivery.queue, reason=reason[:300])
        with message_span(delivery):  # its dead letter stays in the rejected message's trace
            try:
                return await self.poison(delivery, reason)
            except DependencyDown:
                raise
            except Exception as exc:
                log.exception(
                    "poison handling failed; message rejected as it came",
                    queue=delivery.queue,
                    error=_reason(exc),
                    size=len(delivery.body),
                    start=delivery.body[:200].decode("utf-8", errors="replace"),
                )
                return Outcome.REJECT

    def _strike(self, batch: Sequence[Delivery]) -> int:
        """Count a failure against each message; only failures with a success somewhere in
        between count twice (an outage fails everything and counts once). Returns the
        highest count in the batch."""
        worst = 0
        for delivery in batch:
            key = _identity(delivery)
            strikes = self._strikes.get(key)
            if strikes is None:
                strikes = self._strikes[key] = _Strikes(1, self._epoch)
                if len(self._strikes) > REMEMBERED:
                    self._strikes.popitem(last=False)
            elif strikes.epoch != self._epoch:
                strikes.count += 1
                strikes.epoch = self._epoch
            worst = max(worst, strikes.count)
        return worst
