"""Gateway composition: `create_app(settings, http, bus=..., jobs=..., events=..., owned=...,
clock=...)`:
the FastAPI app behind the plain-ASGI lane that answers POST /jobs (lane.py)."""

from __future__ import annotations

from observatory.core.access import Access, load_access
from observatory.core.api_app import api_app
from observatory.core.backends import Lifecycle, Ports
from observatory.core.bus.port import Bus
from observatory.core.clock import Clock, SystemClock
from observatory.core.settings import HttpSettings
from observatory.core.stores.ports import EventStore, JobStore
from observatory.services.gateway.bulk_retry import BulkRetry
from observatory.services.gateway.lane import SubmitLane
from observatory.services.gateway.metrics import GatewayMetrics
from observatory.services.gateway.operate_routes import OperateRoutes
from observatory.services.gateway.proxies import Proxies
from observatory.services.gateway.replay import Replayer
from observatory.services.gateway.roles import ROUTE_ROLES
from observatory.services.gateway.router import gateway_router
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
    access: Access | None = None,
) -> SubmitLane:
    """The gateway over `bus`, `jobs` and `events` (dead-letter replay); with `owned` its
    lifespan opens and closes them. `access`: the tokens (default: read from `http`)."""
    access = access if access is not None else load_access(http)
    metrics = GatewayMetrics(settings.max_type_labels)
    clock = clock or SystemClock()
    routes = GatewayRoutes(
        bus=bus,
        jobs=jobs,
        events=events,
        clock=clock,
        metrics=metrics,
        pending_rows=settings.pending_rows,
    )
    operate = OperateRoutes(
        routes,
        replayer=Replayer(bus=bus, events=events, clock=clock),
        bulk=BulkRetry(jobs=jobs, bus=bus, producer=routes.producer, clock=clock),
    )
    proxies = Proxies(
        alertmanager_url=str(settings.alertmanager_url) if settings.alertmanager_url else None,
        prometheus_url=str(settings.prometheus_url) if settings.prometheus_url else None,
        timeout=settings.proxy_timeout,
    )

    app = api_app(
        "Gateway",
        "Distributed Task Observatory gateway: accepts jobs and publishes job.created.",
        metrics=metrics,
        lifecycle=Lifecycle(Ports(bus=bus, jobs=jobs, events=events), owned=owned),
        http=http,
        router=gateway_router(routes, operate, proxies),
        access=access,
        rules=ROUTE_ROLES,
        cleanups=[routes.pending.close, routes.audit_writer.close, proxies.aclose],
    )
    return SubmitLane(app, routes, app.state.request_duration, access)
