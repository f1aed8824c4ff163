"""After the broker cancels a consumer (its queue deleted), the RabbitMQ bus declares,
binds and consumes the queue again, a bounded number of times: it gives up (with a log
line each try) when the broker keeps refusing, and does nothing when the queue is
already consumed again (the channel reopened meanwhile). The broker is a fake channel
here; tests/integration/ports/test_rabbit_reconnect.py does it on a real one."""

from __future__ import annotations

from typing import Any

import aio_pika
import pytest
from aiormq import spec

from observatory.core.bus import rabbitmq
from observatory.core.bus.rabbitmq import RabbitBus, _Consumer
from observatory.core.bus.topology import JOBS_CREATED


class Broker:
    """A channel whose queue declarations fail `failures` times, then succeed."""

    def __init__(self, failures: int) -> None:
        self.failures, self.declared = failures, 0
        self.bound: list[str] = []
        self.consumed: list[str] = []
        self.on_consumer_cancel_callbacks: set[Any] = set()

    async def get_underlay_channel(self) -> Broker:
        return self

    async def declare_queue(self, name: str, **_: Any) -> Broker:
        self.declared += 1
        if self.declared <= self.failures:
            raise aio_pika.exceptions.AMQPConnectionError("refused")
        return self

    async def bind(self, exchange: str, routing_key: str) -> None:
        self.bound.append(routing_key)

    async def basic_qos(self, **_: Any) -> None:
        return None

    async def basic_consume(self, name: str, *_: Any, **__: Any) -> spec.Basic.ConsumeOk:
        self.consumed.append(name)
        return spec.Basic.ConsumeOk(consumer_tag=f"tag-{len(self.consumed)}")


async def _receive(_: Any) -> None:
    return None


def cancelled(failures: int) -> tuple[RabbitBus, _Consumer, Broker, str]:
    bus = RabbitBus("amqp://127.0.0.1:1/", namespace="t")
    broker = Broker(failures)
    queue = bus.names.q(JOBS_CREATED)
    # Broker fakes the aio-pika channel and the aiormq one under it in one small class;
    # _Consumer's field is typed as aio-pika's full channel interface, which it is not.
    consumer = _Consumer(broker, {queue: _receive}, {queue: 10})  # type: ignore[arg-type]  # a fake channel
    return bus, consumer, broker, queue


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rabbitmq, "CANCEL_PAUSE", 0.0)


async def test_the_queue_is_declared_bound_and_consumed_again_after_refusals() -> None:
    bus, consumer, broker, queue = cancelled(failures=2)
    await bus._consume_again(consumer, queue)
    assert broker.declared == 3
    assert broker.bound == ["job.created"]  # its binding, as the topology says
    assert broker.consumed == [queue]
    assert consumer.tags == {"tag-1": queue}


async def test_it_gives_up_after_its_attempts() -> None:
    bus, consumer, broker, queue = cancelled(failures=100)
    await bus._consume_again(consumer, queue)
    assert broker.declared == rabbitmq.CANCEL_ATTEMPTS
    assert broker.consumed == []


async def test_nothing_is_done_for_a_queue_consumed_again_meanwhile() -> None:
    bus, consumer, broker, queue = cancelled(failures=0)
    consumer.tags["tag-from-a-reopen"] = queue
    await bus._consume_again(consumer, queue)
    assert broker.declared == 0
