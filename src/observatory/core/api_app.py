"""An HTTP API service as a FastAPI app: lifespan that opens its ports and runs
the service's own clean-ups, JSON edges, CORS, health trio and offline docs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware

from observatory.__about__ import __version__
from observatory.core.access import Access
from observatory.core.access_http import (
    COMMON_RULES,
    AccessMiddleware,
    RouteRoles,
    identity_of,
    routes_of,
)
from observatory.core.backends import Lifecycle
from observatory.core.http import add_docs, add_health, cors_origins, install_edges
from observatory.core.settings import HttpSettings
from observatory.core.telemetry import ServiceMetrics

Cleanup = Callable[[], Awaitable[None]]


def api_app(
    title: str,
    description: str,
    *,
    metrics: ServiceMetrics,
    lifecycle: Lifecycle,
    http: HttpSettings,
    router: APIRouter,
    access: Access,
    rules: RouteRoles,
    cleanups: Sequence[Cleanup] = (),
    background: Sequence[Cleanup] = (),
) -> FastAPI:
    """`background`: coroutines run (once the ports are open) for the app's lifetime,
    cancelled on shutdown. `access` and `rules`: who may call which route (with no token
    configured, nothing is checked)."""

    async def when_ready(work: Cleanup) -> None:
        await lifecycle.ready.wait()
        await work()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        lifecycle.start()
        tasks = [asyncio.create_task(when_ready(work)) for work in background]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            for cleanup in cleanups:
                await cleanup()
            await lifecycle.close()

    app = FastAPI(
        title=f"{title} API",
        version=__version__,
        description=description,
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    if access.enabled:  # inside the edge: refusals carry the correlation id, are measured
        app.add_middleware(
            AccessMiddleware,
            access=access,
            rules={**COMMON_RULES, **rules},
            routes=lambda: routes_of(app, router),
        )
    app.state.request_duration = install_edges(app, metrics, metrics.service.replace("-", "_"))
    app.add_middleware(
        CORSMiddleware,
        allow_origins=cors_origins(http.cors_origins),
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Content-Type", "Authorization", "X-Correlation-Id"],
        expose_headers=["X-Correlation-Id"],
    )
    app.include_router(router)
    app.state.access_routes = lambda: routes_of(app, router)  # what the access rules cover

    @app.get("/auth/whoami", tags=["access"], summary="The name and role of the caller's token")
    async def whoami(request: Request) -> dict[str, str]:
        return {
            **identity_of(request.scope).as_dict(),
            "access": "tokens" if access.enabled else "open",
        }

    add_health(app, metrics, lifecycle.check)
    add_docs(app, title)
    return app
