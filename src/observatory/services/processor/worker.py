"""Processor composition: the jobs.created consumer and its health/metrics app."""

from __future__ import annotations

from fastapi import FastAPI

from observatory.core.backends import Dependencies
from observatory.core.bus.isolation import Isolating
from observatory.core.bus.topology import JOBS_CREATED
from observatory.core.clock import Clock, SystemClock
from observatory.core.worker import Consumer, worker_app
from observatory.services.processor.handlers import JobHandler
from observatory.services.processor.metrics import ProcessorMetrics
from observatory.services.processor.settings import ProcessorSettings

DEPENDENCIES = ("bus", "job_store")


def build_worker(
    settings: ProcessorSettings, *, deps: Dependencies, clock: Clock | None = None
) -> FastAPI:
    """The processor as an app whose lifespan consumes jobs.created."""
    metrics = ProcessorMetrics()
    handler = JobHandler(
        bus=deps.get("bus"),
        jobs=deps.get("job_store"),
        clock=clock or SystemClock(),
        settings=settings,
        metrics=metrics,
    )

    async def sample_depth() -> None:
        metrics.queue_depth.set(await deps.get("bus").queue_depth(JOBS_CREATED))

    return worker_app(
        "Processor",
        metrics=metrics,
        deps=deps,
        consumers=[
            Consumer(
                JOBS_CREATED,
                Isolating(handler, handler.reject),
                settings.prefetch,
                settings.batch_size,
            )
        ],
        sampler=sample_depth,
    )
