"""The web service: the dashboard's static files, its two proxies, health and metrics.

`create_app(settings, *, http_client=None)` composes everything; nothing happens at
import. When no client is passed, the app opens its own httpx client in its lifespan and
closes it on exit; a passed client (tests use httpx.MockTransport) belongs to the caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources

import httpx
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from observatory.__about__ import __version__
from observatory.core.access import Access, load_access
from observatory.core.contracts.registry import load_registry
from observatory.core.http import json_error
from observatory.services.web.headers import SecurityHeaders
from observatory.services.web.launch import allowed_dashboard
from observatory.services.web.proxy import Upstream, forward
from observatory.services.web.settings import WebSettings
from observatory.services.web.signin import SAFE_METHODS, SignIn, SignInGate
from observatory.services.web.telemetry import RequestTelemetry, WebMetrics

PACKAGE = "observatory.services.web"
READY_TIMEOUT = httpx.Timeout(2.0)


def _upstreams(settings: WebSettings) -> tuple[Upstream, Upstream]:
    timeout = httpx.Timeout(settings.upstream_timeout, connect=settings.connect_timeout)
    stream_timeout = httpx.Timeout(None, connect=settings.connect_timeout)
    read_model = Upstream(
        name="Read model",
        base_url=settings.read_model_url,
        timeout=timeout,
        stream_timeout=stream_timeout,
        max_body_bytes=settings.max_body_bytes,
        stream_paths=frozenset({"stream"}),
    )
    gateway = Upstream(
        name="Gateway",
        base_url=settings.gateway_url,
        timeout=timeout,
        stream_timeout=stream_timeout,
        max_body_bytes=settings.max_body_bytes,
    )
    return read_model, gateway


def _client(request: Request) -> httpx.AsyncClient:
    client: httpx.AsyncClient = request.app.state.http_client
    return client


def create_app(
    settings: WebSettings,
    *,
    http_client: httpx.AsyncClient | None = None,
    access: Access | None = None,
) -> Starlette:
    """Build the web service's ASGI app; `access`: the tokens (default: from the settings)."""
    read_model, gateway = _upstreams(settings)
    signin = SignIn(access if access is not None else load_access(settings.http), settings)
    metrics = WebMetrics()
    static = resources.files(PACKAGE).joinpath("static")
    registry = load_registry(settings.ui_registry)

    async def proxied(request: Request, upstream: Upstream) -> Response:
        if not signin.enabled:
            return await forward(request, upstream, _client(request))
        caller = signin.caller(request)
        if caller is None or caller.via == "header":  # upstream checks the token itself
            return await forward(request, upstream, _client(request))
        if request.method not in SAFE_METHODS and not signin.same_origin(request):
            return json_error(403, "Cross-site request refused (the sign-in cookie is same-site)")
        return await forward(
            request,
            upstream,
            _client(request),
            authorization=f"Bearer {caller.token}",
            actor=caller.identity.name if caller.via == "sso" else None,
        )

    async def api(request: Request) -> Response:
        return await proxied(request, read_model)

    async def gateway_proxy(request: Request) -> Response:
        return await proxied(request, gateway)

    async def healthz(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__})

    async def readyz(request: Request) -> JSONResponse:
        client = _client(request)

        async def check(upstream: Upstream) -> str:
            try:
                response = await client.get(upstream.url_for("healthz", ""), timeout=READY_TIMEOUT)
            except httpx.TimeoutException:
                return "timed out"
            except httpx.RequestError as exc:
                return f"unreachable ({type(exc).__name__})"
            return "ok" if response.status_code < 500 else f"HTTP {response.status_code}"

        results = await asyncio.gather(check(read_model), check(gateway))
        checks = {"readModel": results[0], "gateway": results[1]}
        for name, result in checks.items():
            metrics.dependency_up.labels(name).set(1 if result == "ok" else 0)
        ready = all(result == "ok" for result in results)
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    async def metrics_endpoint(_: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def launcher(request: Request) -> Response:
        # ?dashboard= is where the page redirects: never off-site (launch.py).
        target = request.query_params.get("dashboard")
        if target is not None and not allowed_dashboard(
            target, own_url=str(request.url), registry=registry
        ):
            return json_error(400, "dashboard must be a path of this site or a UI registry URL")
        return HTMLResponse(static.joinpath("launcher.html").read_text(encoding="utf-8"))

    async def registry_fallback(_: Request) -> Response:
        # The registry as shipped, for when the read model (which may apply an override)
        # cannot be reached: the launcher modal still lists every UI.
        data = resources.files("observatory.core.contracts").joinpath("ui-registry.json")
        return Response(data.read_bytes(), media_type="application/json")

    methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    routes = [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        Route("/signin", signin.show, methods=["GET"]),
        Route("/signin", signin.submit, methods=["POST"]),
        Route("/signout", signin.sign_out, methods=["POST"]),
        Route("/auth/whoami", signin.whoami, methods=["GET"]),
        Route("/launcher", launcher, methods=["GET"]),
        Route("/launcher.html", launcher, methods=["GET"]),  # the same page, the same check
        Route("/ui-registry.json", registry_fallback, methods=["GET"]),
        Route("/api/{path:path}", api, methods=methods),
        Route("/gateway/{path:path}", gateway_proxy, methods=methods),
        Mount("/", StaticFiles(packages=[(PACKAGE, "static")], html=True), name="static"),
    ]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        if http_client is not None:
            yield
            return
        async with httpx.AsyncClient(
            limits=httpx.Limits(
                max_connections=500, max_keepalive_connections=50, keepalive_expiry=2.0
            ),  # idle connections are dropped well before the upstream's 5 s keep-alive
            follow_redirects=False,
            trust_env=False,  # loopback upstreams must never go through an HTTP_PROXY
        ) as client:
            app.state.http_client = client
            yield

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.http_client = http_client
    app.state.settings = settings
    app.add_middleware(SignInGate, signin=signin)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(RequestTelemetry, metrics=metrics)
    return app
