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
from collections.abc import Awaitable, Callable, Mapping
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

Forward = Callable[[str, bytes, Mapping[str, Any]], Awaitable[None]]


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
    `receiver` is the consumer callback of `<target>.delay`."""

    def __init__(
        self, target: str, forward: Forward, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.target = target
        self._forward = forward
        self._clock = clock
        self._moving: set[asyncio.Task[None]] = set()

    async def receiver(self, message: DeliveredMessage) -> None:
        headers = message.header.properties.headers or {}
        task = asyncio.create_task(self._move(message, wait_of(headers, self._clock())))
        self._moving.add(task)
        task.add_done_callback(self._moving.discard)

    async def _move(self, message: DeliveredMessage, wait: float) -> None:
        await asyncio.sleep(wait)
        if message.channel.is_closed:
            return  # the broker gave it back with the channel: its next holder moves it
        tag = int(message.delivery_tag or 0)
        headers = message.header.properties.headers or {}
        kept = {key: value for key, value in headers.items() if key not in DROPPED}
        try:
            await self._forward(self.target, message.body, kept)
        except DependencyDown as exc:  # OutcomeUnknown too: moved twice at worst
            log.warning("delayed message not moved", queue=self.target, error=str(exc))
            await asyncio.sleep(RETRY_PAUSE)
            with contextlib.suppress(Exception):  # a closed channel gave it back already
                await message.channel.basic_nack(tag, requeue=True)
            return
        with contextlib.suppress(Exception):  # a closed channel: the broker gives it again
            await message.channel.basic_ack(tag)

    def close(self) -> None:
        """Stop holding: the channel's close gives the held messages back to the broker."""
        for task in self._moving:
            task.cancel()

    @property
    def held(self) -> int:
        return len(self._moving)
