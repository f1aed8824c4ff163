"""Runs a consumer's batch handler and settles each delivery: the one place where
handler results and errors become ack / reject / retry (see core.errors)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Sequence

import structlog

from observatory.core.bus.port import BatchHandler, Delivery, Outcome
from observatory.core.errors import DependencyDown

log = structlog.get_logger("observatory.bus")

BACKOFF_START = 0.2
BACKOFF_MAX = 15.0


class ConsumerRunner:
    """Keeps at most `prefetch` deliveries in flight and settles what the handler says."""

    def __init__(self, queue: str, handler: BatchHandler, *, prefetch: int) -> None:
        self.queue = queue
        self.handler = handler
        self.prefetch = prefetch
        self.in_flight = 0
        self._room = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()
        self._backoff = 0.0

    async def wait_for_room(self) -> int:
        """Block until fewer than `prefetch` deliveries are in flight; return the room."""
        async with self._room:
            await self._room.wait_for(lambda: self.in_flight < self.prefetch)
            return self.prefetch - self.in_flight

    def submit(self, batch: Sequence[Delivery]) -> None:
        """Handle `batch` in the background."""
        self.in_flight += len(batch)
        task = asyncio.create_task(self._handle(batch), name=f"handle-{self.queue}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle(self, batch: Sequence[Delivery]) -> None:
        try:
            outcomes = await self._outcomes(batch)
            for delivery, outcome in zip(batch, outcomes, strict=True):
                await delivery.settle(outcome)
        finally:
            async with self._room:
                self.in_flight -= len(batch)
                self._room.notify_all()

    async def _outcomes(self, batch: Sequence[Delivery]) -> Sequence[Outcome]:
        try:
            outcomes = await self.handler(batch)
        except asyncio.CancelledError:
            raise
        except DependencyDown as exc:
            log.warning("dependency down; retrying batch", queue=self.queue, error=str(exc))
            await self._back_off()
            return [Outcome.RETRY] * len(batch)
        except Exception:
            log.exception("handler failed unexpectedly; retrying batch", queue=self.queue)
            await self._back_off()
            return [Outcome.RETRY] * len(batch)
        self._backoff = 0.0
        return outcomes

    async def _back_off(self) -> None:
        self._backoff = min(BACKOFF_MAX, max(BACKOFF_START, self._backoff * 2))
        await asyncio.sleep(self._backoff * random.uniform(0.5, 1.0))

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for in-flight handlers (graceful shutdown), cancelling after `timeout`."""
        if not self._tasks:
            return
        _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
        for task in pending:
            task.cancel()
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
