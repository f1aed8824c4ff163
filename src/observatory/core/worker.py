"""A consumer service as an app: its lifespan opens its ports, starts the consumers on
`bus` once they are open, runs an optional periodic sampler, and on shutdown stops
consuming, lets in-flight batches finish and closes everything. The app itself serves
/healthz, /readyz and /metrics on the worker's own port.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import structlog
from fastapi import FastAPI

from observatory.__about__ import __version__
from observatory.core.backends import Lifecycle
from observatory.core.bus.port import BatchHandler, Bus
from observatory.core.errors import DependencyDown
from observatory.core.http import add_health, install_edges
from observatory.core.telemetry import ServiceMetrics

log = structlog.get_logger("observatory.worker")


@dataclass(frozen=True, slots=True)
class Consumer:
    queues: str | tuple[str, ...]
    handler: BatchHandler
    prefetch: int
    batch_size: int


Sampler = Callable[[], Awaitable[None]]


def worker_app(
    title: str,
    *,
    metrics: ServiceMetrics,
    bus: Bus,
    lifecycle: Lifecycle,
    consumers: list[Consumer],
    sampler: Sampler | None = None,
    sample_every: float = 2.0,
) -> FastAPI:
    async def run() -> None:
        await lifecycle.ready.wait()
        for c in consumers:
            await bus.consume(c.queues, c.handler, prefetch=c.prefetch, batch_size=c.batch_size)
        log.info("consuming", service=metrics.service, queues=[c.queues for c in consumers])
        while sampler is not None:
            with contextlib.suppress(DependencyDown):
                await sampler()
            await asyncio.sleep(sample_every)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        lifecycle.start()
        task = asyncio.create_task(run(), name=f"{metrics.service}-consumers")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await lifecycle.close()  # the bus drains in-flight batches before closing

    app = FastAPI(
        title=title, version=__version__, docs_url=None, redoc_url=None, lifespan=lifespan
    )
    install_edges(app, metrics, metrics.service.replace("-", "_"))
    add_health(app, metrics, lifecycle.check)
    return app
