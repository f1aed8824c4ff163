"""Settling AMQP deliveries with as few frames as possible.

An ack of delivery tag T with `multiple` settles every unsettled delivery of the channel
up to T. So the tracker remembers the order deliveries arrived in, collects the outcomes
handlers decide during one event-loop turn, and then sends: one reject/nack frame per
delivery that is not acked (rare: poison messages and outages), and a single multiple
ack for the longest settled run at the front. A delivery is never acked before its own
handler said so: the multiple ack stops at the first delivery still being handled.

Deliveries decided behind one still being handled (a slow batch) are not held back for
long: after `STRAGGLER_SECONDS` on the tracker's clock (a loop timer looks again then),
and at once when the bus closes, they are acked one by one, so a slow handler neither
stalls the consumer (the decided deliveries would fill the prefetch) nor makes finished
work come back after a shutdown.

Frames go out strictly in the order they were decided: the sends of one flush finish
before those of the next start (a multiple ack overtaking an earlier nack would settle
the nacked delivery, and the broker closes the channel over the unknown tag that follows).

`RabbitDelivery` is a consumer's delivery that settles through its channel's tracker.

Tags belong to one channel. After a reconnect the broker has already requeued what the
old channel held, so deliveries of the old channel settle through their old tracker,
whose frames fail quietly on the closed channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import takewhile
from typing import Any

import aiormq
from aiormq.abc import AbstractChannel, DeliveredMessage

from observatory.core.bus.port import Outcome

ACK = 0
REJECT = 1
REQUEUE = 2
STRAGGLER_SECONDS = 0.2


class AckTracker:
    """Collects outcomes of one channel's deliveries and settles them in few frames."""

    def __init__(
        self, channel: AbstractChannel, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """`clock` gives monotonic seconds: how long acks have waited behind a slow one."""
        self.channel = channel
        self._clock = clock
        self._order: dict[int, None] = {}  # unsettled tags in delivery order
        self._decided: dict[int, int] = {}
        self._drops: list[tuple[int, int]] = []
        self._scheduled = False
        self._blocked_since: float | None = None
        self._straggler_timer: asyncio.TimerHandle | None = None
        self._lock = asyncio.Lock()
        self._sending: set[asyncio.Task[None]] = set()

    def delivered(self, tag: int) -> None:
        self._order[tag] = None

    def settle(self, tag: int, outcome: int) -> None:
        """Record `outcome` for `tag`; the frames go out at the end of this loop turn."""
        self._decided[tag] = outcome
        if outcome != ACK:
            self._drops.append((tag, outcome))
        self._schedule()

    def _schedule(self) -> None:
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self, *, force: bool = False) -> None:
        """Send what has been decided (see module docstring)."""
        self._scheduled = False
        drops, self._drops = self._drops, []
        order, decided = self._order, self._decided
        highest_ack = None
        for tag in list(takewhile(decided.__contains__, order)):  # the settled front run
            del order[tag]
            if decided.pop(tag) == ACK:
                highest_ack = tag
        singles = self._stragglers(force)
        if drops or highest_ack is not None or singles:
            task = asyncio.create_task(self._send(drops, highest_ack, singles))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    def _stragglers(self, force: bool) -> list[int]:
        """Acked tags stuck behind an undecided one for long enough (or now, if forced)."""
        if not self._decided:
            self._blocked_since = None
            return []
        now = self._clock()
        if self._blocked_since is None:
            self._blocked_since = now
        if not force and now - self._blocked_since < STRAGGLER_SECONDS:
            if self._straggler_timer is None:  # one look-again per blocked spell
                self._straggler_timer = asyncio.get_running_loop().call_later(
                    self._blocked_since + STRAGGLER_SECONDS - now, self._look_again
                )
            return []
        self._blocked_since = None
        singles = [tag for tag, outcome in self._decided.items() if outcome == ACK]
        for tag in list(self._decided):  # dropped ones were sent already
            del self._order[tag]
        self._decided.clear()
        return singles

    def _look_again(self) -> None:
        self._straggler_timer = None
        self._schedule()

    async def _send(
        self, drops: list[tuple[int, int]], highest_ack: int | None, singles: list[int]
    ) -> None:
        channel: Any = self.channel
        async with self._lock:  # one flush's frames after another's, never interleaved
            with contextlib.suppress(Exception):  # a closed channel: the broker redelivers
                for tag, outcome in drops:  # before the ack, which would otherwise cover them
                    if outcome == REJECT:
                        await channel.basic_reject(tag, requeue=False)
                    else:
                        await channel.basic_nack(tag, requeue=True)
                if highest_ack is not None:
                    await channel.basic_ack(highest_ack, multiple=True)
                for tag in singles:  # all above highest_ack: not covered by it
                    await channel.basic_ack(tag)

    async def settled(self) -> None:
        """Send everything decided so far, stragglers included, and wait until written."""
        self.flush(force=True)
        while self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)

    @property
    def unsettled(self) -> int:
        return len(self._order)


SETTLE_CODES = {Outcome.ACK: ACK, Outcome.REJECT: REJECT, Outcome.RETRY: REQUEUE}


@dataclass(slots=True)
class RabbitDelivery:
    """An AMQP delivery; settling hands its outcome to its channel's AckTracker."""

    queue: str
    tracker: AckTracker
    body: bytes
    headers: Mapping[str, Any]
    redelivered: bool
    tag: int

    @classmethod
    def of(cls, message: DeliveredMessage, queue: str, tracker: AckTracker) -> RabbitDelivery:
        """What the channel read (a Basic.Deliver, its header and body), tracked."""
        delivery = message.delivery
        assert isinstance(delivery, aiormq.spec.Basic.Deliver)  # a consumer gets nothing else
        tag = int(delivery.delivery_tag or 0)
        tracker.delivered(tag)
        headers = message.header.properties.headers or {}
        return cls(queue, tracker, message.body, headers, bool(delivery.redelivered), tag)

    async def settle(self, outcome: Outcome) -> None:
        self.tracker.settle(self.tag, SETTLE_CODES[outcome])
