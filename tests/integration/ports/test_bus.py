"""The Bus port's behaviour, proved once against every reachable adapter (SPEC §4).

Queue names are given without the namespace; the adapters add it (Names.q).
"""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pytest
from tests.integration.ports.engines import Engine
from tests.system import free_port
from tests.waiting import wait_until_async

from observatory.core.bus.port import Bus, Delivery, Outcome, Outgoing
from observatory.core.bus.rabbitmq import RabbitBus
from observatory.core.bus.topology import (
    ALL_QUEUES,
    BINDINGS,
    JOBS_COMPLETED,
    JOBS_CREATED,
    JOBS_CREATED_METRICS,
    JOBS_EXECUTED,
    JOBS_FAILED,
    JOBS_VALIDATED,
)
from observatory.core.errors import DependencyDown

CRASH_CONSUMER = Path(__file__).with_name("crash_consumer.py")


@dataclass
class Collector:
    """A batch handler that records what arrives (and when); `decide` picks the outcomes."""

    decide: Callable[[Delivery], Outcome] = lambda _: Outcome.ACK
    batches: list[list[Delivery]] = field(default_factory=list)
    arrived: list[float] = field(default_factory=list)

    async def __call__(self, batch: Sequence[Delivery]) -> list[Outcome]:
        now = asyncio.get_running_loop().time()
        self.batches.append(list(batch))
        self.arrived += [now] * len(batch)
        return [self.decide(delivery) for delivery in batch]

    @property
    def deliveries(self) -> list[Delivery]:
        return [delivery for batch in self.batches for delivery in batch]

    @property
    def bodies(self) -> list[bytes]:
        return [delivery.body for delivery in self.deliveries]

    async def wait_for(self, count: int, timeout: float = 20.0) -> None:
        await wait_until_async(
            lambda: len(self.deliveries) >= count,
            timeout=timeout,
            message=f"{count} deliveries (got {len(self.deliveries)})",
        )


async def publish(bus: Bus, routing_key: str, *bodies: bytes) -> None:
    await bus.publish_many([Outgoing(routing_key, body) for body in bodies])


async def assert_empty_after_reopen(engine: Engine[Bus], bus: Bus, queue: str, key: str) -> None:
    """Close `bus`, open a new one and prove `queue` holds nothing but a fresh marker."""
    await wait_until_async(lambda: _depth_is(bus, queue, 0), message=f"{queue} to drain")
    await engine.close(bus)
    reopened = await engine.open()
    marker = f"marker-{uuid.uuid4()}".encode()
    await publish(reopened, key, marker)
    collector = Collector()
    await reopened.consume(queue, collector, prefetch=10, batch_size=10)
    await collector.wait_for(1)
    assert collector.bodies == [marker]


async def _depth_is(bus: Bus, queue: str, depth: int) -> bool:
    return await bus.queue_depth(queue) == depth


async def test_publish_routes_each_event_type_to_its_queues(bus: Bus) -> None:
    """job.created lands in jobs.created and jobs.created.metrics; other types in their own."""
    await bus.publish_many([Outgoing(key, key.encode()) for key in BINDINGS])

    assert {queue: await bus.queue_depth(queue) for queue in ALL_QUEUES} == dict.fromkeys(
        ALL_QUEUES, 1
    )
    collectors = {queue: Collector() for queue in ALL_QUEUES}
    for queue, collector in collectors.items():
        await bus.consume(queue, collector, prefetch=10, batch_size=10)
        await collector.wait_for(1)
    received = {queue: collector.bodies for queue, collector in collectors.items()}
    assert received[JOBS_CREATED] == [b"job.created"]
    assert received[JOBS_CREATED_METRICS] == [b"job.created"]
    assert received[JOBS_VALIDATED] == [b"job.validated"]
    assert received[JOBS_EXECUTED] == [b"job.executed"]
    assert received[JOBS_COMPLETED] == [b"job.completed"]
    assert received[JOBS_FAILED] == [b"job.failed"]
    assert received["jobs.failed.validation"] == [b"dead-letter"]


