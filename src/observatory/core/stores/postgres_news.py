"""PostgreSQL event news: LISTEN on the namespace's channel, which the event store's
insert NOTIFYs in the statement that stores the events (so the news comes after COMMIT:
stored, then pushed).

One dedicated connection per reader, kept in the background: it reconnects with back-off
when it drops, and until it is back the reader is not `live` (it polls). Every
(re)connection counts as news, so what was stored while nobody listened is read at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from typing import Any

import asyncpg
import structlog

from observatory.core.stores.news import Signal, SignalReader

log = structlog.get_logger("observatory.stores.news")
CHANNEL_PREFIX = "odto_events"
MAX_CHANNEL = 63  # PostgreSQL identifiers (NAMEDATALEN - 1 bytes)
FIRST_DELAY, MAX_DELAY = 0.5, 10.0


def news_channel(namespace: str) -> str:
    """The channel of `namespace`'s events (one database may hold many namespaces)."""
    channel = f"{CHANNEL_PREFIX}.{namespace}" if namespace else CHANNEL_PREFIX
    if len(channel.encode()) > MAX_CHANNEL:
        digest = hashlib.sha256(namespace.encode()).hexdigest()[:40]
        channel = f"{CHANNEL_PREFIX}.{digest}"
    return channel


class PostgresNews:
    """EventNews over LISTEN (see the module docstring)."""

    def __init__(self, url: str, *, namespace: str) -> None:
        self._url = url
        self.channel = news_channel(namespace)
        self._signal = Signal()
        self._reader = SignalReader(self._signal)
        self._conn: Any = None
        self._task: asyncio.Task[None] | None = None

    @property
    def live(self) -> bool:
        return self._conn is not None and not self._conn.is_closed()

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._listen(), name="event-news-listener")

    async def wait(self, timeout: float) -> bool:
        return await self._reader.wait(timeout)

    def server_pid(self) -> int | None:
        """The backend pid of the listening connection (None while down)."""
        return int(self._conn.get_server_pid()) if self.live else None

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _listen(self) -> None:
        delay = FIRST_DELAY
        while True:
            try:
                conn = await asyncpg.connect(
                    self._url, timeout=5, server_settings={"application_name": "odto-news"}
                )
            except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
                log.warning("event news: cannot listen, polling", error=type(exc).__name__)
                await asyncio.sleep(delay)
                delay = min(delay * 2, MAX_DELAY)
                continue
            try:
                await self._follow(conn)
                delay = FIRST_DELAY  # it listened: the next drop starts the back-off afresh
                log.warning("event news: connection lost, polling until it is back")
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("event news: listening failed, polling", error=type(exc).__name__)
                delay = min(delay * 2, MAX_DELAY)
            finally:
                self._conn = None
                with contextlib.suppress(Exception):
                    await asyncio.shield(conn.close(timeout=2))
            await asyncio.sleep(delay)

    async def _follow(self, conn: Any) -> None:
        """Listen on `conn` until it drops."""
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _: lost.set())
        await conn.add_listener(self.channel, self._heard)
        self._conn = conn
        self._signal.notify()  # read what was stored while nobody listened
        await lost.wait()

    def _heard(self, *_: object) -> None:
        self._signal.notify()
