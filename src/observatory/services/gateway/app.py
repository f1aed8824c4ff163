"""Gateway composition: `create_app(settings, http, bus=..., jobs=..., events=..., owned=...,
clock=...)`:
the FastAPI app behind the plain-ASGI lane that answers POST /jobs (lane.py)."""

from __future__ import annotations

from observatory.core.api_app import api_app
from observatory.core.backends import Lifecycle, Ports
from observatory.core.bus.port import Bus
from observatory.core.clock import Clock, SystemClock
from observatory.core.settings import HttpSettings
from observatory.core.stores.ports import EventStore, JobStore
from observatory.services.gateway.lane import SubmitLane
from observatory.services.gateway.metrics import GatewayMetrics
from observatory.services.gateway.routes import GatewayRoutes
from observatory.services.gateway.settings import GatewaySettings


def create_app(
    settings: GatewaySettings,
    http: HttpSettings,
    *,
    bus: Bus,
    jobs: JobStore,
    events: EventStore,
    owned: bool = True,
    clock: Clock | None = None,
) -> SubmitLane:
    """The gateway over `bus`, `jobs` and `events` (dead-letter replay); with `owned` its
    lifespan opens and closes them."""
    metrics = GatewayMetrics(settings.max_type_labels)
    routes = GatewayRoutes(
        bus=bus,
        jobs=jobs,
        events=events,
        clock=clock or SystemClock(),
        metrics=metrics,
        token=http.api_token.get_secret_value() if http.api_token else None,
        alertmanager_url=str(settings.alertmanager_url) if settings.alertmanager_url else None,
        prometheus_url=str(settings.prometheus_url) if settings.prometheus_url else None,
        proxy_timeout=settings.proxy_timeout,
        pending_rows=settings.pending_rows,
    )

    app = api_app(
        "Gateway",
        "Distributed Task Observatory gateway: accepts jobs and publishes job.created.",
        metrics=metrics,
        lifecycle=Lifecycle(Ports(bus=bus, jobs=jobs, events=events), owned=owned),
        http=http,
        router=routes.router,
        cleanups=[routes.pending.close, routes.audit_writer.close, routes.http.aclose],
    )
    return SubmitLane(app, routes, app.state.request_duration)
