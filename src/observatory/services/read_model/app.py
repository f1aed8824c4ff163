"""Read-model composition: `create_app(settings, http, deps=..., clock=...)`."""

from __future__ import annotations

from fastapi import FastAPI

from observatory.core.api_app import api_app
from observatory.core.backends import Dependencies
from observatory.core.clock import Clock, SystemClock
from observatory.core.contracts.registry import load_registry
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

    token = http.api_token.get_secret_value() if http.api_token else None
    router = build_router(queries, alerts, stream, registry, token=token)
    return api_app(
        "Read Model",
        "Distributed Task Observatory read model: stats, jobs, events, alerts, stream.",
        metrics=metrics,
        deps=deps,
        http=http,
        router=router,
        cleanups=[stream.close, alerts.close],
    )
