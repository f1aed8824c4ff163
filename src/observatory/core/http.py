"""What every HTTP service shares: correlation ids, size limits, JSON errors, request
metrics, /healthz, /readyz, /metrics and offline API docs.

The request edge (correlation id, body limit, JSON answers, request histogram) is a set of
plain-ASGI helpers: `EdgeMiddleware` applies them to every request of a FastAPI app, and
the gateway's POST /jobs lane (services/gateway/lane.py) applies the same ones without the
framework.
"""

from __future__ import annotations

import hmac
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog
import swagger_ui_bundle
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest
from prometheus_client.openmetrics import exposition as openmetrics
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observatory.__about__ import __version__
from observatory.core.contracts.ids import is_hyphenated_uuid
from observatory.core.errors import (
    Conflict,
    DependencyDown,
    InvalidMessage,
    NotFound,
    ObservatoryError,
)
from observatory.core.telemetry import ServiceMetrics
from observatory.core.tracing.spans import exemplar, request_span

MAX_BODY = 64 * 1024
UNTRACED = frozenset({"/healthz", "/readyz", "/metrics", "/health", "/stream"})
"""Routes that never open a request span: probes, scrapes and the long-lived stream."""
log = structlog.get_logger("observatory.http")

ReadinessCheck = Callable[[], Awaitable[Mapping[str, bool]]]


@dataclass(frozen=True, slots=True)
class Reply:
    """An HTTP answer before any framework turns it into a response."""

    status: int
    body: Any
    headers: Mapping[str, str] = field(default_factory=dict)

    def response(self) -> JSONResponse:
        return JSONResponse(self.body, status_code=self.status, headers=dict(self.headers))


def error_reply(
    status: int, error: str, details: Any = None, headers: Mapping[str, str] | None = None
) -> Reply:
    """The JSON error body every service answers with: `{error, details?}`."""
    body: dict[str, Any] = {"error": error}
    if details is not None:
        body["details"] = details
    return Reply(status, body, dict(headers or {}))


