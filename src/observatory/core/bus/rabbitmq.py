"""The RabbitMQ bus (aio-pika): a topic exchange, durable queues, persistent messages,
publisher confirms, bounded prefetch, and per-queue delay queues for back-off retries.

Delayed delivery uses the standard pattern: a message waits in `<queue>.delay.<tier>s`
with a per-message expiration, then RabbitMQ dead-letters it back into `<queue>`. Tiers
are powers of two, so a short delay never waits behind a much longer one.

Queues are classic or quorum (`queue_type`, ODTO_QUEUE_TYPE); declarations.py says
what each is declared with. `url` may name several brokers of one cluster, comma
separated (amqp_wire.py): the connection goes to the next one when its node fails.

Per-message costs are kept off the hot path: a batch's publishes are queued at once and
their confirms awaited together (`publish_many`), deliveries are settled with multiple
acks (acks.py), and the frames of one loop turn leave in one socket write (amqp_wire.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import aio_pika
import aiormq
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aiormq import spec

from observatory.core.bus import amqp_wire
from observatory.core.bus.acks import ACK, REJECT, REQUEUE, AckTracker
from observatory.core.bus.declarations import (
    DEFAULT_DELIVERY_LIMIT,
    Declarations,
    QueueType,
    mismatch,
)
from observatory.core.bus.port import BatchHandler, Outcome, Outgoing, queue_names
from observatory.core.bus.runner import ConsumerRunner
from observatory.core.bus.topology import BINDINGS, DEAD_LETTERS, Names
from observatory.core.bus.tracing import BusTracer
from observatory.core.errors import ConfigurationError, DependencyDown, OutcomeUnknown

log = structlog.get_logger("observatory.bus")

PUBLISH_TIMEOUT = 10.0
BATCH_WINDOW = 0.002


SETTLE_CODES = {Outcome.ACK: ACK, Outcome.REJECT: REJECT, Outcome.RETRY: REQUEUE}


class _Nacked(DependencyDown):
    """The broker nacked a publish (RabbitBus._confirmed)."""


@dataclass(slots=True)
class RabbitDelivery:
    """An AMQP delivery; settling hands its outcome to its channel's AckTracker."""

    message: AbstractIncomingMessage
    queue: str
    tracker: AckTracker
    body: bytes = field(init=False)
    headers: Mapping[str, Any] = field(init=False)
    redelivered: bool = field(init=False)
    tag: int = field(init=False)

    def __post_init__(self) -> None:
        self.body = self.message.body
        self.headers = self.message.headers or {}
        self.redelivered = bool(self.message.redelivered)
        self.tag = int(self.message.delivery_tag or 0)
        self.tracker.delivered(self.tag)

    async def settle(self, outcome: Outcome) -> None:
        self.tracker.settle(self.tag, SETTLE_CODES[outcome])


@dataclass(slots=True)
class _Consumer:
    """One consume() call: its channel (replaced after a reconnect that lost it), its
    queues' receivers and its prefetch."""

    channel: AbstractChannel
    receivers: dict[str, Callable[[AbstractIncomingMessage], Awaitable[None]]]
    prefetch: int


def _properties(headers: Mapping[str, Any], message_id: str | None) -> spec.Basic.Properties:
    return spec.Basic.Properties(
        content_type="application/json",
        delivery_mode=2,  # persistent
        headers=dict(headers) if headers else None,
        message_id=message_id or uuid.uuid4().hex,  # aiormq would make a random one
    )


