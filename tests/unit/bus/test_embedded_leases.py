"""The embedded bus's leases: messages already leased (in flight) do not hold back the
ones behind them."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from tests.waiting import wait_until_async

from observatory.core.bus.embedded import EmbeddedBus
from observatory.core.bus.port import Delivery, Outcome, Outgoing
from observatory.core.bus.topology import JOBS_COMPLETED


@pytest.fixture
async def bus(tmp_path: Path) -> AsyncIterator[EmbeddedBus]:
    opened = EmbeddedBus(tmp_path / "bus.sqlite3", namespace="leases")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def publish(bus: EmbeddedBus, routing_key: str, *bodies: bytes) -> None:
    await bus.publish_many([Outgoing(routing_key, body, {}) for body in bodies])


async def test_messages_behind_leased_ones_are_delivered(bus: EmbeddedBus) -> None:
    """While the first messages of a queue are held by a handler still working on them,
    the ones published after them are delivered (the lease skips leased messages)."""
    await publish(bus, "job.completed", *(f"held-{n}".encode() for n in range(50)))
    release = asyncio.Event()
    seen: list[bytes] = []

    async def handler(batch: Sequence[Delivery]) -> list[Outcome]:
        seen.extend(d.body for d in batch)
        if batch[0].body.startswith(b"held"):
            await release.wait()
        return [Outcome.ACK] * len(batch)

    await bus.consume(JOBS_COMPLETED, handler, prefetch=200, batch_size=50)
    await wait_until_async(lambda: len(seen) == 50, message="the first batch")
    await publish(bus, "job.completed", b"later")
    await wait_until_async(lambda: b"later" in seen, message="the later message")
    release.set()
    assert seen.count(b"later") == 1


async def test_settled_messages_stay_settled_after_a_restart(tmp_path: Path) -> None:
    """Acked messages are gone and a given-back one comes again, also for the next process
    on the same file: settling is written before the bus closes."""
    path = tmp_path / "bus.sqlite3"
    first = EmbeddedBus(path, namespace="settle", lease=0.5)
    await first.open()
    await publish(first, "job.completed", *(f"m-{n}".encode() for n in range(30)))
    seen: list[bytes] = []

    async def settle_all(batch: Sequence[Delivery]) -> list[Outcome]:
        seen.extend(d.body for d in batch)
        return [
            Outcome.RETRY if d.body == b"m-7" and not d.redelivered else Outcome.ACK for d in batch
        ]

    await first.consume(JOBS_COMPLETED, settle_all, prefetch=100, batch_size=10)
    await wait_until_async(lambda: len(seen) == 31, message="30 messages and one redelivery")
    await first.close()
    assert seen.count(b"m-7") == 2

    queue = first.names.q(JOBS_COMPLETED)
    with contextlib.closing(sqlite3.connect(path)) as conn:  # leased rows count too
        (left,) = conn.execute("SELECT COUNT(*) FROM messages WHERE queue = ?", (queue,)).fetchone()
    assert left == 0  # every ack reached the file: none is merely leased, to come back later
    second = EmbeddedBus(path, namespace="settle")
    await second.open()
    try:
        assert await second.queue_depth(JOBS_COMPLETED) == 0
    finally:
        await second.close()
