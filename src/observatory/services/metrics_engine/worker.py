"""Metrics-engine composition: one consumer for the lifecycle queues (their events share
batches, so a batch costs one event-store insert, at most one counters read and one
counters pipeline), one for dead letters. Both isolate a bad item of a failing batch
(core.bus.isolation), so one event the stores refuse never holds up the others."""

from __future__ import annotations

from fastapi import FastAPI

from observatory.core.backends import Lifecycle, Ports
from observatory.core.bus.isolation import Isolating
from observatory.core.bus.port import Bus
from observatory.core.bus.topology import DEAD_LETTERS, METRICS_ENGINE_QUEUES
from observatory.core.clock import Clock, SystemClock
from observatory.core.stores.ports import Counters, EventStore
from observatory.core.worker import Consumer, worker_app
from observatory.services.metrics_engine.handlers import DeadLetterHandler, EventHandler
from observatory.services.metrics_engine.metrics import MetricsEngineMetrics
from observatory.services.metrics_engine.settings import MetricsEngineSettings


def build_worker(
    settings: MetricsEngineSettings,
    *,
    bus: Bus,
    counters: Counters,
    events: EventStore,
    owned: bool = True,
    clock: Clock | None = None,
) -> FastAPI:
    """The metrics engine as an app whose lifespan consumes the lifecycle queues and the
    dead letters (and, with `owned`, opens and closes its three ports)."""
    clock = clock or SystemClock()
    metrics = MetricsEngineMetrics()
    handler = EventHandler(
        bus=bus,
        events=events,
        counters=counters,
        clock=clock,
        metrics=metrics,
        job_wait=settings.job_wait,
    )
    letters = DeadLetterHandler(events=events, counters=counters, clock=clock, metrics=metrics)
    consumers = [
        Consumer(
            METRICS_ENGINE_QUEUES,
            Isolating(handler, handler.reject),
            settings.prefetch,
            settings.batch_size,
        ),
        Consumer(DEAD_LETTERS, Isolating(letters, letters.drop), 50, 50),
    ]
    return worker_app(
        "Metrics engine",
        metrics=metrics,
        bus=bus,
        lifecycle=Lifecycle(Ports(bus=bus, counters=counters, events=events), owned=owned),
        consumers=consumers,
    )
