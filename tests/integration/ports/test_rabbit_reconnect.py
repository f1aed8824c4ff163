"""RabbitMQ consumers come back by themselves: after the connection to the broker is cut
and the broker is reachable again, and after the broker cancels a consumer (its queue was
deleted under it). Classic and quorum queues alike; the bus goes through a TCP proxy the
test cuts, the publisher beside it does not."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlparse

import aio_pika
import pytest
from tests.integration.ports.engines import delete_rabbit_namespace
from tests.integration.ports.test_bus import Collector, publish
from tests.system import free_port
from tests.tcp_proxy import TcpProxy
from tests.waiting import wait_until_async

from observatory.core.bus.declarations import QueueType
from observatory.core.bus.rabbitmq import RabbitBus
from observatory.core.bus.topology import JOBS_CREATED, Names

pytestmark = pytest.mark.parametrize("queue_type", ["classic", "quorum"])


@pytest.fixture
async def proxied(
    rabbitmq_url: str, namespace: str, queue_type: QueueType
) -> AsyncIterator[tuple[RabbitBus, RabbitBus, TcpProxy]]:
    """(a bus through a proxy, a bus straight to the broker, the proxy)."""
    broker = urlparse(rabbitmq_url)
    proxy = TcpProxy(free_port(), broker.hostname or "127.0.0.1", broker.port or 5672)
    proxy.start()
    through = rabbitmq_url.replace(f":{broker.port or 5672}", f":{proxy.listen_port}")
    consumer = RabbitBus(through, namespace=namespace, queue_type=queue_type)
    publisher = RabbitBus(rabbitmq_url, namespace=namespace, queue_type=queue_type)
    await consumer.open()
    await publisher.open()
    try:
        yield consumer, publisher, proxy
    finally:
        await consumer.close()
        await publisher.close()
        proxy.close()
        await delete_rabbit_namespace(rabbitmq_url, namespace)


async def consuming(consumer: RabbitBus, publisher: RabbitBus) -> Collector:
    """`consumer` consuming jobs.created, a first message (b"before") already received."""
    collector = Collector()
    await consumer.consume(JOBS_CREATED, collector, prefetch=10, batch_size=10)
    await publish(publisher, "job.created", b"before")
    await collector.wait_for(1)
    return collector


async def test_a_consumer_consumes_again_after_its_connection_is_cut(
    proxied: tuple[RabbitBus, RabbitBus, TcpProxy],
) -> None:
    consumer, publisher, proxy = proxied
    collector = await consuming(consumer, publisher)

    proxy.cut()

    async def cut_seen() -> bool:
        return not await consumer.ping()

    await wait_until_async(cut_seen, 10, message="the cut to be seen")
    proxy.start()
    await publish(publisher, "job.created", b"after")
    await collector.wait_for(2, timeout=60)
    assert collector.bodies == [b"before", b"after"]
    await wait_until_async(consumer.ping, 30, message="the bus to say it is connected")
    await publish(consumer, "job.created", b"from the consumer's bus")  # publishing heals too
    await collector.wait_for(3)


async def test_a_consumer_the_broker_cancels_consumes_again(
    proxied: tuple[RabbitBus, RabbitBus, TcpProxy], rabbitmq_url: str, namespace: str
) -> None:
    consumer, publisher, _ = proxied
    collector = await consuming(consumer, publisher)

    queue = Names(namespace).q(JOBS_CREATED)
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(queue)  # the broker cancels every consumer of it

        async def declared_again() -> bool:
            probe = await connection.channel()
            try:
                found = await probe.declare_queue(queue, passive=True)
                return (found.declaration_result.consumer_count or 0) > 0
            except aio_pika.exceptions.ChannelClosed:
                return False

        await wait_until_async(declared_again, 60, message="the queue declared and consumed again")
    marker = f"after-{uuid.uuid4()}".encode()
    await publish(publisher, "job.created", marker)
    await collector.wait_for(2, timeout=30)
    assert collector.bodies == [b"before", marker]
