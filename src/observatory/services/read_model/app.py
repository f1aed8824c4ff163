"""Read-model composition: `create_app(settings, http, deps=..., clock=...)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from observatory.__about__ import __version__
from observatory.core.backends import Dependencies
from observatory.core.clock import Clock, SystemClock
from observatory.core.contracts.registry import load_registry
from observatory.core.http import add_docs, add_health, cors_origins, install_edges
from observatory.core.settings import HttpSettings
from observatory.core.telemetry import ServiceMetrics
from observatory.services.read_model.alerts import AlertSource
from observatory.services.read_model.queries import Queries
from observatory.services.read_model.routes import build_router
from observatory.services.read_model.settings import ReadModelSettings
from observatory.services.read_model.stream import Broadcaster

DEPENDENCIES = ("job_store", "counters", "event_store")


def create_app(
    settings: ReadModelSettings,
    http: HttpSettings,
    *,
    deps: Dependencies,
    clock: Clock | None = None,
) -> FastAPI:
    clock = clock or SystemClock()
    metrics = ServiceMetrics("read-model")
    queries = Queries(
        jobs=deps.get("job_store"), events=deps.get("event_store"), counters=deps.get("counters")
    )
    alerts = AlertSource(
        str(settings.alertmanager_url) if settings.alertmanager_url else None,
        timeout=settings.alert_timeout,
        history=settings.alert_history,
        clock=clock,
    )
    stream = Broadcaster(queries.stats, queries.events_for_recent, settings.stream_interval)
    registry = load_registry(settings.ui_registry)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        deps.start()
        try:
            yield
        finally:
            await stream.close()
            await alerts.close()
            await deps.close()

    app = FastAPI(
        title="Read Model API",
        version=__version__,
        description="Distributed Task Observatory read model: stats, jobs, events, alerts, stream.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    install_edges(app, metrics, "read_model")
    app.add_middleware(
        CORSMiddleware,
        allow_origins=cors_origins(http.cors_origins),
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "X-Correlation-Id"],
        expose_headers=["X-Correlation-Id"],
    )
    app.include_router(build_router(queries, alerts, stream, registry))
    add_health(app, metrics, deps.check)
    add_docs(app, "Read Model")
    return app
