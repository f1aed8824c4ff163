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

Several brokers of one cluster: `RABBITMQ_URL` may list AMQP URLs separated by commas
(`amqp://rabbit-0:5672/,amqp://rabbit-1:5672/`, credentials included); they must agree on everything
but host and port. Each connection attempt tries the nodes in turn, starting with the
one after the node it last used, so when a node dies the robust connection's reconnect
goes to another one. Several URLs need plain `amqp://`.

aiormq bounds its queue of frames waiting for the writer by the class attribute
`FRAME_BUFFER_SIZE` (10). With 10, a batch of 100 publishes enters it one frame per
loop turn, and the writer sends each on its own. `WRITE_QUEUE_FRAMES` is the bound this
process uses for every aiormq connection; publishers still wait for their confirms.

A lone `traceparent` table (a trace context) is decoded on table_decoding.py's short way.
"""

from __future__ import annotations

import asyncio
from typing import Any

import aio_pika
import aiormq
from aio_pika.abc import ConnectionParameter
from aiormq.connection import TransportFactory
from yarl import URL

from observatory.core.bus import table_decoding
from observatory.core.errors import ConfigurationError

WRITE_QUEUE_FRAMES = 2048
aiormq.Connection.FRAME_BUFFER_SIZE = max(aiormq.Connection.FRAME_BUFFER_SIZE, WRITE_QUEUE_FRAMES)
table_decoding.install()


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


NODE_TIMEOUT = 3.0
"""How long one node of a list may take to accept the TCP connection before the next is tried."""


class CoalescingTransportFactory(TransportFactory):
    """Opens the TCP connection with a CoalescingWriter, to the URL's node or, given
    `nodes`, to the first of them that accepts it (see module docstring)."""

    def __init__(self, nodes: list[tuple[str, int]] | None = None) -> None:
        self.nodes = nodes or []
        self._next = 0

    async def create(
        self, url: URL, **kwargs: Any
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        kwargs.pop("ssl_context_provider", None)
        if not self.nodes:
            return await self._open(url.host or "localhost", url.port or 5672, kwargs)
        failures: list[str] = []
        for offset in range(len(self.nodes)):
            index = (self._next + offset) % len(self.nodes)
            host, port = self.nodes[index]
            try:
                opened = await asyncio.wait_for(self._open(host, port, kwargs), NODE_TIMEOUT)
            except (aio_pika.exceptions.AMQPConnectionError, TimeoutError) as exc:
                failures.append(f"{host}:{port} ({type(exc).__name__})")
                continue
            self._next = (index + 1) % len(self.nodes)  # a reconnect starts with another node
            return opened
        raise aio_pika.exceptions.AMQPConnectionError("no node answered: " + ", ".join(failures))

    async def _open(
        self, host: str, port: int, kwargs: dict[str, Any]
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(loop=loop)
        protocol = asyncio.StreamReaderProtocol(reader, loop=loop)
        try:
            transport, _ = await loop.create_connection(lambda: protocol, host, port, **kwargs)
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


def nodes_of(url: str) -> tuple[URL, list[tuple[str, int]]]:
    """The URL to connect with and, when `url` lists several, every node's host and port."""
    urls = [URL(part.strip()) for part in url.split(",") if part.strip()]
    if not urls:
        raise ConfigurationError("RABBITMQ_URL is empty")
    if len(urls) == 1:
        return urls[0], []
    first = urls[0]
    for other in urls:
        if other.scheme != "amqp":
            raise ConfigurationError("RABBITMQ_URL: a list of nodes needs amqp:// URLs")
        if (other.user, other.password, other.path, other.query) != (
            first.user,
            first.password,
            first.path,
            first.query,
        ):
            raise ConfigurationError(
                "RABBITMQ_URL: the URLs of a list may differ only in host and port "
                "(same user, password, virtual host and options)"
            )
    return first, [(u.host or "localhost", u.port or 5672) for u in urls]


async def connect(url: str, *, timeout: float) -> aio_pika.abc.AbstractRobustConnection:
    """A robust connection to `url` (one URL, or several nodes of a cluster: see module
    docstring), with the coalescing writer unless it is amqps."""
    first, nodes = nodes_of(url)
    if first.scheme == "amqps":
        return await aio_pika.connect_robust(url, timeout=timeout)
    # built directly: connect_robust would also put the factory into the URL's query
    connection = WireConnection(first, transport_factory=CoalescingTransportFactory(nodes))
    await connection.connect(timeout=timeout)
    return connection
