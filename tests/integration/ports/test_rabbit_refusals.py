"""A publish a real RabbitMQ nacks: a message routed to several queues, one of which
refuses it, is stored in the others. The bus sends it once more on a new channel, and
refused again it is an unknown outcome (the gateway's 503 `outcome: unknown`, retried
with the same id), never a plain "not published". Once the refusal ends the bus
publishes again. (The refusal that sticks to one channel, seen on a RabbitMQ cluster
that lost a node, is in tests/unit/bus/test_rabbit_refusals.py and the failover test.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aio_pika
import pytest
from tests.integration.ports.engines import delete_rabbit_namespace
from tests.integration.ports.test_bus import publish
from tests.waiting import wait_until_async

from observatory.core.bus.rabbitmq import RabbitBus
from observatory.core.bus.topology import JOBS_CREATED
from observatory.core.errors import OutcomeUnknown


@pytest.fixture
async def bus(rabbitmq_url: str, namespace: str) -> AsyncIterator[RabbitBus]:
    opened = RabbitBus(rabbitmq_url, namespace=namespace)
    await opened.open()
    yield opened
    await opened.close()
    await delete_rabbit_namespace(rabbitmq_url, namespace)


async def test_a_refused_publish_is_an_unknown_outcome_and_the_bus_publishes_after_it(
    bus: RabbitBus, rabbitmq_url: str, namespace: str
) -> None:
    refuser = f"{namespace}.refuser"
    connection = await aio_pika.connect(rabbitmq_url, timeout=5)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(
            refuser, arguments={"x-max-length": 0, "x-overflow": "reject-publish"}
        )
        await queue.bind(bus.names.exchange, "job.created")
        try:
            with pytest.raises(OutcomeUnknown, match="refused"):
                await publish(bus, "job.created", b"refused")
            # stored where it was not refused: twice, sent once more on a new channel.
            # The refusing queue's nack can come before the other queue has taken its
            # copy (each queue answers for itself), so the depth may trail the nack.
            stored = await wait_until_async(
                lambda: _depth_at_least(bus, 2), timeout=5, message="both copies stored"
            )
            assert stored == 2
        finally:
            await channel.queue_delete(refuser)

    await publish(bus, "job.created", b"accepted")
    assert await bus.queue_depth(JOBS_CREATED) == 3


async def _depth_at_least(bus: RabbitBus, count: int) -> int:
    """The job queue's depth once it holds `count` messages or more, else 0."""
    depth = await bus.queue_depth(JOBS_CREATED)
    return depth if depth >= count else 0