async def test_messages_survive_closing_and_reopening_the_bus(bus_engine: Engine[Bus]) -> None:
    """Published messages are still there, in order and not flagged redelivered, for a new bus."""
    first = await bus_engine.open()
    await publish(first, "job.validated", b"one", b"two", b"three")
    await bus_engine.close(first)

    second = await bus_engine.open()
    assert await second.queue_depth(JOBS_VALIDATED) == 3
    collector = Collector()
    await second.consume(JOBS_VALIDATED, collector, prefetch=10, batch_size=10)
    await collector.wait_for(3)
    assert collector.bodies == [b"one", b"two", b"three"]
    assert [d.redelivered for d in collector.deliveries] == [False, False, False]


async def test_consume_delivers_batches_and_ack_removes(bus_engine: Engine[Bus]) -> None:
    """Waiting messages arrive in batches no larger than batch_size; acked ones never come back."""
    bus = await bus_engine.open()
    bodies = [f"job-{n}".encode() for n in range(6)]
    await publish(bus, "job.completed", *bodies)

    collector = Collector()
    await bus.consume(JOBS_COMPLETED, collector, prefetch=10, batch_size=4)
    await collector.wait_for(6)

    assert sorted(collector.bodies) == sorted(bodies)
    assert all(1 <= len(batch) <= 4 for batch in collector.batches)
    assert max(len(batch) for batch in collector.batches) > 1
    await assert_empty_after_reopen(bus_engine, bus, JOBS_COMPLETED, "job.completed")


async def test_reject_drops_the_message(bus_engine: Engine[Bus]) -> None:
    """A rejected message is gone: not redelivered, not in the queue after reopening."""
    bus = await bus_engine.open()
    await publish(bus, "job.failed", b"poison", b"fine")

    collector = Collector(lambda d: Outcome.REJECT if d.body == b"poison" else Outcome.ACK)
    await bus.consume(JOBS_FAILED, collector, prefetch=10, batch_size=10)
    await collector.wait_for(2)

    assert sorted(collector.bodies) == [b"fine", b"poison"]
    await assert_empty_after_reopen(bus_engine, bus, JOBS_FAILED, "job.failed")


async def test_retry_redelivers_flagged_as_redelivered(bus: Bus) -> None:
    """A message given back with RETRY comes again with redelivered=True, and ACK then ends it."""
    await publish(bus, "job.executed", b"flaky")

    collector = Collector(lambda d: Outcome.ACK if d.redelivered else Outcome.RETRY)
    await bus.consume(JOBS_EXECUTED, collector, prefetch=10, batch_size=10)
    await collector.wait_for(2)

    assert collector.bodies[:2] == [b"flaky", b"flaky"]
    assert [d.redelivered for d in collector.deliveries[:2]] == [False, True]
    await wait_until_async(lambda: _depth_is(bus, JOBS_EXECUTED, 0), message="the queue to drain")
    assert len(collector.deliveries) == 2


async def test_dependency_down_from_the_handler_retries_the_whole_batch(bus: Bus) -> None:
    """When a handler raises DependencyDown, every message of that batch is delivered again."""
    failed: list[bytes] = []
    again: list[Delivery] = []

    async def handler(batch: Sequence[Delivery]) -> list[Outcome]:
        if not failed:
            failed.extend(d.body for d in batch)
            raise DependencyDown("job_store", "test says so")
        again.extend(batch)
        return [Outcome.ACK] * len(batch)

    await publish(bus, "job.validated", b"a", b"b", b"c")
    await bus.consume(JOBS_VALIDATED, handler, prefetch=10, batch_size=10)

    await wait_until_async(
        lambda: bool(failed) and set(failed) <= {d.body for d in again},
        message="the failed batch to come back",
    )
    assert all(d.redelivered for d in again if d.body in failed)
    await wait_until_async(
        lambda: {d.body for d in again} == {b"a", b"b", b"c"}, message="every message to be handled"
    )


async def test_batches_settled_out_of_order_settle_only_what_their_handler_decided(
    bus_engine: Engine[Bus],
) -> None:
    """A later batch acked (or rejected) first does not settle an earlier one still running:
    the earlier batch, given back afterwards, is delivered again and nothing is lost."""
    bus = await bus_engine.open()
    bodies = [f"m{n}".encode() for n in range(6)]
    await publish(bus, "job.completed", *bodies)
    later_done = asyncio.Event()
    handled: list[bytes] = []
    returned: list[bytes] = []

    async def handler(batch: Sequence[Delivery]) -> list[Outcome]:
        if any(d.body == b"m0" and not d.redelivered for d in batch):
            await later_done.wait()
            returned.extend(d.body for d in batch)
            return [Outcome.RETRY] * len(batch)
        handled.extend(d.body for d in batch)
        if len(handled) >= 4 and not returned:
            later_done.set()
        return [Outcome.REJECT if d.body == b"m3" else Outcome.ACK for d in batch]

    await bus.consume(JOBS_COMPLETED, handler, prefetch=10, batch_size=2)
    await wait_until_async(lambda: sorted(handled) == bodies, message="every message handled once")
    assert b"m0" in returned
    await assert_empty_after_reopen(bus_engine, bus, JOBS_COMPLETED, "job.completed")


