"""A batch's publish frames, encoded by hand for speed, are byte for byte what aiormq's
`basic_publish` writes through pamqp (frames.py)."""

from __future__ import annotations

import pytest
from aiormq.abc import ChannelFrame
from pamqp import commands
from pamqp.body import ContentBody
from pamqp.header import ContentHeader

from observatory.core.bus import frames
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