def json_error(
    status: int, error: str, details: Any = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    return error_reply(status, error, details, headers).response()


RETRY_AFTER_SECONDS = "5"


def reply_for(exc: ObservatoryError) -> Reply | None:
    """The HTTP answer to an error raised on purpose (None for the ones HTTP has no word for)."""
    if isinstance(exc, InvalidMessage):
        return error_reply(400, exc.reason, [v.as_dict() for v in exc.violations] or None)
    if isinstance(exc, DependencyDown):
        return error_reply(
            503, f"{exc.dependency} unavailable", headers={"Retry-After": RETRY_AFTER_SECONDS}
        )
    if isinstance(exc, NotFound):
        return error_reply(404, str(exc))
    if isinstance(exc, Conflict):
        return error_reply(409, str(exc))
    return None


def bearer_token(authorization: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header; None for any other header.
    The scheme is case-insensitive (RFC 9110 §11.1): `bearer` and `BEARER` count too."""
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def token_denied(expected: str | None, authorization: str) -> Reply | None:
    """None when no token is configured or the header carries it; else the 401 answer.
    Compared in constant time, so the answer's timing says nothing about the token."""
    if not expected:
        return None
    given = bearer_token(authorization)
    if given is not None and hmac.compare_digest(given.encode(), expected.encode()):
        return None
    return error_reply(
        401, "A valid bearer token is required", headers={"WWW-Authenticate": "Bearer"}
    )


def is_json(content_type: str) -> bool:
    """True for `application/json` and `+json` media types, whatever their parameters."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


BAD_CORRELATION = error_reply(400, "Invalid X-Correlation-Id header: it must be a UUID")
TOO_LARGE = error_reply(413, f"Request body exceeds {MAX_BODY} bytes")
INTERNAL_ERROR = error_reply(500, "Internal server error")


class BodyTooLarge(Exception):
    """The request body grew past `MAX_BODY` while it was read."""


class ClientGone(Exception):
    """The client disconnected before its request body was read."""


def correlation_of(headers: Mapping[bytes, bytes]) -> tuple[str, bool]:
    """The correlation id of a request and whether its header was acceptable: the supplied
    X-Correlation-Id when it is a hyphenated UUID (echoed as sent), else a new one."""
    supplied = headers.get(b"x-correlation-id")
    if not supplied:
        return str(uuid.uuid4()), True
    text = supplied.decode("latin-1")
    if is_hyphenated_uuid(text):
        return text, True
    return str(uuid.uuid4()), False


def declared_too_large(headers: Mapping[bytes, bytes]) -> bool:
    """True when the Content-Length header already says the body is past `MAX_BODY`."""
    length = headers.get(b"content-length")
    return length is not None and length.isdigit() and int(length) > MAX_BODY


async def read_body(receive: Receive) -> bytes:
    """The whole request body; BodyTooLarge past `MAX_BODY`, ClientGone on a disconnect."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def limited(receive: Receive) -> Receive:
    """`receive` that raises BodyTooLarge once the body read through it passes `MAX_BODY`."""
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > MAX_BODY:
                raise BodyTooLarge
        return message

    return wrapped


def correlation_header(correlation: str) -> tuple[bytes, bytes]:
    """The X-Correlation-Id response header, as ASGI spells headers."""
    return (b"x-correlation-id", correlation.encode())


async def send_reply(send: Send, reply: Reply, correlation: str) -> None:
    """Send `reply` as a JSON response carrying the correlation id, without a framework."""
    payload = orjson.dumps(reply.body)
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        correlation_header(correlation),
        *((name.lower().encode(), value.encode()) for name, value in reply.headers.items()),
    ]
    await send({"type": "http.response.start", "status": reply.status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


class RequestTimer:
    """The request-duration histogram with its labelled series kept once made: observing a
    request costs a dict lookup, not a `labels()` call."""

    def __init__(self, histogram: Histogram) -> None:
        self.histogram = histogram
        self._series: dict[tuple[str, str, int], Any] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Observe one request; inside a sampled trace the observation carries the trace
        id as its exemplar (shown in the OpenMetrics exposition)."""
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = self.histogram.labels(method, route, str(status))
        series.observe(seconds, exemplar())


class EdgeMiddleware:
    """Correlation id (validated, echoed, left in `scope["state"]` for the routes), body
    limit and request histogram for every request the app answers."""

    def __init__(self, app: ASGIApp, *, timer: RequestTimer) -> None:
        self.app = app
        self.timer = timer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] in UNTRACED:
            await self._edge(scope, receive, send)
            return
        with request_span(
            scope["method"],
            dict(scope["headers"]),
            {"http.request.method": scope["method"], "url.path": scope["path"]},
        ) as answered:
            route, status = await self._edge(scope, receive, send)
            answered(route, status)

    async def _edge(self, scope: Scope, receive: Receive, send: Send) -> tuple[str, int]:
        started = time.perf_counter()
        headers = dict(scope["headers"])
        correlation, acceptable = correlation_of(headers)
        status = 500

        async def send_wrapped(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), correlation_header(correlation)]
            await send(message)

        if not acceptable:
            await send_reply(send, BAD_CORRELATION, correlation)
            status = BAD_CORRELATION.status
        elif declared_too_large(headers):
            scope.setdefault("state", {})["correlation_id"] = correlation
            await send_reply(send, TOO_LARGE, correlation)
            status = TOO_LARGE.status
        else:
            scope.setdefault("state", {})["correlation_id"] = correlation
            await self.app(scope, limited(receive), send_wrapped)
        route = getattr(scope.get("route"), "path", None) or "unmatched"
        self.timer.observe(scope["method"], route, status, time.perf_counter() - started)
        return route, status


def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error", path=request.url.path, error=type(exc).__name__, exc_info=exc)
    return INTERNAL_ERROR.response()


def install_edges(app: FastAPI, metrics: ServiceMetrics, prefix: str) -> RequestTimer:
    """Add the middleware, JSON error handlers and request histogram to `app`; return the
    histogram's timer (a service's own plain-ASGI routes observe into it too)."""
    histogram = Histogram(
        f"{prefix}_http_request_duration_seconds",
        "HTTP request duration by method, route template and status",
        ["method", "route", "status"],
        registry=metrics.registry,
        buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> Response:
        message = {404: "Not found", 405: "Method not allowed"}.get(
            exc.status_code, str(exc.detail)
        )
        if isinstance(exc.detail, str) and exc.status_code not in (404, 405):
            message = exc.detail
        return json_error(exc.status_code, message, headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> Response:
        details = [
            {
                "path": "$" + "".join(f".{p}" for p in err.get("loc", ())[1:]),
                "message": err.get("msg", ""),
            }
            for err in exc.errors()
        ]
        return json_error(400, "Invalid request", details)

    @app.exception_handler(ObservatoryError)
    async def observatory_error(request: Request, exc: ObservatoryError) -> Response:
        reply = reply_for(exc)
        if reply is None:
            return _internal_error(request, exc)
        return reply.response()

    @app.exception_handler(BodyTooLarge)
    async def too_large(_: Request, __: BodyTooLarge) -> Response:
        return TOO_LARGE.response()

    @app.exception_handler(Exception)
    async def crashed(request: Request, exc: Exception) -> Response:
        return _internal_error(request, exc)

    timer = RequestTimer(histogram)
    app.add_middleware(EdgeMiddleware, timer=timer)
    return timer


def add_health(app: FastAPI, metrics: ServiceMetrics, readiness: ReadinessCheck) -> None:
    """/healthz (alive), /readyz (dependencies answer) and /metrics (Prometheus text).

    Both /readyz and /metrics check the dependencies now, so `odto_dependency_up` is
    fresh at every scrape even when nothing probes readiness.
    """

    async def check() -> Mapping[str, bool]:
        checks = await readiness()
        for name, ok in checks.items():
            metrics.dependency_up.labels(name).set(1 if ok else 0)
        return checks

    @app.get("/healthz", tags=["health"], summary="Liveness: the process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get("/readyz", tags=["health"], summary="Readiness: every dependency answers")
    async def readyz() -> Response:
        checks = await check()
        failing = sorted(name for name, ok in checks.items() if not ok)
        if failing:
            return JSONResponse({"status": "unavailable", "failing": failing}, status_code=503)
        return JSONResponse({"status": "ready", "checks": checks})

    @app.get("/metrics", tags=["health"], summary="Prometheus metrics")
    async def metrics_text(request: Request) -> Response:
        await check()
        return metrics_response(metrics, request.headers.get("accept", ""))


def metrics_response(metrics: ServiceMetrics, accept: str) -> Response:
    """The registry in the Prometheus text format, or in OpenMetrics (with the histograms'
    exemplars: trace ids) when the scraper asks for `application/openmetrics-text`."""
    if "application/openmetrics-text" in accept:
        return Response(
            openmetrics.generate_latest(metrics.registry),  # type: ignore[no-untyped-call]  # unannotated in prometheus_client
            media_type=openmetrics.CONTENT_TYPE_LATEST,
        )
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)


def add_docs(app: FastAPI, title: str) -> None:
    """Swagger UI at /docs from assets shipped in a Python package (no CDN)."""
    app.mount(
        "/docs/assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets"
    )

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{title} — API docs",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
        )


def cors_origins(setting: str) -> list[str]:
    return [origin.strip() for origin in setting.split(",") if origin.strip()]
