"""Settling AMQP deliveries with as few frames as possible.

An ack of delivery tag T with `multiple` settles every unsettled delivery of the channel
up to T. So the tracker remembers the order deliveries arrived in, collects the outcomes
handlers decide during one event-loop turn, and then sends: one reject/nack frame per
delivery that is not acked (rare: poison messages and outages), and a single multiple
ack for the longest settled run at the front. A delivery is never acked before its own
handler said so: the multiple ack stops at the first delivery still being handled.

Tags belong to one channel. After a reconnect the broker has already requeued what the
old channel held, so deliveries of the old channel settle through their old tracker,
whose frames fail quietly on the closed channel.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any

from aiormq.abc import AbstractChannel

ACK = 0
REJECT = 1
REQUEUE = 2


class AckTracker:
    """Collects outcomes of one channel's deliveries and settles them in few frames."""

    def __init__(self, channel: AbstractChannel) -> None:
        self.channel = channel
        self._order: deque[int] = deque()
        self._decided: dict[int, int] = {}
        self._drops: list[tuple[int, int]] = []
        self._scheduled = False
        self._sending: set[asyncio.Task[None]] = set()

    def delivered(self, tag: int) -> None:
        self._order.append(tag)

    def settle(self, tag: int, outcome: int) -> None:
        """Record `outcome` for `tag`; the frames go out at the end of this loop turn."""
        self._decided[tag] = outcome
        if outcome != ACK:
            self._drops.append((tag, outcome))
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Send what has been decided (see module docstring)."""
        self._scheduled = False
        drops, self._drops = self._drops, []
        highest_ack = None
        order, decided = self._order, self._decided
        while order and order[0] in decided:
            tag = order.popleft()
            if decided.pop(tag) == ACK:
                highest_ack = tag
        if drops or highest_ack is not None:
            task = asyncio.create_task(self._send(drops, highest_ack))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(self, drops: list[tuple[int, int]], highest_ack: int | None) -> None:
        channel: Any = self.channel
        with contextlib.suppress(Exception):  # a closed channel: the broker redelivers
            for tag, outcome in drops:  # before the ack, which would otherwise cover them
                if outcome == REJECT:
                    await channel.basic_reject(tag, requeue=False)
                else:
                    await channel.basic_nack(tag, requeue=True)
            if highest_ack is not None:
                await channel.basic_ack(highest_ack, multiple=True)

    async def settled(self) -> None:
        """Flush now and wait until every frame decided so far has been written."""
        if self._scheduled:
            self.flush()
        while self._sending:
            await asyncio.gather(*self._sending, return_exceptions=True)

    @property
    def unsettled(self) -> int:
        return len(self._order)
