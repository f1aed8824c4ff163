"""Gateway composition: `create_app(settings, http, deps=..., clock=...)`: the FastAPI app
behind the plain-ASGI lane that answers POST /jobs (lane.py)."""

from __future__ import annotations

from observatory.core.api_app import api_app
from observatory.core.backends import Dependencies
from observatory.core.clock import Clock, SystemClock
from observatory.core.settings import HttpSettings
from observatory.services.gateway.lane import SubmitLane
from observatory.services.gateway.metrics import GatewayMetrics
from observatory.services.gateway.routes import GatewayRoutes
from observatory.services.gateway.settings import GatewaySettings

DEPENDENCIES = ("bus", "job_store")


def create_app(
    settings: GatewaySettings, http: HttpSettings, *, deps: Dependencies, clock: Clock | None = None
) -> SubmitLane:
    metrics = GatewayMetrics(settings.max_type_labels)
    routes = GatewayRoutes(
        bus=deps.get("bus"),
        jobs=deps.get("job_store"),
        clock=clock or SystemClock(),
        metrics=metrics,
        token=http.api_token.get_secret_value() if http.api_token else None,
        alertmanager_url=str(settings.alertmanager_url) if settings.alertmanager_url else None,
        prometheus_url=str(settings.prometheus_url) if settings.prometheus_url else None,
        proxy_timeout=settings.proxy_timeout,
    )

    app = api_app(
        "Gateway",
        "Distributed Task Observatory gateway: accepts jobs and publishes job.created.",
        metrics=metrics,
        deps=deps,
        http=http,
        router=routes.router,
        cleanups=[routes.http.aclose],
    )
    return SubmitLane(app, routes, app.state.request_duration)
