"""The RabbitMQ bus's publishing side: one confirmed publish channel, healed when the
connection comes back without it, and what a refusal means.

Every publish waits for its broker confirm. A nack means the broker refused to store the
message in at least one of the queues it was routed to: the channel that refused is
retired (`Publisher.retire`) and the same messages go once more on a new channel;
refused again, the outcome is unknown (`OutcomeUnknown`). Any other failure once the
frames are on their way also leaves the outcome unknown.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, cast

import aio_pika
import aiormq
from aio_pika.abc import AbstractChannel, AbstractQueue, AbstractRobustConnection

from observatory.core.bus import delays, frames
from observatory.core.bus.frames import properties
from observatory.core.bus.port import Outgoing
from observatory.core.errors import DependencyDown, OutcomeUnknown

PUBLISH_TIMEOUT = 10.0

DeclareQueue = Callable[[AbstractChannel, str, dict[str, Any]], Awaitable[AbstractQueue]]


class Nacked(DependencyDown):
    """The broker nacked a publish (`Publisher.confirmed`)."""


class Publisher:
    """Publishes on the bus's confirmed channel (see module docstring).

    `connection` and `connected` say what the bus holds now; `declare_queue` declares a
    delay queue with the arguments `delay_arguments` gives for its target queue. With
    `held_delays` (quorum queues) a delayed message waits in its target's one delay queue
    until a consumer moves it (delays.py), not for its expiration."""

    def __init__(
        self,
        exchange: str,
        *,
        connection: Callable[[], AbstractRobustConnection | None],
        connected: Callable[[], bool],
        declare_queue: DeclareQueue,
        delay_arguments: Callable[[str], dict[str, Any]],
        held_delays: bool = False,
    ) -> None:
        self.exchange = exchange
        self.channel: AbstractChannel | None = None
        self._connection = connection
        self._connected = connected
        self._declare_queue = declare_queue
        self._delay_arguments = delay_arguments
        self._delay_queues: set[str] = set()
        self._held_delays = held_delays
        self._healing = asyncio.Lock()
        self._closing: set[asyncio.Task[None]] = set()  # retired channels (`retire`)

    async def publish(self, messages: Sequence[Outgoing]) -> None:
        """Publish, and once more on a new channel if the broker nacked: a nack of a
        message routed to several queues may have stored it in some of them, so the same
        messages go again (consumers are idempotent by id) rather than the caller making
        new ones; nacked twice, the outcome is unknown."""
        try:
            await self._publish_once(messages)
        except Nacked:
            try:
                await self._publish_once(messages)
            except Nacked as exc:
                raise OutcomeUnknown("bus", "publish refused by the broker twice") from exc

    async def _publish_once(
        self, messages: Sequence[Outgoing], exchange: str | None = None
    ) -> None:
        """Queue every publish at once (frames.py: one write-queue entry for the batch)
        and wait for all the confirms; durability comes from the broker's confirm, which
        is awaited for every message. Through the bus's exchange unless `exchange` says."""
        channel = await self.healed()
        try:  # a channel closing meanwhile raises here too (a RuntimeError in aio-pika)
            underlay = cast(aiormq.Channel, await channel.get_underlay_channel())
            through = self.exchange if exchange is None else exchange
            sent = await frames.send(underlay, through, messages)
        except (aio_pika.exceptions.AMQPError, RuntimeError) as exc:  # nothing was queued
            raise DependencyDown("bus", f"publish not sent ({type(exc).__name__})") from exc
        await self.confirmed(channel, sent)

    async def confirmed(self, channel: AbstractChannel, sent: frames.Sent | list[Any]) -> None:
        """Await every confirm (of a batch `frames.send` queued, or of `basic_publish`
        calls). A nack (`Nacked`) retires the channel; any other failure once the frames
        are on their way leaves the outcome unknown."""
        try:
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                if isinstance(sent, frames.Sent):
                    await _all_unless_closed(sent)
                else:
                    await asyncio.gather(*sent)
        except aiormq.exceptions.DeliveryError as exc:
            self.retire(channel)
            raise Nacked("bus", "publish refused by the broker") from exc
        except (OSError, aio_pika.exceptions.AMQPError, TimeoutError, RuntimeError) as exc:
            raise OutcomeUnknown("bus", f"publish not confirmed ({type(exc).__name__})") from exc

    async def schedule(
        self, target: str, body: bytes, headers: Mapping[str, Any], delay: float
    ) -> None:
        """Into the delay queue of `target`'s tier; RabbitMQ dead-letters it back into
        `target` when it expires, headers (and so the trace context) unchanged. With
        `held_delays`, into `target`'s delay queue with its due time (delays.py)."""
        channel = await self.healed()
        if self._held_delays:
            delay_queue = delays.delay_queue(target)
            held = properties(delays.due_headers(headers, delay, time.time()), None)
        else:
            tier = 2 ** max(0, math.ceil(math.log2(max(delay, 1.0))))
            delay_queue = f"{target}.delay.{tier}s"
            held = properties(headers, None)
            held.expiration = str(max(1, round(delay * 1000)))  # milliseconds
        if delay_queue not in self._delay_queues:
            await self._declare_queue(channel, delay_queue, self._delay_arguments(target))
            self._delay_queues.add(delay_queue)
        try:
            underlay = await channel.get_underlay_channel()
        except (aio_pika.exceptions.AMQPError, RuntimeError) as exc:  # closing meanwhile
            raise DependencyDown("bus", f"delayed publish not sent ({type(exc).__name__})") from exc
        try:
            await self.confirmed(
                channel, [underlay.basic_publish(body, routing_key=delay_queue, properties=held)]
            )
        except Nacked as exc:  # one queue: nothing stored; the caller retries later
            raise DependencyDown("bus", "publish refused by the broker") from exc

    async def forward(self, queue: str, items: Sequence[tuple[bytes, Mapping[str, Any]]]) -> None:
        """Straight into `queue` through the default exchange (held delayed messages that
        are due: body and headers each), all at once, every confirm awaited."""
        await self._publish_once([Outgoing(queue, body, headers) for body, headers in items], "")

    async def healed(self) -> AbstractChannel:
        """The publish channel, opened again when the connection is back but the channel
        was lost with the old one (aio-pika restores channels, but not one whose close
        callback failed while the node died under in-flight publishes)."""
        connection = self._connection()
        if connection is None or not self._connected():
            raise DependencyDown("bus", "not connected")
        channel = self.channel
        if channel is not None and not channel.is_closed:
            return channel
        async with self._healing:
            channel = self.channel
            if channel is None or channel.is_closed:
                try:
                    channel = await connection.channel(publisher_confirms=True)
                except (OSError, aio_pika.exceptions.AMQPError, TimeoutError) as exc:
                    raise DependencyDown("bus", type(exc).__name__) from exc
                self.channel = channel
        return channel

    def retire(self, channel: AbstractChannel) -> None:
        """The broker nacked a publish on `channel`: the next publish opens a new channel,
        and this one is closed once the confirms it still awaits are in.

        A refusal can belong to the channel rather than to the message. RabbitMQ (3.10)
        keeps, per channel, a client of each quorum queue it has routed to; the first
        publish after a node died can ask that queue's old leader, on the dead node, and
        such a client refuses every later publish on that channel, although the queue has
        a new leader. A new channel's clients start from the queue's current leader."""
        if self.channel is not channel:
            return  # retired already (several publishes were nacked at once)
        self.channel = None
        closing = asyncio.create_task(self._close_when_confirmed(channel))
        self._closing.add(closing)
        closing.add_done_callback(self._closing.discard)

    @staticmethod
    async def _close_when_confirmed(channel: AbstractChannel) -> None:
        with contextlib.suppress(Exception):  # a closed channel or a lost connection
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                underlay = cast(aiormq.Channel, await channel.get_underlay_channel())
                waiting = [f for f in underlay.confirmations.values() if asyncio.isfuture(f)]
                if waiting:
                    await asyncio.wait(waiting)
        with contextlib.suppress(Exception):  # it may be closed already: nothing to do
            async with asyncio.timeout(PUBLISH_TIMEOUT):
                await channel.close()

    def close(self) -> None:
        """Stop closing retired channels (the connection is about to close them all)."""
        for task in self._closing:
            task.cancel()


async def _all_unless_closed(sent: frames.Sent) -> None:
    """Every confirm of `sent`: raises DeliveryError on a nack, and what closed the
    channel (an AMQP error) if it closed first (its store future fails the confirms
    still pending: one callback a batch, no waiter per confirm)."""

    def fail_pending(closed: asyncio.Future[Any]) -> None:
        if closed.cancelled():
            return  # the batch is done; nothing pending to fail
        reason = closed.exception()
        if not isinstance(reason, aio_pika.exceptions.AMQPError | OSError):
            reason = aiormq.exceptions.ChannelInvalidStateError(f"channel closed: {reason!r}")
        for confirm in sent.confirms:
            if not confirm.done():
                confirm.set_exception(reason)

    sent.closed.add_done_callback(fail_pending)
    try:
        await asyncio.gather(*sent.confirms)
    finally:
        sent.closed.cancel()
