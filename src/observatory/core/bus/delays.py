"""Delayed delivery on quorum queues, moved by the queue's own consumers.

Classic queues delay the standard way (publishing.py, `Publisher.schedule`): the message
waits in `<queue>.delay.<tier>s` with a per-message expiration, and RabbitMQ dead-letters
it back into `<queue>`. On quorum queues that way stalls when a node dies: RabbitMQ
3.10's at-least-once dead-lettering (the only kind that cannot drop a message) hands an
expired message to a worker that sends it to the target queue's leader, and when that
leader dies before confirming, the worker never sends it again. The message stays in the
delay queue as dead-lettered, neither ready nor delivered, and so does every later one
from that queue, for as long as the queue's leader lives (seen here: minutes, the dead
node back or not; a new publish into the queue did not free them). Delayed retries of
jobs would stop for good after one node failure.

So with `ODTO_QUEUE_TYPE=quorum` a delayed message carries its due time (`DUE_HEADER`,
milliseconds since the epoch) and no expiration, in one queue per target,
`<queue>.delay` (no tiers: nothing waits behind another message's expiration), and every
consumer of `<queue>` also consumes `<queue>.delay` (`DelayMover`): it holds each message
until it is due, publishes it into `<queue>` with a confirm, and only then acks it. A
consumer that dies holding messages (or loses its channel) hands them back to the broker,
which gives them to another consumer (or to it again, once back); one that loses it
between the confirm and the ack moves the message twice, which consumers take as the
duplicate delivery it is (idempotent by id). At most `HELD` messages are held per
consumer and queue; later ones wait in the queue and are moved as soon as they arrive if
their time has passed, so a delay is never shorter than asked, only longer under a flood
of retries.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import structlog
from aiormq.abc import DeliveredMessage

from observatory.core.errors import DependencyDown

log = structlog.get_logger("observatory.bus")

DUE_HEADER = "x-odto-due"  # when a held delayed message is due, ms since the epoch
HELD = 1000  # delayed messages one consumer holds per delay queue at most
LONGEST_WAIT = 24 * 3600.0  # a due time further off than this is not believed
RETRY_PAUSE = 1.0  # seconds before a message that could not be moved goes back
# headers a moved message does not keep: ours, and the count a quorum queue adds
DROPPED = frozenset({DUE_HEADER, "x-delivery-count"})

Forward = Callable[[str, Sequence[tuple[bytes, Mapping[str, Any]]]], Awaitable[None]]
MOVE_BATCH = 500  # messages due together go back in one publish round of at most this many


def delay_queue(target: str) -> str:
    """The queue a quorum target's delayed messages wait in."""
    return f"{target}.delay"


def due_headers(headers: Mapping[str, Any], delay: float, now: float) -> dict[str, Any]:
    """`headers` and the due time of a message delayed by `delay` seconds from `now`."""
    return {**headers, DUE_HEADER: int((now + max(0.0, delay)) * 1000)}


def wait_of(headers: Mapping[str, Any], now: float) -> float:
    """Seconds until a held message is due: none for one without a due time (a message
    left by an older version, or forged), at most LONGEST_WAIT."""
    due = headers.get(DUE_HEADER)
    if isinstance(due, bool) or not isinstance(due, int):
        return 0.0
    return min(max(0.0, due / 1000 - now), LONGEST_WAIT)


class DelayMover:
    """Moves the delayed messages of one target queue when due (see module docstring);
    `receiver` is the consumer callback of `<target>.delay`. Messages that fall due in
    the same loop turn go back together (`forward` of up to MOVE_BATCH, one round of
    confirms), each acked once its batch is confirmed."""

    def __init__(
        self, target: str, forward: Forward, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.target = target
        self._forward = forward
        self._clock = clock
        self._holding: set[asyncio.Task[None]] = set()
        self._due: list[DeliveredMessage] = []
        self._moving: asyncio.Task[None] | None = None
        self._batch: list[DeliveredMessage] = []  # the batch being moved now

    async def receiver(self, message: DeliveredMessage) -> None:
        headers = message.header.properties.headers or {}
        task = asyncio.create_task(self._hold(message, wait_of(headers, self._clock())))
        self._holding.add(task)
        task.add_done_callback(self._holding.discard)

    async def _hold(self, message: DeliveredMessage, wait: float) -> None:
        await asyncio.sleep(wait)
        self._due.append(message)
        if self._moving is None:
            self._moving = asyncio.create_task(self._move_due())

    async def _move_due(self) -> None:
        """Move what is due, a batch at a time, until nothing is."""
        try:
            await asyncio.sleep(0)  # the holds ending in this loop turn join the batch
            while self._due:
                batch, self._due = self._due[:MOVE_BATCH], self._due[MOVE_BATCH:]
                # a closed channel gave its messages back to the broker: their next
                # holder moves them
                self._batch = [m for m in batch if not m.channel.is_closed]
                await self._isolated(self._batch)
        finally:
            self._moving, self._batch = None, []

    async def _isolated(self, batch: list[DeliveredMessage]) -> None:
        """`_move` the batch; if it fails for anything but the bus (a message that cannot
        be written again: none of ours, and pamqp reads nothing it cannot write), each
        alone, and a message that still fails is dropped with an error, not retried."""
        try:
            await self._move(batch)
        except Exception as exc:
            if len(batch) > 1:
                for message in batch:
                    await self._isolated([message])
                return
            log.error("delayed message dropped", queue=self.target, error=repr(exc)[:300])
            with contextlib.suppress(Exception):
                await batch[0].channel.basic_reject(_tag(batch[0]), requeue=False)

    async def _move(self, batch: list[DeliveredMessage]) -> None:
        if not batch:
            return
        items = [(m.body, _kept(m.header.properties.headers or {})) for m in batch]
        try:
            await self._forward(self.target, items)
        except DependencyDown as exc:  # OutcomeUnknown too: moved twice at worst
            log.warning("delayed messages not moved", queue=self.target, error=str(exc))
            await asyncio.sleep(RETRY_PAUSE)
            for message in batch:
                with contextlib.suppress(Exception):  # a closed channel gave it back already
                    await message.channel.basic_nack(_tag(message), requeue=True)
            return
        for message in batch:
            with contextlib.suppress(Exception):  # a closed channel: the broker gives it again
                await message.channel.basic_ack(_tag(message))

    def close(self) -> None:
        """Stop holding: the channel's close gives the held messages back to the broker."""
        for task in (*self._holding, self._moving):
            if task is not None:
                task.cancel()
        self._due.clear()

    @property
    def held(self) -> int:
        """Messages held and not yet settled (waiting, or being moved)."""
        return len(self._holding) + len(self._due) + len(self._batch)


def _kept(headers: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in headers.items() if key not in DROPPED}


def _tag(message: DeliveredMessage) -> int:
    return int(message.delivery_tag or 0)
