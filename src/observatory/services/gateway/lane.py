"""POST /jobs as plain ASGI: the gateway's hot path without the framework's layers.

Every other request (and a POST /jobs that carries an `Origin` header, which the CORS
middleware must answer) goes to the FastAPI app unchanged. The lane applies the request
edge of core/http.py itself (the correlation id checked and echoed, the 64 KiB limit,
JSON errors, the request histogram), so it answers as the full stack would;
`GatewayRoutes.accept` decides the rest.
"""

from __future__ import annotations

import time
from typing import Any

import structlog
from starlette.types import ASGIApp, Receive, Scope, Send

from observatory.core.access import ANONYMOUS, UNAUTHENTICATED, Access, denial
from observatory.core.access_http import denial_reply
from observatory.core.actor import ACTOR_HEADER, actor_of
from observatory.core.http import (
    BAD_CORRELATION,
    INTERNAL_ERROR,
    TOO_LARGE,
    BodyTooLarge,
    ClientGone,
    Reply,
    RequestTimer,
    bearer_token,
    correlation_of,
    declared_too_large,
    read_body,
    send_reply,
)
from observatory.core.tracing.spans import request_span
from observatory.services.gateway.roles import SUBMIT
from observatory.services.gateway.routes import GatewayRoutes

log = structlog.get_logger("observatory.gateway")

ROUTE = "/jobs"


class SubmitLane:
    """Answers POST /jobs itself and hands everything else to `app`."""

    def __init__(
        self, app: ASGIApp, routes: GatewayRoutes, timer: RequestTimer, access: Access
    ) -> None:
        self.app = app
        self.routes = routes
        self.timer = timer
        self.access = access

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
        with request_span("POST", headers, {"http.request.method": "POST"}) as answered:
            status = await self._submit(headers, receive, send)
            if status is not None:
                answered(ROUTE, status)

    async def _submit(
        self, headers: dict[bytes, bytes], receive: Receive, send: Send
    ) -> int | None:
        started = time.perf_counter()
        correlation, acceptable = correlation_of(headers)
        try:
            reply = await self._answer(headers, acceptable, correlation, receive)
        except ClientGone:
            return None
        except Exception as exc:
            log.error("unhandled error", path=ROUTE, error=type(exc).__name__, exc_info=exc)
            reply = INTERNAL_ERROR
        await send_reply(send, reply, correlation)
        self.timer.observe("POST", ROUTE, reply.status, time.perf_counter() - started)
        return reply.status

    async def _answer(
        self, headers: dict[bytes, bytes], acceptable: bool, correlation: str, receive: Receive
    ) -> Reply:
        if not acceptable:
            return BAD_CORRELATION
        identity = ANONYMOUS
        if self.access.enabled:  # the same check as core/access_http.py, before the body
            known = self.access.identify(
                bearer_token(headers.get(b"authorization", b"").decode("latin-1"))
            )
            if known is None:
                return denial_reply(UNAUTHENTICATED)
            refused = denial(known, SUBMIT)
            if refused is not None:
                return denial_reply(refused)
            identity = known
        if declared_too_large(headers):
            return TOO_LARGE
        try:
            body = await read_body(receive)
        except BodyTooLarge:
            return TOO_LARGE
        return await self.routes.accept(
            body=body,
            content_type=headers.get(b"content-type", b"").decode("latin-1"),
            correlation_id=correlation,
            actor=actor_of(
                {ACTOR_HEADER: headers.get(ACTOR_HEADER.encode(), b"").decode("latin-1")},
                identity,
            ),
        )
