"""The RabbitMQ bus (aio-pika): a topic exchange, durable queues, persistent messages,
publisher confirms, bounded prefetch, and per-queue delay queues for back-off retries.

Delayed delivery on classic queues uses the standard pattern: a message waits in
`<queue>.delay.<tier>s` with a per-message expiration, then RabbitMQ dead-letters it back
into `<queue>`. Tiers are powers of two, so a short delay never waits behind a much longer
one. On quorum queues the consumers of `<queue>` move its delayed messages (delays.py).

Queues are classic or quorum (`queue_type`, ODTO_QUEUE_TYPE); declarations.py says
what each is declared with. `url` may name several brokers of one cluster, comma
separated (amqp_wire.py): the connection goes to the next one when its node fails.

Per-message costs are kept off the hot path: a batch's publishes are queued at once and
their confirms awaited together (publishing.py, which also says what a refusal does),
deliveries are settled with multiple
acks (acks.py), and the frames of one loop turn leave in one socket write (amqp_wire.py).
While a batch is being handled the next one gathers until that one ends or it is full
(runner.py, `wait_for_turn`), so under load the per-batch round trips serve many messages.

Consumers subscribe on the channel's AMQP layer (aiormq's `basic_consume`): a delivery
reaches the batcher as aiormq read it, without aio-pika's per-delivery message object and
second task (an eighth of the metrics engine's CPU). aio-pika's robust channel still
reopens the channel, its prefetch and its queues after a reconnect; the bus subscribes
again when it has (`reopen_callbacks`), on a new channel when one was lost, and after the
broker cancels a consumer (its queue deleted, say). Each queue of a consumer has its own
prefetch (RabbitMQ's per-consumer qos, set before each subscription).

With `bundle_events` (ODTO_EVENT_BUNDLES, off by default) a publish round's lifecycle
events for one queue travel as one message; every consumer splits such a message into
one delivery per event, whatever its own setting (bundles.py).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import aio_pika
import aiormq
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractQueue,
    AbstractRobustChannel,
    AbstractRobustConnection,
)
from aiormq.abc import DeliveredMessage

from observatory.core.bus import amqp_wire, bundles, delays
from observatory.core.bus.acks import AckTracker, RabbitDelivery
from observatory.core.bus.declarations import (
    DEFAULT_DELIVERY_LIMIT,
    Declarations,
    QueueType,
    mismatch,
)
from observatory.core.bus.delays import DelayMover
from observatory.core.bus.port import BatchHandler, Delivery, Outgoing, queue_names
from observatory.core.bus.publishing import Publisher
from observatory.core.bus.runner import ConsumerRunner
from observatory.core.bus.topology import BINDINGS, DEAD_LETTERS, Names
from observatory.core.bus.tracing import BusTracer
from observatory.core.errors import ConfigurationError, DependencyDown

log = structlog.get_logger("observatory.bus")

BATCH_WINDOW = 0.002
CANCEL_PAUSE = 1.0  # seconds before consuming again after the broker cancelled a consumer
CANCEL_ATTEMPTS = 5  # tries to consume again (1 + 2 + 4 + 8 + 16 s of pauses), then a log


Receiver = Callable[[DeliveredMessage], Awaitable[None]]


@dataclass(slots=True)
class _Consumer:
    """One consume() call: its channel (replaced after a reconnect that lost it), its
    queues' receivers and each queue's prefetch (`bundles.prefetches`); the AMQP
    channel it consumes on now, and which queue each of its subscriptions there (consumer
    tags) is for."""

    channel: AbstractChannel
    receivers: dict[str, Receiver]
    prefetches: dict[str, int]
    arguments: dict[str, dict[str, Any]] = field(default_factory=dict)  # other than topology's
    underlay: aiormq.abc.AbstractChannel | None = None
    tags: dict[str, str] = field(default_factory=dict)


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
        bundle_events: bool = False,
    ) -> None:
        self.names = Names(namespace)
        self.declarations = Declarations(queue_type, self.names.exchange, delivery_limit)
        self._tracer = tracer  # None: tracing off (core.bus.tracing)
        self._bundle = bundle_events  # lifecycle events of one publish per queue (bundles.py)
        self._url = url
        self._connection: AbstractRobustConnection | None = None
        self._publisher = Publisher(
            self.names.exchange,
            connection=lambda: self._connection,
            connected=self._connected,
            declare_queue=self._declare_queue,
            delay_arguments=self.declarations.delay,
            held_delays=self.declarations.quorum,
        )
        self._exchange: AbstractExchange | None = None
        self._runners: list[ConsumerRunner] = []
        self._trackers: list[list[AckTracker]] = []  # per consumer, newest channel last
        self._tasks: list[asyncio.Task[None]] = []
        # what each consume() set up, to set it up again on a channel the reconnect lost
        self._consumers: list[_Consumer] = []
        self._movers: list[DelayMover] = []  # quorum queues' delayed messages (delays.py)

    async def open(self) -> None:
        if self._connection is not None:
            return
        try:
            self._connection = await amqp_wire.connect(self._url, timeout=5)
            self._publisher.channel = await self._connection.channel(publisher_confirms=True)
            await self._declare(self._publisher.channel)
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
        """Every publish queued at once, every confirm awaited (publishing.py); with
        bundles on, the lifecycle events of each queue in one message (bundles.py)."""
        if self._tracer is not None:
            with self._tracer.publishing(self.names.exchange, messages) as traced:
                return await self._publisher.publish(self._joined(traced))
        return await self._publisher.publish(self._joined(messages))

    def _joined(self, messages: Sequence[Outgoing]) -> Sequence[Outgoing]:
        return bundles.join(messages) if self._bundle and len(messages) > 1 else messages

    async def schedule(
        self, queue: str, body: bytes, headers: Mapping[str, Any], delay: float
    ) -> None:
        target = self.names.q(queue)
        if self._tracer is not None:
            with self._tracer.scheduling(target, headers) as traced:
                return await self._publisher.schedule(target, body, traced, delay)
        return await self._publisher.schedule(target, body, headers, delay)

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
        buffer: list[Delivery] = []
        arrived = asyncio.Event()
        trackers: list[AckTracker] = []
        self._trackers.append(trackers)

        def receiver(name: str) -> Receiver:
            async def on_message(message: DeliveredMessage) -> None:
                tracker = trackers[-1] if trackers else None
                if tracker is None or tracker.channel is not message.channel:
                    tracker = AckTracker(message.channel)  # a new channel after a reconnect
                    trackers.append(tracker)
                    del trackers[:-16]  # old channels' trackers only serve their stragglers
                before = len(buffer)
                delivery = RabbitDelivery.of(message, name, tracker)
                if bundles.PARTS_HEADER in delivery.headers:  # one delivery per event
                    buffer.extend(bundles.split(delivery))
                else:
                    buffer.append(delivery)
                arrived.set()
                if before < batch_size <= len(buffer):  # a full batch need not wait
                    await runner.wake()

            return on_message

        async def batcher() -> None:
            while True:
                await arrived.wait()
                # one batch at a time unless a full one waits: busy handlers let it grow
                await runner.wait_for_turn(lambda: len(buffer), batch_size)
                await asyncio.sleep(BATCH_WINDOW)  # let a burst gather into one batch
                batch = buffer[:batch_size]
                del buffer[:batch_size]
                if not buffer:
                    arrived.clear()
                runner.submit(batch)

        self._tasks.append(asyncio.create_task(batcher(), name=f"batch-{label}"))
        receivers = {name: receiver(name) for name in names}
        bundled = bundles.queues(self.names) if self._bundle else frozenset()
        consumer = _Consumer(channel, receivers, bundles.prefetches(names, prefetch, bundled))
        self._consumers.append(consumer)
        await self._subscribe(consumer, declare=True)
        if self.declarations.quorum:
            await self._move_delays(names)

    async def _move_delays(self, targets: list[str]) -> None:
        """Quorum queues: consume each target's delay queue too, on a channel of its own,
        and move its messages back when due (delays.py)."""
        assert self._connection is not None
        movers = [DelayMover(target, self._publisher.forward) for target in targets]
        self._movers.extend(movers)
        receivers: dict[str, Receiver] = {delays.delay_queue(m.target): m.receiver for m in movers}
        consumer = _Consumer(
            await self._connection.channel(),
            receivers,
            dict.fromkeys(receivers, delays.HELD),
            {delays.delay_queue(t): self.declarations.delay(t) for t in targets},
        )
        self._consumers.append(consumer)
        await self._subscribe(consumer, declare=True)

    async def _subscribe(self, consumer: _Consumer, *, declare: bool) -> None:
        """Consume each of the consumer's queues on its channel's current AMQP channel
        (declaring them and the prefetch first when `declare`: a robust channel that
        reopened has done both itself), and again whenever that channel reopens."""
        channel = consumer.channel
        if declare:
            await channel.set_qos(prefetch_count=min(consumer.prefetches.values()))
            for name in consumer.receivers:
                await self._declare_queue(channel, name, consumer.arguments.get(name))
            if isinstance(channel, AbstractRobustChannel):
                channel.reopen_callbacks.add(partial(self._on_reopen, consumer))
        for name in consumer.receivers:
            await self._consume(consumer, name)

    async def _consume(self, consumer: _Consumer, name: str) -> None:
        underlay = await consumer.channel.get_underlay_channel()
        if underlay is not consumer.underlay:  # a new AMQP channel: tell us of cancels
            consumer.underlay, consumer.tags = underlay, {}
            underlay.on_consumer_cancel_callbacks.add(partial(self._on_cancel, consumer))
        receiver: Any = consumer.receivers[name]  # typed Awaitable, aiormq says Coroutine
        # the prefetch of the consumer that follows (RabbitMQ's per-consumer qos)
        await underlay.basic_qos(prefetch_count=consumer.prefetches[name])
        ok = await underlay.basic_consume(name, receiver, no_ack=False)
        consumer.tags[str(ok.consumer_tag)] = name

    async def _on_reopen(self, consumer: _Consumer, channel: Any) -> None:
        """A robust channel reopened (after a reconnect, or a channel error): its queues
        and prefetch are back, the consumers of the AMQP channel it had are not."""
        if channel is not consumer.channel:
            return  # a channel this consumer has since replaced
        try:
            await self._subscribe(consumer, declare=False)
        except (OSError, aio_pika.exceptions.AMQPError, TimeoutError) as exc:
            log.warning("consumer not restored after reopening", error=type(exc).__name__)

    def _on_cancel(self, consumer: _Consumer, frame: aiormq.spec.Basic.Cancel) -> None:
        """The broker cancelled a subscription (its queue was deleted, say): after a short
        pause the queue is declared again, bound as the topology says, and consumed."""
        name = consumer.tags.pop(str(frame.consumer_tag), None)
        if name is None:
            return
        log.warning("consumer cancelled by the broker", queue=name)
        self._tasks.append(asyncio.create_task(self._consume_again(consumer, name)))

    async def _consume_again(self, consumer: _Consumer, name: str) -> None:
        """Up to CANCEL_ATTEMPTS tries, the pause doubling; none once the queue is consumed
        again some other way (the channel reopened meanwhile)."""
        for attempt in range(1, CANCEL_ATTEMPTS + 1):
            await asyncio.sleep(CANCEL_PAUSE * 2 ** (attempt - 1))
            if name in consumer.tags.values():
                return
            try:
                await self._rebind_and_consume(consumer, name)
                return
            except ConfigurationError as exc:  # declared again with other arguments
                log.warning("consumer not restored after a cancel", queue=name, error=str(exc))
                return
            except (OSError, aio_pika.exceptions.AMQPError, TimeoutError) as exc:
                log.warning(
                    "consumer not restored after a cancel",
                    queue=name,
                    error=type(exc).__name__,
                    attempt=attempt,
                    again=attempt < CANCEL_ATTEMPTS,
                )

    async def _rebind_and_consume(self, consumer: _Consumer, name: str) -> None:
        queue = await self._declare_queue(consumer.channel, name, consumer.arguments.get(name))
        for routing_key in BINDINGS:  # a deleted queue took its bindings along
            if name in self.names.bound_queues(routing_key):
                await queue.bind(self.names.exchange, routing_key)
        await self._consume(consumer, name)

    async def _on_reconnect(self, *_: Any) -> None:
        """After a reconnect (to another node of a cluster, say), consume again on a new
        channel wherever the old one was not restored (a restored one consumes again
        through `_on_reopen`); the publish channel heals on use."""
        connection = self._connection
        if connection is None:
            return
        for consumer in self._consumers:
            if not consumer.channel.is_closed:
                continue
            try:
                consumer.channel = await connection.channel()
                await self._subscribe(consumer, declare=True)
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
        for task in self._tasks:
            task.cancel()
        self._publisher.close()
        for mover in self._movers:
            mover.close()
        for runner in self._runners:
            await runner.drain()
        for trackers in self._trackers:
            for tracker in trackers:
                await tracker.settled()
        await self._drop_connection()
