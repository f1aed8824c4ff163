"""Request metrics and the one log line per request of the web service.

`WebMetrics` is a `ServiceMetrics` like every service's (build info, dependency gauges,
process metrics) with the web service's own instruments.
`web_http_request_duration_seconds{method,route,status}` is observed when a response
finishes, except for event streams, which are observed when their headers go out (a
stream lives as long as the browser tab; its lifetime is not a latency). The `route`
label is one of a fixed set, never the raw path, so clients cannot grow the series.

The other services' `EdgeMiddleware` (core/http.py) is not used here: the web service is
a proxy, so it forwards the client's X-Correlation-Id and body as they are (up to its own
`max_body_bytes`) and lets the upstream judge them; it shares the histogram's timer and
the JSON error body instead.
"""

from __future__ import annotations

import time

import structlog
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from observatory.core.http import RequestTimer
from observatory.core.telemetry import ServiceMetrics

# Paths polled by probes and scrapers; logging them would drown everything else.
QUIET_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})
ROUTES = ("/api", "/gateway", "/healthz", "/readyz", "/metrics", "/launcher")

log = structlog.get_logger("observatory.web.access")


def route_label(path: str) -> str:
    """The bounded route label of a request path."""
    for route in ROUTES:
        if path == route or path.startswith(route + "/"):
            return route
    return "static"


class WebMetrics(ServiceMetrics):
    """The service's Prometheus registry and instruments (one per app, so tests stay apart)."""

    def __init__(self) -> None:
        super().__init__("web")
        self.request_duration = Histogram(
            "web_http_request_duration_seconds",
            "Time from request to response (to headers for event streams).",
            ("method", "route", "status"),
            registry=self.registry,
        )
        self.request_timer = RequestTimer(self.request_duration)
        self.upstream_errors = Counter(
            "web_upstream_errors_total",
            "Proxied requests answered 502/504 because an upstream failed.",
            ("route", "status"),
            registry=self.registry,
        )


class RequestTelemetry:
    """ASGI middleware: observe the duration histogram and write one access log line."""

    def __init__(self, app: ASGIApp, metrics: WebMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        route = route_label(scope["path"])
        state: dict[str, object] = {"status": 500, "observed": False, "correlation": None}

        def observe() -> None:
            if state["observed"]:
                return
            state["observed"] = True
            elapsed = time.perf_counter() - started
            status = int(str(state["status"]))
            self.metrics.request_timer.observe(scope["method"], route, status, elapsed)
            if route in {"/api", "/gateway"} and status in {502, 504}:
                self.metrics.upstream_errors.labels(route, str(status)).inc()
            if route not in QUIET_ROUTES:
                # Page assets that load fine are noise at info level; failures are not.
                quiet = route == "static" and status < 400
                (log.debug if quiet else log.info)(
                    "request",
                    method=scope["method"],
                    path=scope["path"],
                    status=state["status"],
                    duration_ms=round(elapsed * 1000, 1),
                    correlation_id=state["correlation"],
                )

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                state["status"] = message["status"]
                for name, value in message.get("headers", []):
                    if name == b"x-correlation-id":
                        state["correlation"] = value.decode("latin-1")
                    elif name == b"content-type" and value.startswith(b"text/event-stream"):
                        observe()
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            observe()
