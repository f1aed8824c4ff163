"""Server-Sent Events: one poller shared by every subscriber pushes stats snapshots and
new lifecycle events, coalesced to the poll pace, so UIs never have to poll."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import orjson
import structlog

from observatory.core.errors import DependencyDown

log = structlog.get_logger("observatory.read_model.stream")
HEARTBEAT_SECONDS = 15.0
QUEUE_LIMIT = 200


def sse(event: str, data: Any) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class Broadcaster:
    """Polls for news while someone listens and fans it out."""

    def __init__(
        self,
        stats: Callable[[], Awaitable[dict[str, Any]]],
        recent_events: Callable[[int], Awaitable[list[dict[str, Any]]]],
        interval: float,
    ) -> None:
        self._stats, self._recent, self._interval = stats, recent_events, interval
        self._subscribers: set[asyncio.Queue[bytes]] = set()
        self._task: asyncio.Task[None] | None = None
        self._last_stats: dict[str, Any] | None = None
        self._seen: deque[str] = deque(maxlen=500)

    async def subscribe(self) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue(QUEUE_LIMIT)
        self._subscribers.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._poll(), name="stream-poller")
        try:
            with contextlib.suppress(DependencyDown):
                yield sse("stats", await self._stats())
            while True:
                try:
                    yield await asyncio.wait_for(queue.get(), HEARTBEAT_SECONDS)
                except TimeoutError:
                    yield b": keep-alive\n\n"
        finally:
            self._subscribers.discard(queue)

    def _publish(self, message: bytes) -> None:
        for queue in list(self._subscribers):
            if queue.full():  # a slow client loses its oldest news, never blocks others
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(message)

    async def _poll(self) -> None:
        primed = False
        while self._subscribers:
            try:
                await self._tick(primed)
                primed = True
            except DependencyDown as exc:
                log.warning("stream poll failed", error=str(exc))
            except Exception:
                log.exception("stream poll crashed")
            await asyncio.sleep(self._interval)

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
