"""A batch writer off the request path: `add()` never blocks and never fails the request.

A small task writes what is queued every `interval` seconds, or as soon as `batch` items
wait, with one call of `write`. What it writes only makes things visible sooner or
records them (PENDING rows, audit entries), so losing an item costs little and nothing
waits for it:

- a write that fails (DependencyDown) is tried again `attempts` times in all, with a
  short back-off, then the items are logged and counted as dropped (nothing retries
  forever);
- a batch the store refuses (InvalidMessage) is written item by item, and only the
  refused items are dropped;
- past `capacity` queued items (the store is down for long) the oldest are dropped.

`flush()` writes everything queued now, waiting for a write in progress; `close()`
flushes on shutdown and stops the task.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import structlog

from observatory.core.errors import DependencyDown, InvalidMessage

log = structlog.get_logger("observatory.gateway")

T = TypeVar("T")


class BatchWriter(Generic[T]):
    """Queues items and writes them in batches (see module docstring)."""

    def __init__(
        self,
        write: Callable[[Sequence[T]], Awaitable[object]],
        *,
        name: str,
        interval: float = 0.05,
        batch: int = 500,
        capacity: int = 50_000,
        attempts: int = 3,
        backoff: float = 0.1,
    ) -> None:
        self.write, self.name = write, name
        self.interval, self.batch, self.capacity = interval, batch, capacity
        self.attempts, self.backoff = attempts, backoff
        self.dropped = 0
        self._queue: deque[T] = deque()
        self._wake = asyncio.Event()
        self._full = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def add(self, item: T) -> None:
        """Queue an item (never blocks); the writer task starts on first use."""
        if self._closed:
            return
        self._queue.append(item)
        if len(self._queue) > self.capacity:
            self._queue.popleft()
            self._drop(1, "queue full")
        self._wake.set()
        if len(self._queue) >= self.batch:
            self._full.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"{self.name}-writer")

    async def flush(self) -> None:
        """Write every item queued before this call, and wait for a write in progress
        (errors are handled as in the module docstring)."""
        while True:
            async with self._lock:
                if not self._queue:
                    return
                items = [self._queue.popleft() for _ in range(min(self.batch, len(self._queue)))]
                await self._write(items)

    async def close(self) -> None:
        """Write what is queued, then stop (the task is stopped outside a write)."""
        self._closed = True
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), self.interval)
            await self.flush()
            if not self._queue:
                self._wake.clear()
                self._full.clear()

    async def _write(self, items: list[T]) -> None:
        for attempt in range(1, self.attempts + 1):
            try:
                await self.write(items)
            except InvalidMessage:
                await self._one_by_one(items)
                return
            except DependencyDown as exc:
                if attempt == self.attempts:
                    self._drop(len(items), str(exc))
                    return
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            else:
                return

    async def _one_by_one(self, items: list[T]) -> None:
        for item in items:
            try:
                await self.write([item])
            except (InvalidMessage, DependencyDown) as exc:
                self._drop(1, str(exc))

    def _drop(self, count: int, reason: str) -> None:
        self.dropped += count
        log.warning("items not written", writer=self.name, count=count, reason=reason[:300])
