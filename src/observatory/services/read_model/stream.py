"""Server-Sent Events: one loop shared by every subscriber pushes stats snapshots and new
lifecycle events, so UIs never have to poll.

The loop is woken by the event store's news (core.stores.news): the first news after a
quiet spell is read and pushed at once; while news keeps coming, at most one flush per
`coalesce` seconds, and one more flush `coalesce` after the last news (the metrics engine
writes the counters just after the events, so the stats catch up). With live news it
still looks every `safety` seconds (stats that changed without an event, a lost
notification); without (MongoDB, SQLite written by another process, a listener that
dropped) it polls every `interval` seconds as before."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
import structlog

from observatory.core.errors import DependencyDown
from observatory.core.stores.news import EventNews, NoNews

log = structlog.get_logger("observatory.read_model.stream")
HEARTBEAT_SECONDS = 15.0
QUEUE_LIMIT = 200


def sse(event: str, data: Any) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class Broadcaster:
    """Reads news while someone listens and fans it out (see the module docstring)."""

    def __init__(
        self,
        stats: Callable[[], Awaitable[dict[str, Any]]],
        recent_events: Callable[[int], Awaitable[list[dict[str, Any]]]],
        interval: float,
        *,
        news: EventNews | None = None,
        coalesce: float = 0.05,
        safety: float = 2.0,
    ) -> None:
        self._stats, self._recent, self._interval = stats, recent_events, interval
        self._news: EventNews = news or NoNews()
        self._coalesce, self._safety = coalesce, safety
        self._subscribers: set[asyncio.Queue[bytes]] = set()
        self._task: asyncio.Task[None] | None = None
        self._last_stats: dict[str, Any] | None = None
        self._seen: deque[str] = deque(maxlen=500)

    async def subscribe(self) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE_LIMIT)
        self._subscribers.add(queue)
        if self._task is None or self._task.done():
            self._news.start()
            self._task = asyncio.create_task(self._run(), name="stream-news")
        try:
            with contextlib.suppress(DependencyDown):
                yield sse("stats", await self._stats())
            while True:
                # asyncio.timeout, not wait_for: on 3.11 wait_for swallows a cancellation
                # (the client left) that comes as a message does, and the loop never ends.
                try:
                    async with asyncio.timeout(HEARTBEAT_SECONDS):
                        message = await queue.get()
                except TimeoutError:
                    message = b": keep-alive\n\n"
                yield message
        finally:
            self._subscribers.discard(queue)

    def _publish(self, message: bytes) -> None:
        for queue in list(self._subscribers):
            if queue.full():  # a slow client loses its oldest news, never blocks others
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(message)

    async def _run(self) -> None:
        primed = await self._flush(primed=False)
        while self._subscribers:
            woke = await self._news.wait(self._safety if self._news.live else self._interval)
            while woke and self._subscribers:
                primed = await self._flush(primed)
                # A burst: at most one flush per `coalesce`, and one more when it ends
                # (the metrics engine writes the counters just after the events).
                await asyncio.sleep(self._coalesce)
                woke = await self._news.wait(0)
            primed = await self._flush(primed)

    async def _flush(self, primed: bool) -> bool:
        """Push what is new; True once the events seen so far are known (later ones are
        pushed), False while the store could not be read yet."""
        try:
            await self._tick(primed)
        except DependencyDown as exc:
            log.warning("stream read failed", error=str(exc))
            return primed
        except Exception:
            log.exception("stream read crashed")
            return primed
        return True

    async def _tick(self, primed: bool) -> None:
        events = await self._recent(50)
        fresh = [e for e in events if e["eventId"] not in self._seen]
        for event in reversed(fresh):
            self._seen.append(event["eventId"])
            if primed:
                self._publish(sse("job-event", event))
        stats = await self._stats()
        if stats != self._last_stats:
            self._last_stats = stats
            self._publish(sse("stats", stats))

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._news.close()
