"""A publish the broker refuses (a nack) on the RabbitMQ bus: the caller hears
DependencyDown (a 503 at the gateway), and the next publish does not go to the channel
that refused.

Why the channel matters: RabbitMQ 3.10 keeps, per channel, a client of each quorum
queue the channel routes to. When the first publish on a channel (the gateway's new
channel after its node died) asks a queue whose recorded leader is on the dead node,
that client refuses every later publish on the channel, although the queue has a new
leader within a second. The gateway answered 503 "bus unavailable" for good (issue 15's
failover test). Such a channel cannot be told apart on one broker, so the broker here
is a fake connection whose first channel refuses every publish and whose later
channels accept them.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aiormq
import pytest
from aiormq import spec

from observatory.core.bus import amqp_wire
from observatory.core.bus.port import Outgoing
from observatory.core.bus.rabbitmq import RabbitBus
from observatory.core.errors import DependencyDown


class FakeUnderlay:
    """The aiormq channel under an aio-pika one: answers each publish with a confirm."""

    def __init__(self, refuses: bool) -> None:
        self.refuses = refuses
        self.confirmations: dict[int, Any] = {}
        self.stored: list[bytes] = []

    async def basic_publish(self, body: bytes, **_: Any) -> spec.Basic.Ack:
        await asyncio.sleep(0)
        if self.refuses:
            raise aiormq.exceptions.DeliveryError(None, spec.Basic.Nack(delivery_tag=1))
        self.stored.append(body)
        return spec.Basic.Ack(delivery_tag=1)


class FakeQueue:
    async def bind(self, *_: Any, **__: Any) -> None:
        return None


class FakeChannel:
    def __init__(self, refuses: bool) -> None:
        self.underlay = FakeUnderlay(refuses)
        self.is_closed = False

    async def get_underlay_channel(self) -> FakeUnderlay:
        return self.underlay

    async def declare_exchange(self, *_: Any, **__: Any) -> object:
        return object()

    async def declare_queue(self, *_: Any, **__: Any) -> FakeQueue:
        return FakeQueue()

    async def close(self) -> None:
        self.is_closed = True


class StuckFirstChannel:
    """A connected broker whose first channel refuses every publish (see module docstring)."""

    def __init__(self) -> None:
        self.channels: list[FakeChannel] = []
        self.is_closed = False
        self.connected = asyncio.Event()
        self.connected.set()
        self.reconnect_callbacks: set[Any] = set()

    async def channel(self, **_: Any) -> FakeChannel:
        opened = FakeChannel(refuses=not self.channels)
        self.channels.append(opened)
        return opened

    async def close(self) -> None:
        self.is_closed = True

    def stored(self) -> list[bytes]:
        return [body for channel in self.channels for body in channel.underlay.stored]


@pytest.fixture
async def broker(monkeypatch: pytest.MonkeyPatch) -> StuckFirstChannel:
    fake = StuckFirstChannel()

    async def connect(url: str, *, timeout: float) -> StuckFirstChannel:
        return fake

    monkeypatch.setattr(amqp_wire, "connect", connect)
    return fake


def job(number: int) -> Outgoing:
    return Outgoing("job.created", f"job-{number}".encode())


async def test_after_a_refused_publish_the_next_one_is_stored_on_a_new_channel(
    broker: StuckFirstChannel,
) -> None:
    bus = RabbitBus("amqp://guest:guest@127.0.0.1:1/")
    await bus.open()
    with pytest.raises(DependencyDown, match="refused"):
        await bus.publish_many([job(1)])

    await bus.publish_many([job(2)])  # what a client's retry of the 503 does

    assert broker.stored() == [b"job-2"]
    refusing = broker.channels[0]
    await asyncio.sleep(0.01)  # it closes once its confirms are in (there are none)
    assert refusing.is_closed
    await bus.close()


async def test_concurrent_refused_publishes_open_one_new_channel_not_one_each(
    broker: StuckFirstChannel,
) -> None:
    bus = RabbitBus("amqp://guest:guest@127.0.0.1:1/")
    await bus.open()
    refused = await asyncio.gather(
        *(bus.publish_many([job(n)]) for n in range(20)), return_exceptions=True
    )
    assert all(isinstance(answer, DependencyDown) for answer in refused)

    await asyncio.gather(*(bus.publish_many([job(n)]) for n in range(20, 40)))

    assert sorted(broker.stored()) == sorted(f"job-{n}".encode() for n in range(20, 40))
    assert len(broker.channels) == 2  # the refusing one and its single replacement
    await bus.close()
