"""Event bundles (ODTO_EVENT_BUNDLES, core/bus/bundles.py) on a real RabbitMQ, classic and
quorum: the lifecycle events of one publish are one message on their queue, a consumer
(bundling or not) gets one delivery per event with its own trace context, and the
message leaves the queue only once every event in it is settled."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence

import aio_pika
import pytest
from tests.integration.ports.engines import delete_rabbit_namespace
from tests.integration.ports.test_bus import Collector
from tests.waiting import wait_until_async

from observatory.core.bus.bundles import PARTS_HEADER
from observatory.core.bus.declarations import QueueType
from observatory.core.bus.port import Delivery, Outcome, Outgoing
from observatory.core.bus.rabbitmq import RabbitBus
from observatory.core.bus.topology import JOBS_COMPLETED, JOBS_CREATED, JOBS_VALIDATED

TP = "00-{:032x}-{:016x}-0{}"


@pytest.fixture(params=["classic", "quorum"])
async def buses(
    request: pytest.FixtureRequest, rabbitmq_url: str, namespace: str
) -> AsyncIterator[tuple[RabbitBus, RabbitBus]]:
    """A bus that bundles and one that does not, on one namespace."""
    queue_type: QueueType = request.param
    bundling = RabbitBus(
        rabbitmq_url, namespace=namespace, queue_type=queue_type, bundle_events=True
    )
    plain = RabbitBus(rabbitmq_url, namespace=namespace, queue_type=queue_type)
    await bundling.open()
    await plain.open()
    try:
        yield bundling, plain
    finally:
        await bundling.close()
        await plain.close()
        await delete_rabbit_namespace(rabbitmq_url, namespace)


def events(key: str, count: int) -> list[Outgoing]:
    return [
        Outgoing(key, f'{{"n":{n}}}'.encode(), {"traceparent": TP.format(n + 1, n + 1, n % 2)})
        for n in range(count)
    ]


async def test_one_publish_is_one_message_a_queue_and_one_delivery_an_event(
    buses: tuple[RabbitBus, RabbitBus], rabbitmq_url: str, namespace: str
) -> None:
    bundling, plain = buses
    completed, validated = events("job.completed", 5), events("job.validated", 3)
    created = [Outgoing("job.created", b'{"c":1}'), Outgoing("job.created", b'{"c":2}')]
    await bundling.publish_many([*completed, *validated, *created])

    assert await plain.queue_depth(JOBS_COMPLETED) == 1
    assert await plain.queue_depth(JOBS_VALIDATED) == 1
    assert await plain.queue_depth(JOBS_CREATED) == 2  # the processor's work: one job each
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.get_queue(f"{namespace}.{JOBS_VALIDATED}")
        raw = await queue.get(no_ack=False)
        assert raw.headers[PARTS_HEADER] == "3"
        assert raw.body == b'{"n":0}\n{"n":1}\n{"n":2}'
        await raw.nack(requeue=True)

    collector = Collector()
    await plain.consume(JOBS_COMPLETED, collector, prefetch=10, batch_size=10)
    await collector.wait_for(5)
    assert collector.bodies == [m.body for m in completed]
    assert [dict(d.headers) for d in collector.deliveries] == [dict(m.headers) for m in completed]
    await wait_until_async(
        lambda: _depth(plain, JOBS_COMPLETED, 0), message="the bundle acked once all were"
    )


async def test_a_part_given_back_brings_the_whole_bundle_back(
    buses: tuple[RabbitBus, RabbitBus],
) -> None:
    """One event handed back (RETRY) and the others acked: the message is requeued, every
    event arrives again (handlers are idempotent by event id), and then it is gone; an
    event rejected alone (dead-lettered by its handler) does not hold the others."""
    bundling, plain = buses
    await bundling.publish_many(events("job.completed", 4))
    seen: list[Delivery] = []

    async def handler(batch: Sequence[Delivery]) -> list[Outcome]:
        seen.extend(batch)
        first_time = len(seen) <= 4
        return [
            Outcome.RETRY
            if first_time and d.body == b'{"n":2}'
            else Outcome.REJECT
            if d.body == b'{"n":0}'
            else Outcome.ACK
            for d in batch
        ]

    await plain.consume(JOBS_COMPLETED, handler, prefetch=10, batch_size=2)
    await wait_until_async(lambda: len(seen) >= 8, message="the bundle delivered twice")
    assert [d.body for d in seen[4:]] == [d.body for d in seen[:4]]
    assert [d.redelivered for d in seen] == [False] * 4 + [True] * 4
    await wait_until_async(lambda: _depth(plain, JOBS_COMPLETED, 0), message="the queue to drain")
    assert len(seen) == 8


async def _depth(bus: RabbitBus, queue: str, depth: int) -> bool:
    return await bus.queue_depth(queue) == depth
