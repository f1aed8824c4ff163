"""The AMQP socket: frames written in one event-loop turn leave in one send.

aiormq writes every frame (a publish, an ack) to the socket on its own, and each write
is a `send` system call; under load that was a fifth of the processor's time. The
writer here collects the frames of one loop turn and sends them joined at the end of
it, so a batch of publishes costs one system call and the broker reads one segment.
Nothing waits longer than that loop turn, and `drain()` (aiormq's back-pressure and
close path) sends what is pending first.

aio-pika passes only the connection keywords it knows to aiormq, so `WireConnection`
declares `transport_factory` as one of them. Plain `amqp://` only; `amqps://` keeps
aiormq's TLS transport.

aiormq bounds its queue of frames waiting for the writer by the class attribute
`FRAME_BUFFER_SIZE` (10). With 10, a batch of 100 publishes enters it one frame per
loop turn, and the writer sends each on its own. `WRITE_QUEUE_FRAMES` is the bound this
process uses for every aiormq connection; publishers still wait for their confirms.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import ConnectionParameter
from aiormq.connection import TransportFactory
from yarl import URL

WRITE_QUEUE_FRAMES = 2048
aiormq.Connection.FRAME_BUFFER_SIZE = max(aiormq.Connection.FRAME_BUFFER_SIZE, WRITE_QUEUE_FRAMES)


class CoalescingWriter(asyncio.StreamWriter):
    """A StreamWriter that joins the writes of one loop turn into one."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self._pending: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self.flush)
        self._pending.append(bytes(data))

    def writelines(self, data: Any) -> None:
        for chunk in data:
            self.write(chunk)

    def flush(self) -> None:
        if not self._pending:
            return
        data = self._pending[0] if len(self._pending) == 1 else b"".join(self._pending)
        self._pending.clear()
        if not self.transport.is_closing():
            super().write(data)

    async def drain(self) -> None:
        self.flush()
        await super().drain()

    def write_eof(self) -> None:
        self.flush()
        super().write_eof()

    def close(self) -> None:
        self.flush()
        super().close()


class CoalescingTransportFactory(TransportFactory):
    """Opens the TCP connection with a CoalescingWriter."""

    async def create(
        self, url: URL, **kwargs: Any
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        kwargs.pop("ssl_context_provider", None)
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(loop=loop)
        protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
        try:
            transport, _ = await loop.create_connection(
                lambda: protocol, url.host or "localhost", url.port or 5672, **kwargs
            )
        except OSError as exc:
            raise aio_pika.exceptions.AMQPConnectionError(*exc.args) from exc
        return reader, CoalescingWriter(transport, protocol, reader, loop)


def _factory_only(value: Any) -> TransportFactory | None:
    """Only a factory object given in code; never a string from the URL's query."""
    return value if isinstance(value, TransportFactory) else None


class WireConnection(aio_pika.RobustConnection):
    """A robust aio-pika connection that hands `transport_factory` through to aiormq."""

    PARAMETERS = (
        *aio_pika.RobustConnection.PARAMETERS,
        ConnectionParameter(name="transport_factory", parser=_factory_only, is_kwarg=True),
    )


async def connect(url: str, *, timeout: float) -> aio_pika.abc.AbstractRobustConnection:
    """A robust connection to `url`, with the coalescing writer unless it is amqps."""
    if URL(url).scheme == "amqps":
        return await aio_pika.connect_robust(url, timeout=timeout)
    # built directly: connect_robust would also put the factory into the URL's query
    connection = WireConnection(URL(url), transport_factory=CoalescingTransportFactory())
    await connection.connect(timeout=timeout)
    return connection
