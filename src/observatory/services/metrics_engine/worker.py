"""Metrics-engine composition: one consumer for the lifecycle queues (their events share
batches, so a batch costs one event-store insert and one counters pipeline), one for
dead letters."""

from __future__ import annotations

from fastapi import FastAPI

from observatory.core.backends import Dependencies
from observatory.core.bus.topology import DEAD_LETTERS, METRICS_ENGINE_QUEUES
from observatory.core.clock import Clock, SystemClock
from observatory.core.worker import Consumer, worker_app
from observatory.services.metrics_engine.handlers import DeadLetterHandler, EventHandler
from observatory.services.metrics_engine.metrics import MetricsEngineMetrics
from observatory.services.metrics_engine.settings import MetricsEngineSettings

DEPENDENCIES = ("bus", "counters", "event_store")


def build_worker(
    settings: MetricsEngineSettings, *, deps: Dependencies, clock: Clock | None = None
) -> FastAPI:
    clock = clock or SystemClock()
    metrics = MetricsEngineMetrics()
    events = EventHandler(
        bus=deps.get("bus"),
        events=deps.get("event_store"),
        counters=deps.get("counters"),
        clock=clock,
        metrics=metrics,
    )
    letters = DeadLetterHandler(
        events=deps.get("event_store"), counters=deps.get("counters"), clock=clock, metrics=metrics
    )
    consumers = [
        Consumer(METRICS_ENGINE_QUEUES, events, settings.prefetch, settings.batch_size),
        Consumer(DEAD_LETTERS, letters, 50, 50),
    ]
    return worker_app("Metrics engine", metrics=metrics, deps=deps, consumers=consumers)
