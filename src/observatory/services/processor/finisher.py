"""Finishing attempts together, whenever each one ends.

Every job's work runs on its own, so a long job never holds anyone else. Attempts that
end while a finish is being written wait for the next one: a burst of short jobs still
shares one job-store transaction and one confirmed publish round (group commit), and a
job finishing alone is written at once.

One flush writes the attempt ends, publishes the terminal events and schedules the
retries; then each job's delivery can be acknowledged. A flush that fails on one bad
item is split until the item is found (it becomes that job's failure); the others are
written. A backend that is down fails the flush: those jobs' deliveries are handed back
for redelivery (the job's row says which attempt to run again).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from observatory.core.errors import DependencyDown
from observatory.services.processor.lifecycle import Work


@dataclass(slots=True)
class Result:
    """One attempt's end."""

    work: Work
    failed: bool
    error: str | None
    seconds: float
    context: object | None = None  # the attempt's trace context (tracing on), for its retry


Flush = Callable[[Sequence[Result]], Awaitable[None]]


class Finisher:
    """Collects ended attempts and flushes them in groups (see module docstring)."""

    def __init__(self, flush: Flush) -> None:
        self._flush = flush
        self._waiting: list[tuple[Result, asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def finish(self, result: Result) -> None:
        """Return once `result` is written; raise what writing it raised."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((result, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._run(), name="processor-finish")
        await done

    async def _run(self) -> None:
        await asyncio.sleep(0)  # attempts ending in this loop turn join the group
        while self._waiting:
            group, self._waiting = self._waiting, []
            await self._write(group)

    async def _write(self, group: list[tuple[Result, asyncio.Future[None]]]) -> None:
        try:
            await self._flush([result for result, _ in group])
        except asyncio.CancelledError:
            for _, done in group:
                done.cancel()
            raise
        except DependencyDown as exc:
            for _, done in group:
                _fail(done, exc)
            return
        except Exception as exc:
            if len(group) == 1:
                _fail(group[0][1], exc)
                return
            half = len(group) // 2
            await self._write(group[:half])
            await self._write(group[half:])
            return
        for _, done in group:
            if not done.done():
                done.set_result(None)


def _fail(done: asyncio.Future[None], exc: Exception) -> None:
    if not done.done():  # its waiter may have been cancelled (shutdown)
        done.set_exception(exc)