class RabbitBus:
    """Bus adapter for RabbitMQ (see module docstring)."""

    def __init__(
        self,
        url: str,
        *,
        namespace: str = "",
        tracer: BusTracer | None = None,
        queue_type: QueueType = "classic",
        delivery_limit: int = DEFAULT_DELIVERY_LIMIT,
    ) -> None:
        self.names = Names(namespace)
        self.declarations = Declarations(queue_type, self.names.exchange, delivery_limit)
        self._tracer = tracer  # None: tracing off (core.bus.tracing)
        self._url = url
        self._connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._delay_queues: set[str] = set()
        self._runners: list[ConsumerRunner] = []
        self._trackers: list[list[AckTracker]] = []  # per consumer, newest channel last
        self._tasks: list[asyncio.Task[None]] = []
        # what each consume() set up, to set it up again on a channel the reconnect lost
        self._consumers: list[_Consumer] = []
        self._healing = asyncio.Lock()
        self._closing: set[asyncio.Task[None]] = set()  # retired publish channels (_retire)

    async def open(self) -> None:
        if self._connection is not None:
            return
        try:
            self._connection = await amqp_wire.connect(self._url, timeout=5)
            self._publish_channel = await self._connection.channel(publisher_confirms=True)
            await self._declare(self._publish_channel)
            self._connection.reconnect_callbacks.add(self._on_reconnect)
        except ConfigurationError:
            await self._drop_connection()
            raise
        except (OSError, aio_pika.exceptions.AMQPError, TimeoutError) as exc:
            await self._drop_connection()
            raise DependencyDown("bus", type(exc).__name__) from exc

    async def _drop_connection(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
        self._connection = None

    async def _declare(self, channel: AbstractChannel) -> None:
        self._exchange = await channel.declare_exchange(
            self.names.exchange, aio_pika.ExchangeType.TOPIC, durable=True
        )
        for routing_key in BINDINGS:
            for queue_name in self.names.bound_queues(routing_key):
                queue = await self._declare_queue(channel, queue_name)
                await queue.bind(self._exchange, routing_key)

    async def _declare_queue(
        self, channel: AbstractChannel, name: str, arguments: dict[str, Any] | None = None
    ) -> AbstractQueue:
        """Declare `name` with its queue type's arguments (a topology queue's unless
        `arguments` are given); a queue that exists with other ones is a ConfigurationError."""
        if arguments is None:
            arguments = self.declarations.queue(name, dead_letters=self.names.q(DEAD_LETTERS))
        try:
            return await channel.declare_queue(name, durable=True, arguments=arguments)
        except aiormq.exceptions.ChannelPreconditionFailed as exc:
            raise mismatch(name, self.declarations.queue_type, str(exc)) from exc

    async def publish_many(self, messages: Sequence[Outgoing]) -> None:
        """Queue every publish at once and wait for all the confirms.

        Publishing on the underlying aiormq channel with `wait=False` does not wait for
        each frame to be flushed to the socket, which aio-pika's publish does while
        holding the channel lock (one publish per loop turn). Durability still comes
        from the broker's confirm, which is awaited for every message.
        """
        if self._tracer is not None:
            with self._tracer.publishing(self.names.exchange, messages) as traced:
                return await self._publish(traced)
        return await self._publish(messages)

    async def _publish(self, messages: Sequence[Outgoing]) -> None:
        """Publish, and once more on a new channel if the broker nacked (see `_confirmed`):
        a nack of a message routed to several queues may have stored it in some of them,
        so the same messages go again (consumers are idempotent by id) rather than the
        caller making new ones; nacked twice, the outcome is unknown."""
        try:
            await self._publish_once(messages)
        except _Nacked:
            try:
                await self._publish_once(messages)
            except _Nacked as exc:
                raise OutcomeUnknown("bus", "publish refused by the broker twice") from exc

    async def _publish_once(self, messages: Sequence[Outgoing]) -> None:
        channel = await self._healed()
        # the concrete aiormq channel: its basic_publish takes `wait`
        underlay = cast(aiormq.Channel, await channel.get_underlay_channel())
        exchange = self.names.exchange
        sends = [
            underlay.basic_publish(
                m.body,
                exchange=exchange,
                routing_key=m.routing_key,
                properties=_properties(m.headers, m.message_id),
                wait=False,
            )
            for m in messages
        ]
        await self._confirmed(channel, sends)

    async def _confirmed(self, channel: AbstractChannel, sends: list[Any]) -> None:
        """Await every confirm. A nack (`_Nacked`) means the broker refused to store the
        message in at least one of the queues it was routed to, and the channel is retired
        (`_retire`); any other failure once the frames are on their way leaves the
        outcome unknown."""
        try:
            await asyncio.wait_for(asyncio.gather(*sends), PUBLISH_TIMEOUT)
        except aiormq.exceptions.DeliveryError as exc:
            self._retire(channel)
            raise _Nacked("bus", "publish refused by the broker") from exc
        except (OSError, aio_pika.exceptions.AMQPError, TimeoutError, RuntimeError) as exc:
            raise OutcomeUnknown("bus", f"publish not confirmed ({type(exc).__name__})") from exc

    async def schedule(
        self, queue: str, body: bytes, headers: Mapping[str, Any], delay: float
    ) -> None:
        target = self.names.q(queue)
        if self._tracer is not None:
            with self._tracer.scheduling(target, headers) as traced:
                return await self._schedule(target, body, traced, delay)
        return await self._schedule(target, body, headers, delay)

    async def _schedule(
        self, target: str, body: bytes, headers: Mapping[str, Any], delay: float
    ) -> None:
        """Into the delay queue of `target`'s tier; RabbitMQ dead-letters it back into
        `target` when it expires, headers (and so the trace context) unchanged."""
        channel = await self._healed()
        tier = 2 ** max(0, math.ceil(math.log2(max(delay, 1.0))))
        delay_queue = f"{target}.delay.{tier}s"
        if delay_queue not in self._delay_queues:
            await self._declare_queue(channel, delay_queue, self.declarations.delay(target))
            self._delay_queues.add(delay_queue)
        properties = _properties(headers, None)
        properties.expiration = str(max(1, round(delay * 1000)))  # milliseconds
        underlay = await channel.get_underlay_channel()
        try:
            await self._confirmed(
                channel,
                [underlay.basic_publish(body, routing_key=delay_queue, properties=properties)],
            )
        except _Nacked as exc:  # one queue: nothing stored; the caller retries later
            raise DependencyDown("bus", "publish refused by the broker") from exc

    async def consume(
        self, queues: str | Sequence[str], handler: BatchHandler, *, prefetch: int, batch_size: int
    ) -> None:
        """One channel and one batcher for all of `queues`: their deliveries share batches,
        and `prefetch` is split between the queues' consumers."""
        if self._connection is None:
            raise DependencyDown("bus", "not connected")
        names = [self.names.q(q) for q in queue_names(queues)]
        label = "+".join(names)
        channel = await self._connection.channel()
        traced = handler if self._tracer is None else self._tracer.consuming(label, handler)
        runner = ConsumerRunner(label, traced, prefetch=prefetch)
        self._runners.append(runner)
        buffer: list[RabbitDelivery] = []
        arrived = asyncio.Event()
        trackers: list[AckTracker] = []
        self._trackers.append(trackers)

        def receiver(name: str) -> Callable[[AbstractIncomingMessage], Awaitable[None]]:
            async def on_message(message: AbstractIncomingMessage) -> None:
                tracker = trackers[-1] if trackers else None
                if tracker is None or tracker.channel is not message.channel:
                    tracker = AckTracker(message.channel)  # a new channel after a reconnect
                    trackers.append(tracker)
                    del trackers[:-16]  # old channels' trackers only serve their stragglers
                buffer.append(RabbitDelivery(message, name, tracker))
                arrived.set()

            return on_message

        async def batcher() -> None:
            while True:
                await arrived.wait()
                await runner.wait_for_room()  # busy handlers let the next batch grow
                await asyncio.sleep(BATCH_WINDOW)  # let a burst gather into one batch
                batch = buffer[:batch_size]
                del buffer[:batch_size]
                if not buffer:
                    arrived.clear()
                runner.submit(batch)

        self._tasks.append(asyncio.create_task(batcher(), name=f"batch-{label}"))
        consumer = _Consumer(channel, {name: receiver(name) for name in names}, prefetch)
        self._consumers.append(consumer)
        await self._subscribe(consumer)

    async def _subscribe(self, consumer: _Consumer) -> None:
        channel = consumer.channel
        await channel.set_qos(prefetch_count=max(1, consumer.prefetch // len(consumer.receivers)))
        for name, on_message in consumer.receivers.items():
            amqp_queue = await self._declare_queue(channel, name)
            await amqp_queue.consume(on_message, no_ack=False)

    async def _healed(self) -> AbstractChannel:
        """The publish channel, opened again when the connection is back but the channel
        was lost with the old one (aio-pika restores channels, but not one whose close
        callback failed while the node died under in-flight publishes)."""
        connection = self._connection
        if connection is None or not self._connected():
            raise DependencyDown("bus", "not connected")
        channel = self._publish_channel
        if channel is not None and not channel.is_closed:
            return channel
        async with self._healing:
            channel = self._publish_channel
            if channel is None or channel.is_closed:
                try:
                    channel = await connection.channel(publisher_confirms=True)
                except (OSError, aio_pika.exceptions.AMQPError, TimeoutError) as exc:
                    raise DependencyDown("bus", type(exc).__name__) from exc
                self._publish_channel = channel
        return channel

    def _retire(self, channel: AbstractChannel) -> None:
        """The broker nacked a publish on `channel`: the next publish opens a new channel,
        and this one is closed once the confirms it still awaits are in.

        A refusal can belong to the channel rather than to the message. RabbitMQ (3.10)
        keeps, per channel, a client of each quorum queue it has routed to; the first
        publish after a node died can ask that queue's old leader, on the dead node, and
        such a client refuses every later publish on that channel, although the queue has
        a new leader. A new channel's clients start from the queue's current leader."""
        if self._publish_channel is not channel:
            return  # retired already (several publishes were nacked at once)
        self._publish_channel = None
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

    async def _on_reconnect(self, *_: Any) -> None:
        """After a reconnect (to another node of a cluster, say), consume again on a new
        channel wherever the old one was not restored; the publish channel heals on use."""
        connection = self._connection
        if connection is None:
            return
        for consumer in self._consumers:
            if not consumer.channel.is_closed:
                continue
            try:
                consumer.channel = await connection.channel()
                await self._subscribe(consumer)
            except (OSError, aio_pika.exceptions.AMQPError, TimeoutError) as exc:
                log.warning("consumer not restored after reconnect", error=type(exc).__name__)

    async def queue_depth(self, queue: str) -> int:
        if self._connection is None or self._connection.is_closed:
            raise DependencyDown("bus", "not connected")
        try:
            channel = await self._connection.channel()
            try:
                declared = await channel.declare_queue(self.names.q(queue), passive=True)
                return int(declared.declaration_result.message_count or 0)
            finally:
                await channel.close()
        except (OSError, aio_pika.exceptions.AMQPError, TimeoutError) as exc:
            raise DependencyDown("bus", type(exc).__name__) from exc

    def _connected(self) -> bool:
        """Connected now (a robust connection that is reconnecting is not)."""
        connection = self._connection
        if connection is None or connection.is_closed:
            return False
        connected = getattr(connection, "connected", None)
        return connected is None or bool(connected.is_set())

    async def ping(self) -> bool:
        return self._connected() and self._exchange is not None

    async def close(self) -> None:
        for task in [*self._tasks, *self._closing]:
            task.cancel()
        for runner in self._runners:
            await runner.drain()
        for trackers in self._trackers:
            for tracker in trackers:
                await tracker.settled()
        await self._drop_connection()
