"""PENDING rows for accepted jobs, written in batches off the request path.

`POST /jobs` (and a retry) answers 202 once the job is on the bus; then it only queues a
`Pending` row here, which never blocks and never fails the request. A small task writes
what is queued every `interval` seconds, or as soon as `batch` rows wait, with one
`JobStore.accept()` each. The row is for visibility only (the processor creates or moves
it anyway, and accept() never moves a row the processor wrote), so losing one costs
nothing but a moment of visibility:

- a write that fails is tried again `attempts` times in all, with a short back-off,
  then the rows are logged and counted as dropped (nothing retries forever);
- a batch the store refuses (InvalidMessage) is written row by row, and only the
  refused rows are dropped;
- past `capacity` queued rows (the store is down for long) the oldest are dropped.

`flush()` writes everything queued now (the cancel route needs the row to exist);
`close()` flushes on shutdown and stops the task.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from datetime import datetime
from typing import Any

import structlog

from observatory.core.clock import parse_iso
from observatory.core.errors import DependencyDown, InvalidMessage
from observatory.core.stores.ports import JobStore
from observatory.core.stores.records import Pending

log = structlog.get_logger("observatory.gateway")


def pending_of(envelope: dict[str, Any], at: datetime) -> Pending:
    """The PENDING row of a job.created envelope the gateway just published."""
    job = envelope["payload"]
    return Pending(
        job_id=job["id"],
        type=job["type"],
        payload=job.get("payload") or {},
        metadata=job.get("metadata") or {},
        created_at=parse_iso(job["createdAt"]),
        run=int(job.get("run") or 1),
        event_id=envelope["eventId"],
        correlation_id=envelope["correlationId"],
        at=at,
    )


class PendingWriter:
    """Queues Pending rows and writes them in batches (see module docstring)."""

    def __init__(
        self,
        jobs: JobStore,
        *,
        interval: float = 0.05,
        batch: int = 500,
        capacity: int = 50_000,
        attempts: int = 3,
        backoff: float = 0.1,
    ) -> None:
        self.jobs = jobs
        self.interval, self.batch, self.capacity = interval, batch, capacity
        self.attempts, self.backoff = attempts, backoff
        self.dropped = 0
        self._queue: deque[Pending] = deque()
        self._wake = asyncio.Event()
        self._full = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def add(self, pending: Pending) -> None:
        """Queue a row (never blocks); the writer task starts on first use."""
        if self._closed:
            return
        self._queue.append(pending)
        if len(self._queue) > self.capacity:
            self._queue.popleft()
            self._drop(1, "queue full")
        self._wake.set()
        if len(self._queue) >= self.batch:
            self._full.set()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="pending-writer")

    async def flush(self) -> None:
        """Write every row queued before this call, and wait for a write in progress
        (errors are handled as in the module docstring)."""
        while True:
            async with self._lock:
                if not self._queue:
                    return
                rows = [self._queue.popleft() for _ in range(min(self.batch, len(self._queue)))]
                await self._write(rows)

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

    async def _write(self, rows: list[Pending]) -> None:
        for attempt in range(1, self.attempts + 1):
            try:
                await self.jobs.accept(rows)
            except InvalidMessage:
                await self._one_by_one(rows)
                return
            except DependencyDown as exc:
                if attempt == self.attempts:
                    self._drop(len(rows), str(exc))
                    return
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))
            else:
                return

    async def _one_by_one(self, rows: list[Pending]) -> None:
        for row in rows:
            try:
                await self.jobs.accept([row])
            except (InvalidMessage, DependencyDown) as exc:
                self._drop(1, str(exc), job_id=row.job_id)

    def _drop(self, count: int, reason: str, job_id: str | None = None) -> None:
        self.dropped += count
        log.warning("pending rows not written", count=count, reason=reason[:300], job_id=job_id)
