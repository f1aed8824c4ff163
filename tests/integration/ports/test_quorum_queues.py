"""What quorum queues (ODTO_QUEUE_TYPE=quorum) add on a real RabbitMQ, beyond the bus
suite that test_bus.py runs on them too: the delivery limit's dead letters, a clear
error for a queue of the other type, a bus URL that lists several nodes, and delayed
messages held by the consumers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from functools import partial

import pytest
from tests.integration.ports.engines import delete_rabbit_namespace
from tests.integration.ports.test_bus import Collector, publish
from tests.system import free_port
from tests.waiting import wait_until_async
from yarl import URL

from observatory.core.bus.port import Delivery, Outcome
from observatory.core.bus.rabbitmq import RabbitBus
from observatory.core.bus.topology import DEAD_LETTERS, JOBS_CREATED, JOBS_CREATED_METRICS
from observatory.core.errors import ConfigurationError

DELAYED = f"{JOBS_CREATED}.delay"  # its delay queue on quorum queues (core.bus.delays)


@pytest.fixture
async def cleanup(rabbitmq_url: str, namespace: str) -> AsyncIterator[list[RabbitBus]]:
    buses: list[RabbitBus] = []
    yield buses
    for bus in buses:
        await bus.close()
    await delete_rabbit_namespace(rabbitmq_url, namespace)


async def test_a_message_requeued_past_the_delivery_limit_becomes_a_dead_letter(
    rabbitmq_url: str, namespace: str, cleanup: list[RabbitBus]
) -> None:
    """A handler that hands the message back forever: after `delivery_limit` redeliveries
    RabbitMQ moves it to jobs.failed.validation, where it arrives with the queue it died in."""
    bus = RabbitBus(rabbitmq_url, namespace=namespace, queue_type="quorum", delivery_limit=2)
    cleanup.append(bus)
    await bus.open()
    attempts: list[Delivery] = []

    async def never(batch: Sequence[Delivery]) -> list[Outcome]:
        attempts.extend(batch)
        return [Outcome.RETRY] * len(batch)

    letters = Collector()
    await bus.consume(JOBS_CREATED, never, prefetch=1, batch_size=1)
    await bus.consume(DEAD_LETTERS, letters, prefetch=10, batch_size=10)
    await publish(bus, "job.created", b"forever")

    await letters.wait_for(1)
    [letter] = letters.deliveries
    assert letter.body == b"forever"
    death = letter.headers["x-death"][0]
    assert death["reason"] == "delivery_limit"
    assert death["queue"] == f"{namespace}.{JOBS_CREATED}"
    assert len(attempts) == 3  # the first delivery and two more
    assert await bus.queue_depth(JOBS_CREATED) == 0
    assert await bus.queue_depth(JOBS_CREATED_METRICS) == 1  # its copy is untouched


async def test_a_queue_of_the_other_type_is_a_configuration_error_that_says_what_to_do(
    rabbitmq_url: str, namespace: str, cleanup: list[RabbitBus]
) -> None:
    """Queues declared classic, then a bus asking for quorum: it does not start, and
    the error names the setting, the type the queues have, and how to change it."""
    classic = RabbitBus(rabbitmq_url, namespace=namespace)
    cleanup.append(classic)
    await classic.open()
    quorum = RabbitBus(rabbitmq_url, namespace=namespace, queue_type="quorum")
    cleanup.append(quorum)
    with pytest.raises(ConfigurationError) as raised:
        await quorum.open()
    message = str(raised.value)
    assert "ODTO_QUEUE_TYPE=quorum" in message
    assert "set ODTO_QUEUE_TYPE=classic" in message
    assert "delete the queues" in message
    assert await quorum.ping() is False
    assert await classic.ping() is True  # the queues and their users are untouched


async def test_a_bus_url_listing_several_nodes_connects_to_one_that_answers(
    rabbitmq_url: str, namespace: str, cleanup: list[RabbitBus]
) -> None:
    """RABBITMQ_URL may list the nodes of a cluster: a node that refuses is skipped."""
    dead = str(URL(rabbitmq_url).with_port(free_port()))
    bus = RabbitBus(f"{dead},{rabbitmq_url}", namespace=namespace, queue_type="quorum")
    cleanup.append(bus)
    await bus.open()
    collector = Collector()
    await bus.consume(JOBS_CREATED, collector, prefetch=10, batch_size=10)
    await publish(bus, "job.created", b"via the second node")
    await collector.wait_for(1)
    assert collector.bodies == [b"via the second node"]


async def test_a_list_of_urls_that_differ_in_credentials_is_refused(namespace: str) -> None:
    bus = RabbitBus("amqp://a:b@127.0.0.1:5672/,amqp://c:d@127.0.0.1:5673/", namespace=namespace)
    with pytest.raises(ConfigurationError, match="differ only in host and port"):
        await bus.open()


async def test_a_delayed_message_waits_for_a_consumer_and_outlives_the_one_holding_it(
    rabbitmq_url: str, namespace: str, cleanup: list[RabbitBus]
) -> None:
    """Quorum queues hold delayed messages in `<queue>.delay` until a consumer of the
    queue moves them (core.bus.delays): scheduled with no consumer, the message waits
    there; a consumer holds it until due; closed before then, it hands it back, and the
    next consumer moves it, once, not before it is due."""
    loop = asyncio.get_running_loop()
    first = RabbitBus(rabbitmq_url, namespace=namespace, queue_type="quorum")
    cleanup.append(first)
    await first.open()
    scheduled_at = loop.time()
    await first.schedule(JOBS_CREATED, b"later", {"x-attempt": 2}, 2.0)
    assert await first.queue_depth(DELAYED) == 1  # nobody consumes jobs.created yet

    early = Collector()
    await first.consume(JOBS_CREATED, early, prefetch=10, batch_size=10)
    await wait_until_async(partial(_depth_is, first, DELAYED, 0), message="held")
    await first.close()  # before it is due: handed back, not moved
    assert early.deliveries == []

    second = RabbitBus(rabbitmq_url, namespace=namespace, queue_type="quorum")
    cleanup.append(second)
    await second.open()
    await wait_until_async(partial(_depth_is, second, DELAYED, 1), message="handed back")
    late = Collector()
    await second.consume(JOBS_CREATED, late, prefetch=10, batch_size=10)
    await late.wait_for(1)
    assert late.bodies == [b"later"]
    assert late.arrived[0] - scheduled_at >= 1.9
    assert late.deliveries[0].headers == {"x-attempt": 2}  # no due time or count carried on
    await wait_until_async(partial(_depth_is, second, DELAYED, 0), message="acked")
    assert early.deliveries == []
    assert len(late.deliveries) == 1


async def _depth_is(bus: RabbitBus, queue: str, depth: int) -> bool:
    return await bus.queue_depth(queue) == depth
