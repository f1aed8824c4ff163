"""Read-model composition: `create_app(settings, http, jobs=..., counters=..., events=...,
owned=..., clock=...)`."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import Counter

from observatory.core.access import Access, load_access
from observatory.core.api_app import api_app
from observatory.core.backends import Lifecycle, Ports
from observatory.core.clock import Clock, SystemClock
from observatory.core.contracts.registry import load_registry
from observatory.core.retention import Retention, RetentionPolicy
from observatory.core.settings import HttpSettings
from observatory.core.stores.news import EventNews, news_for
from observatory.core.stores.ports import Counters, EventStore, JobStore
from observatory.core.telemetry import ServiceMetrics
from observatory.services.read_model.alerts import AlertSource
from observatory.services.read_model.queries import Queries
from observatory.services.read_model.roles import ROUTE_ROLES
from observatory.services.read_model.routes import build_router
from observatory.services.read_model.settings import ReadModelSettings
from observatory.services.read_model.stream import Broadcaster


def create_app(
    settings: ReadModelSettings,
    http: HttpSettings,
    *,
    jobs: JobStore,
    counters: Counters,
    events: EventStore,
    owned: bool = True,
    clock: Clock | None = None,
    access: Access | None = None,
    news: EventNews | None = None,
) -> FastAPI:
    """The read model over the three stores; with `owned` its lifespan opens and closes them.
    `access`: the tokens (default: read from `http`). `news`: how /stream learns of new
    events (default: the event store's own news; with shared stores (`owned` false, `odto
    up`) every writer is in this process, so in-process news is complete)."""
    access = access if access is not None else load_access(http)
    clock = clock or SystemClock()
    metrics = ServiceMetrics("read-model")
    queries = Queries(
        jobs=jobs, events=events, counters=counters, clock=clock, trace_url=settings.trace_url
    )
    alerts = AlertSource(
        str(settings.alertmanager_url) if settings.alertmanager_url else None,
        timeout=settings.alert_timeout,
        history=settings.alert_history,
        clock=clock,
    )
    stream = Broadcaster(
        queries.stats,
        queries.events_for_recent,
        settings.stream_interval,
        news=news if news is not None else news_for(events, shared=not owned),
        coalesce=settings.stream_coalesce,
        safety=settings.stream_safety,
    )
    registry = load_registry(settings.ui_registry)

    background = []
    if settings.retention is not None:
        removed = Counter(
            "retention_removed_total",
            "Rows removed by retention (ODTO_RETENTION), by kind",
            ["kind"],
            registry=metrics.registry,
        )
        retention = Retention(
            jobs,
            events,
            alerts,
            RetentionPolicy(settings.retention, interval=settings.retention_interval),
            clock,
            on_removed=lambda kind, n: removed.labels(kind).inc(n),
        )
        background.append(retention.run)

    token = http.api_token.get_secret_value() if http.api_token else None
    router = build_router(queries, alerts, stream, registry, token=token)
    return api_app(
        "Read Model",
        "Distributed Task Observatory read model: stats, jobs, events, alerts, stream.",
        metrics=metrics,
        lifecycle=Lifecycle(Ports(jobs=jobs, counters=counters, events=events), owned=owned),
        http=http,
        router=router,
        access=access,
        rules=ROUTE_ROLES,
        cleanups=[stream.close, alerts.close],
        background=background,
    )
