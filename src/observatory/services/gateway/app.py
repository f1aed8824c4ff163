"""Gateway composition: `create_app(settings, http, deps=..., clock=...)`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from observatory.__about__ import __version__
from observatory.core.backends import Dependencies
from observatory.core.clock import Clock, SystemClock
from observatory.core.http import add_docs, add_health, cors_origins, install_edges
from observatory.core.settings import HttpSettings
from observatory.services.gateway.metrics import GatewayMetrics
from observatory.services.gateway.routes import GatewayRoutes
from observatory.services.gateway.settings import GatewaySettings

DEPENDENCIES = ("bus", "job_store")


def create_app(
    settings: GatewaySettings, http: HttpSettings, *, deps: Dependencies, clock: Clock | None = None
) -> FastAPI:
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

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        deps.start()
        try:
            yield
        finally:
            await routes.http.aclose()
            await deps.close()

    app = FastAPI(
        title="Gateway API",
        version=__version__,
        description="Distributed Task Observatory gateway: accepts jobs and publishes job.created.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    install_edges(app, metrics, "gateway")
    app.add_middleware(
        CORSMiddleware,
        allow_origins=cors_origins(http.cors_origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization", "X-Correlation-Id"],
        expose_headers=["X-Correlation-Id"],
    )
    app.include_router(routes.router)
    add_health(app, metrics, deps.check)
    add_docs(app, "Gateway")
    return app
