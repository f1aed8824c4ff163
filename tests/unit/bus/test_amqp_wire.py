"""The AMQP writer: the frames of one loop turn leave in one send, in order."""

from __future__ import annotations

import asyncio

from observatory.core.bus.amqp_wire import CoalescingWriter


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[bytes] = []
        self.closing = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        self.sent.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True


def writer() -> tuple[CoalescingWriter, FakeTransport]:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(loop=loop)
    protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
    transport = FakeTransport()
    return CoalescingWriter(transport, protocol, reader, loop), transport


async def test_frames_written_in_one_loop_turn_are_sent_together() -> None:
    stream, transport = writer()
    for frame in (b"publish-1", b"publish-2", b"ack-9"):
        stream.write(frame)
    assert transport.sent == []
    await asyncio.sleep(0)
    assert transport.sent == [b"publish-1publish-2ack-9"]

    stream.write(b"next-turn")
    await asyncio.sleep(0)
    assert transport.sent == [b"publish-1publish-2ack-9", b"next-turn"]
    stream.close()


async def test_drain_and_close_send_what_is_pending_first() -> None:
    stream, transport = writer()
    stream.writelines([b"a", b"b"])
    await stream.drain()
    assert transport.sent == [b"ab"]
    stream.write(b"close-frame")
    stream.close()
    assert transport.sent == [b"ab", b"close-frame"]
    await asyncio.sleep(0)
    assert transport.sent == [b"ab", b"close-frame"]


async def test_nothing_is_written_to_a_closing_transport() -> None:
    stream, transport = writer()
    stream.write(b"late")
    transport.closing = True
    await asyncio.sleep(0)
    assert transport.sent == []
    stream.close()