async def test_a_slow_batch_does_not_stall_the_deliveries_after_it(bus: Bus) -> None:
    """While one batch is still being handled, later deliveries go on being delivered and
    settled, well past the prefetch: a slow handler holds only its own messages."""
    await publish(bus, "job.completed", *(f"m{n}".encode() for n in range(40)))
    others_done = asyncio.Event()
    handled: list[bytes] = []

    async def handler(batch: Sequence[Delivery]) -> list[Outcome]:
        if any(d.body == b"m0" for d in batch):
            await asyncio.wait_for(others_done.wait(), 20)
        handled.extend(d.body for d in batch)
        if len(handled) >= 38:
            others_done.set()
        return [Outcome.ACK] * len(batch)

    await bus.consume(JOBS_COMPLETED, handler, prefetch=10, batch_size=2)
    await wait_until_async(lambda: len(handled) == 40, timeout=20, message="all 40 handled")
    await wait_until_async(lambda: _depth_is(bus, JOBS_COMPLETED, 0), message="the queue to drain")


async def test_one_handler_consumes_several_queues_and_each_delivery_names_its_queue(
    bus_engine: Engine[Bus],
) -> None:
    """consume(queues=...) hands every message of every queue to one handler, once; what it
    acks is gone from each queue, what it rejects too."""
    bus = await bus_engine.open()
    queues = (JOBS_VALIDATED, JOBS_EXECUTED, JOBS_COMPLETED)
    keys = {
        JOBS_VALIDATED: "job.validated",
        JOBS_EXECUTED: "job.executed",
        JOBS_COMPLETED: "job.completed",
    }
    for queue, key in keys.items():
        await publish(bus, key, *(f"{queue}/{n}".encode() for n in range(5)))

    collector = Collector(lambda d: Outcome.REJECT if d.body.endswith(b"/4") else Outcome.ACK)
    await bus.consume(queues, collector, prefetch=30, batch_size=10)
    await collector.wait_for(15)

    assert sorted(collector.bodies) == sorted(f"{q}/{n}".encode() for q in queues for n in range(5))
    assert all(d.body.decode().startswith(d.queue.split(".", 1)[-1]) for d in collector.deliveries)
    for queue in queues:
        await wait_until_async(partial(_depth_is, bus, queue, 0), message=f"{queue} to drain")
    await assert_empty_after_reopen(bus_engine, bus, JOBS_EXECUTED, "job.executed")
    assert len(collector.deliveries) == 15  # the first bus is closed: nothing came twice


async def test_schedule_delivers_after_the_delay_and_not_before(bus: Bus) -> None:
    """A 0.2 s message scheduled after a 2 s one arrives first; the 2 s one not before ~1.5 s."""
    loop = asyncio.get_running_loop()
    collector = Collector()
    await bus.consume(JOBS_CREATED, collector, prefetch=10, batch_size=10)

    slow_at = loop.time()
    await bus.schedule(JOBS_CREATED, b"slow", {"x-attempt": 3}, 2.0)
    fast_at = loop.time()
    await bus.schedule(JOBS_CREATED, b"fast", {"x-attempt": 2}, 0.2)
    await collector.wait_for(2, timeout=30)

    assert collector.bodies == [b"fast", b"slow"]
    fast_arrival, slow_arrival = collector.arrived
    assert fast_arrival - fast_at >= 0.15
    assert slow_arrival - slow_at >= 1.5
    assert [d.headers["x-attempt"] for d in collector.deliveries] == [2, 3]


async def test_headers_round_trip(bus: Bus) -> None:
    """Headers given at publish come back unchanged on the delivery."""
    headers = {
        "x-attempt": 3,
        "x-dead-letter-key": "ab" * 32,
        "x-correlation-id": str(uuid.uuid4()),
    }
    await bus.publish_many([Outgoing("job.executed", b"{}", headers)])

    collector = Collector()
    await bus.consume(JOBS_EXECUTED, collector, prefetch=10, batch_size=10)
    await collector.wait_for(1)

    received = collector.deliveries[0].headers
    assert {key: received.get(key) for key in headers} == headers


