"""A publish the broker refuses (a nack) on the RabbitMQ bus goes once more, on a new
channel: the channel that refused is not used again.

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
from tests.waiting import wait_until_async

from observatory.core.bus import amqp_wire, frames
from observatory.core.bus.port import Outgoing
from observatory.core.bus.rabbitmq import RabbitBus
from observatory.core.errors import OutcomeUnknown


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
        self.refuse_all = False  # every channel refuses: the broker refuses the message

    async def channel(self, **_: Any) -> FakeChannel:
        opened = FakeChannel(refuses=self.refuse_all or not self.channels)
        self.channels.append(opened)
        return opened

    async def close(self) -> None:
        self.is_closed = True

    def stored(self) -> list[bytes]:
        return [body for channel in self.channels for body in channel.underlay.stored]


async def send(underlay: FakeUnderlay, exchange: str, messages: list[Outgoing]) -> frames.Sent:
    """`frames.send` on the fake channel: each message confirmed or refused by it."""
    return frames.Sent(
        [asyncio.ensure_future(underlay.basic_publish(m.body)) for m in messages],
        asyncio.get_running_loop().create_future(),  # the channel stays open
    )


@pytest.fixture
async def broker(monkeypatch: pytest.MonkeyPatch) -> StuckFirstChannel:
    fake = StuckFirstChannel()

    async def connect(url: str, *, timeout: float) -> StuckFirstChannel:
        return fake

    monkeypatch.setattr(amqp_wire, "connect", connect)
    monkeypatch.setattr(frames, "send", send)
    return fake


def job(number: int) -> Outgoing:
    return Outgoing("job.created", f"job-{number}".encode())


async def test_a_publish_refused_on_its_channel_is_stored_through_a_new_one(
    broker: StuckFirstChannel,
) -> None:
    """The same message goes again at once on a new channel (a nack of a message routed
    to several queues may have stored it in some: the copies must be the same event)."""
    bus = RabbitBus("amqp://guest:guest@127.0.0.1:1/")
    await bus.open()

    await bus.publish_many([job(1)])
    await bus.publish_many([job(2)])

    assert broker.stored() == [b"job-1", b"job-2"]
    refusing = broker.channels[0]
    # it closes once its confirms are in (there are none)
    assert await wait_until_async(lambda: refusing.is_closed, timeout=5, message="channel closed")
    await bus.close()


async def test_concurrent_refused_publishes_open_one_new_channel_not_one_each(
    broker: StuckFirstChannel,
) -> None:
    bus = RabbitBus("amqp://guest:guest@127.0.0.1:1/")
    await bus.open()

    await asyncio.gather(*(bus.publish_many([job(n)]) for n in range(20)))

    assert sorted(broker.stored()) == sorted(f"job-{n}".encode() for n in range(20))
    assert len(broker.channels) == 2  # the refusing one and its single replacement
    await bus.close()


async def test_a_publish_refused_on_the_new_channel_too_has_an_unknown_outcome(
    broker: StuckFirstChannel,
) -> None:
    """Nothing retries forever: refused twice, the caller hears that the outcome is
    unknown (the gateway's 503 with `outcome: unknown`: retry with the same id)."""
    bus = RabbitBus("amqp://guest:guest@127.0.0.1:1/")
    await bus.open()
    broker.refuse_all = True

    with pytest.raises(OutcomeUnknown, match="refused"):
        await bus.publish_many([job(1)])

    assert broker.stored() == []
    assert len(broker.channels) == 2  # one more try, on one new channel
    await bus.close()
