"""A batch's publish frames, encoded by hand for speed, are byte for byte what aiormq's
`basic_publish` writes through pamqp (frames.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import aiormq
import pytest
from aiormq import spec
from aiormq.abc import ChannelFrame
from pamqp import commands
from pamqp.body import ContentBody
from pamqp.header import ContentHeader

from observatory.core.bus import frames, publishing
from observatory.core.bus.port import Outgoing

MAX = 131072 - 8  # aiormq's max content size for RabbitMQ's default frame_max


def as_aiormq(channel: int, exchange: str, message: Outgoing, max_size: int) -> bytes:
    """What aiormq 7's basic_publish queues for the same message."""
    body = message.body
    chunks = [body[i : i + max_size] for i in range(0, len(body), max_size)]
    header = ContentHeader(
        body_size=len(body), properties=frames.properties(message.headers, message.message_id)
    )
    publish = commands.Basic.Publish(exchange=exchange, routing_key=message.routing_key)
    return ChannelFrame.marshall(
        channel_number=channel, frames=[publish, header, *map(ContentBody, chunks)]
    ).payload


@pytest.mark.parametrize(
    "message",
    [
        Outgoing("job.completed", b'{"eventId":"x"}', message_id="2b0c8f8e-0d7c-5a6e-9d54-1f0e"),
        Outgoing("job.created", b"", message_id="empty-body"),
        Outgoing("job.executed", b"\x00\xce" * 5, {"traceparent": "00-abc-def-01"}, "with-headers"),
        Outgoing("jobs.created.delay.2s", "é".encode() * 10, {"x-attempt": 2}, "ü-id"),
        Outgoing(
            "job.created",
            b"{}",
            {
                "tracestate": "vendor=é,other=1",
                "traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00",
            },
            "two-text-headers",
        ),
        Outgoing("job.created", b"{}", {"traceparent": "x", "x-attempt": 3}, "text-and-int"),
        Outgoing("job.created", b"{}", {"k" * 200: "long key"}, "key-over-128-bytes"),
        Outgoing("job.created", b"{}", {"": "empty key"}, "empty-key"),
        Outgoing(
            "job.created",
            b"{}",
            {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
            "w3c-traceparent",
        ),
        Outgoing("job.created", b"{}", {"traceparent": "\u00e9" * 55}, "55-letters-not-ascii"),
        Outgoing("job.created", b"{}", {"traceparent": "0" * 54}, "54-characters"),
        Outgoing("job.created", b"{}", {"tracestate": "0" * 55}, "55-characters-other-key"),
    ],
)
def test_one_publish_encodes_as_aiormq_does(message: Outgoing) -> None:
    assert frames.encode(7, "odto.events", message, MAX) == as_aiormq(
        7, "odto.events", message, MAX
    )


def test_a_body_longer_than_a_frame_is_split_as_aiormq_splits_it() -> None:
    message = Outgoing("job.created", bytes(range(256)) * 5, message_id="big")
    assert frames.encode(1, "", message, 100) == as_aiormq(1, "", message, 100)


def test_a_message_without_an_id_gets_a_fresh_one() -> None:
    first = frames.encode(1, "x", Outgoing("k", b"{}"), MAX)
    second = frames.encode(1, "x", Outgoing("k", b"{}"), MAX)
    assert first != second
    assert len(first) == len(second)


def test_a_routing_key_too_long_for_amqp_is_refused_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match="routing key"):
        frames.encode(1, "x", Outgoing("k" * 256, b"{}", message_id="m"), MAX)


class FakeChannel:
    """The parts of an aiormq channel `frames.send` uses."""

    def __init__(self, queue_size: int = 0) -> None:
        self.number = 3
        self.max_content_size = MAX
        self.delivery_tag = 41
        self.confirmations: dict[int, asyncio.Future[Any]] = {}
        self.write_queue: asyncio.Queue[ChannelFrame] = asyncio.Queue(queue_size)
        self._lock = asyncio.Lock()
        self.store: list[asyncio.Future[Any]] = []

    @property
    def lock(self) -> asyncio.Lock:
        return self._lock

    def create_future(self) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.store.append(future)
        return future


BATCH = [Outgoing("job.validated", b"{}", message_id=f"m{n}") for n in range(3)]


async def test_a_batch_is_one_write_with_the_next_delivery_tags_awaiting_confirms() -> None:
    channel = FakeChannel()
    sent = await frames.send(channel, "odto.events", BATCH)  # type: ignore[arg-type]  # a fake channel

    queued = channel.write_queue.get_nowait()
    assert queued.payload == b"".join(frames.encode(3, "odto.events", m, MAX) for m in BATCH)
    assert channel.write_queue.empty()
    assert list(channel.confirmations) == [42, 43, 44]
    assert list(channel.confirmations.values()) == sent.confirms
    assert not any(c.done() for c in sent.confirms)
    assert channel.delivery_tag == 44


async def test_a_batch_whose_queuing_is_cancelled_gives_its_delivery_tags_back() -> None:
    channel = FakeChannel(queue_size=1)
    channel.write_queue.put_nowait(ChannelFrame(payload=b"", should_close=False))  # full
    sending = asyncio.create_task(frames.send(channel, "x", BATCH))  # type: ignore[arg-type]  # a fake channel
    await asyncio.sleep(0)
    sending.cancel()
    with pytest.raises(asyncio.CancelledError):
        await sending
    assert channel.delivery_tag == 41
    assert channel.confirmations == {}


async def test_confirms_pending_when_the_channel_closes_fail_with_its_reason() -> None:
    """Nobody waits out the publish timeout for a channel that is gone."""
    loop = asyncio.get_running_loop()
    confirms: list[asyncio.Future[Any]] = [loop.create_future(), loop.create_future()]
    confirms[0].set_result(None)
    closed: asyncio.Future[Any] = loop.create_future()
    waiting = asyncio.create_task(publishing._all_unless_closed(frames.Sent(confirms, closed)))
    await asyncio.sleep(0)
    closed.set_exception(aiormq.exceptions.ChannelClosed(320, "connection forced"))
    with pytest.raises(aiormq.exceptions.ChannelClosed):
        await waiting


async def test_a_nack_fails_the_batch_and_the_other_confirms_still_resolve_quietly() -> None:
    loop = asyncio.get_running_loop()
    confirms: list[asyncio.Future[Any]] = [loop.create_future(), loop.create_future()]
    closed: asyncio.Future[Any] = loop.create_future()
    waiting = asyncio.create_task(publishing._all_unless_closed(frames.Sent(confirms, closed)))
    await asyncio.sleep(0)
    confirms[0].set_exception(
        aiormq.exceptions.DeliveryError(None, spec.Basic.Nack(delivery_tag=1))
    )
    with pytest.raises(aiormq.exceptions.DeliveryError):
        await waiting
    assert closed.cancelled()  # its future in the channel's store is released
    assert not confirms[1].done()  # left for the broker's own answer


def test_a_lone_traceparent_encodes_as_aiormq_does_each_time_it_is_sent() -> None:
    """A job's events share one `traceparent`: every message with it, and with other
    ones, encodes as pamqp does."""
    parents = [f"00-{n + 1:032x}-b7ad6b7169203331-01" for n in range(5)]
    for parent in [parents[0], parents[0], *parents, parents[0]]:
        message = Outgoing("job.completed", b"{}", {"traceparent": parent}, "m")
        assert frames.encode(3, "x", message, MAX) == as_aiormq(3, "x", message, MAX)
