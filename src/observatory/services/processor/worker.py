"""Processor composition: the jobs.created consumer and its health/metrics app."""

from __future__ import annotations

from fastapi import FastAPI

from observatory.core.backends import Lifecycle, Ports
from observatory.core.bus.isolation import Isolating
from observatory.core.bus.port import Bus
from observatory.core.bus.topology import JOBS_CREATED
from observatory.core.clock import Clock, SystemClock
from observatory.core.stores.ports import JobStore
from observatory.core.worker import Consumer, worker_app
from observatory.services.processor.handlers import JobHandler
from observatory.services.processor.metrics import ProcessorMetrics
from observatory.services.processor.settings import ProcessorSettings


def build_worker(
    settings: ProcessorSettings,
    *,
    bus: Bus,
    jobs: JobStore,
    owned: bool = True,
    clock: Clock | None = None,
) -> FastAPI:
    """The processor as an app whose lifespan consumes jobs.created (and, with `owned`,
    opens and closes `bus` and `jobs`)."""
    metrics = ProcessorMetrics()
    handler = JobHandler(
        bus=bus,
        jobs=jobs,
        clock=clock or SystemClock(),
        settings=settings,
        metrics=metrics,
    )

    async def sample_depth() -> None:
        metrics.queue_depth.set(await bus.queue_depth(JOBS_CREATED))

    return worker_app(
        "Processor",
        metrics=metrics,
        bus=bus,
        lifecycle=Lifecycle(Ports(bus=bus, jobs=jobs), owned=owned),
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
