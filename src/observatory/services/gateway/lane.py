"""POST /jobs as plain ASGI: the gateway's hot path without the framework's layers.

Every other request (and a POST /jobs that carries an `Origin` header, which the CORS
middleware must answer) goes to the FastAPI app unchanged. The lane gives the same
answers as the full stack: the correlation id checked and echoed, the 64 KiB limit,
JSON errors, the request histogram; `GatewayRoutes.accept` decides the rest.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import orjson
import structlog
from prometheus_client import Histogram
from starlette.types import ASGIApp, Receive, Scope, Send

from observatory.core.http import MAX_BODY, Reply, error_reply, valid_uuid
from observatory.services.gateway.routes import GatewayRoutes

log = structlog.get_logger("observatory.gateway")

ROUTE = "/jobs"


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


async def _read_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


class SubmitLane:
    """Answers POST /jobs itself and hands everything else to `app`."""

    def __init__(self, app: ASGIApp, routes: GatewayRoutes, histogram: Histogram) -> None:
        self.app = app
        self.routes = routes
        self.histogram = histogram
        self._observers: dict[int, Any] = {}

    def __getattr__(self, name: str) -> Any:  # the FastAPI app's state, openapi(), ...
        return getattr(self.app, name)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != ROUTE or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        if b"origin" in headers:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        supplied = headers.get(b"x-correlation-id", b"").decode("latin-1")
        correlation = supplied if supplied and valid_uuid(supplied) else str(uuid.uuid4())
        try:
            reply = await self._answer(headers, supplied, correlation, receive)
        except _Disconnected:
            return
        except Exception as exc:
            log.error("unhandled error", path=ROUTE, error=type(exc).__name__, exc_info=exc)
            reply = error_reply(500, "Internal server error")
        await _send(send, reply, correlation)
        self._observe(reply.status, time.perf_counter() - started)

    async def _answer(
        self, headers: dict[bytes, bytes], supplied: str, correlation: str, receive: Receive
    ) -> Reply:
        if supplied and supplied != correlation:
            return error_reply(400, "Invalid X-Correlation-Id header: it must be a UUID")
        length = headers.get(b"content-length")
        too_large = error_reply(413, f"Request body exceeds {MAX_BODY} bytes")
        if length is not None and length.isdigit() and int(length) > MAX_BODY:
            return too_large
        try:
            body = await _read_body(receive)
        except _TooLarge:
            return too_large
        return await self.routes.accept(
            body=body,
            content_type=headers.get(b"content-type", b"").decode("latin-1"),
            authorization=headers.get(b"authorization", b"").decode("latin-1"),
            correlation_id=correlation,
        )

    def _observe(self, status: int, seconds: float) -> None:
        observer = self._observers.get(status)
        if observer is None:
            observer = self._observers[status] = self.histogram.labels("POST", ROUTE, str(status))
        observer.observe(seconds)


async def _send(send: Send, reply: Reply, correlation: str) -> None:
    payload = orjson.dumps(reply.body)
    raw_headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
        (b"x-correlation-id", correlation.encode()),
        *((name.lower().encode(), value.encode()) for name, value in reply.headers.items()),
    ]
    await send({"type": "http.response.start", "status": reply.status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})