async def test_large_and_binary_bodies_arrive_intact(bus: Bus) -> None:
    """A 1 MB body and one holding NUL and non-UTF-8 bytes are neither refused nor altered,
    on every bus (a body is bytes; judging it is the consumer's job)."""
    large = b"x" * 1_000_000
    binary = b"\x00\xff{not json}\x00"
    await publish(bus, "job.executed", large, binary)

    collector = Collector()
    await bus.consume(JOBS_EXECUTED, collector, prefetch=10, batch_size=10)
    await collector.wait_for(2)
    assert collector.bodies == [large, binary]


async def test_prefetch_bounds_deliveries_in_flight(bus: Bus) -> None:
    """With prefetch=3 and a slow handler, only 3 messages are out at once and the rest wait."""
    gate = asyncio.Event()
    in_flight = 0
    most = 0
    done: list[bytes] = []

    async def slow(batch: Sequence[Delivery]) -> list[Outcome]:
        nonlocal in_flight, most
        in_flight += len(batch)
        most = max(most, in_flight)
        await gate.wait()
        in_flight -= len(batch)
        done.extend(d.body for d in batch)
        return [Outcome.ACK] * len(batch)

    await publish(bus, "job.completed", *(f"m{n}".encode() for n in range(10)))
    await bus.consume(JOBS_COMPLETED, slow, prefetch=3, batch_size=1)

    await wait_until_async(lambda: in_flight == 3, message="3 deliveries in flight")
    await wait_until_async(
        lambda: _depth_is(bus, JOBS_COMPLETED, 7), message="7 messages left waiting"
    )
    assert in_flight == 3

    gate.set()
    await wait_until_async(lambda: len(done) == 10, message="all 10 messages handled")
    assert most == 3


async def test_unacked_message_is_delivered_again_after_its_consumer_dies(
    bus_engine: Engine[Bus],
) -> None:
    """A message held unsettled by a consumer that is killed goes again to a new consumer."""
    bus = await bus_engine.open()
    await publish(bus, "job.created", b"survivor")

    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CRASH_CONSUMER),
        bus_engine.name,
        bus_engine.target,
        bus_engine.namespace,
        JOBS_CREATED,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(process.stdout.readline(), 60)  # a cold import is slow
        assert line.decode().strip() == "received survivor"
        assert await bus.queue_depth(JOBS_CREATED) == 0  # held by the doomed consumer
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGKILL)
        await process.wait()

    collector = Collector()
    await bus.consume(JOBS_CREATED, collector, prefetch=10, batch_size=10)
    await collector.wait_for(1)
    assert collector.bodies == [b"survivor"]
    assert collector.deliveries[0].redelivered


async def test_ping_is_true_while_connected_and_false_after_close(bus_engine: Engine[Bus]) -> None:
    """ping answers True on an open bus and False once it is closed."""
    bus = await bus_engine.open()
    assert await bus.ping() is True
    await bus_engine.close(bus)
    assert await bus.ping() is False


async def test_a_bus_that_is_not_connected_raises_dependency_down(bus_engine: Engine[Bus]) -> None:
    """Publish, schedule or queue_depth before connect or after close raise DependencyDown."""
    closed = await bus_engine.open()
    await bus_engine.close(closed)
    for bus in (bus_engine.build(), closed):
        with pytest.raises(DependencyDown):
            await publish(bus, "job.created", b"late")
        with pytest.raises(DependencyDown):
            await bus.schedule(JOBS_CREATED, b"late", {}, 0.1)
        with pytest.raises(DependencyDown):
            await bus.queue_depth(JOBS_CREATED)


async def test_unreachable_rabbitmq_raises_dependency_down() -> None:
    """A RabbitBus pointed at a port nobody listens on raises DependencyDown and pings False."""
    bus = RabbitBus(f"amqp://guest:guest@127.0.0.1:{free_port()}/", namespace="unreachable")
    with pytest.raises(DependencyDown):
        await bus.open()
    assert await bus.ping() is False
    with pytest.raises(DependencyDown):
        await publish(bus, "job.created", b"nowhere")
    await bus.close()
