"""Reverse proxy from the dashboard's origin to the read model and the gateway.

The page only ever talks to its own origin: `/api/*` goes to the read model and
`/gateway/*` to the gateway, so it works behind one port or one ingress without CORS.
Bodies stream through in both directions (the read model's `/stream` is Server-Sent
Events and must not be buffered). Failures map to status codes here, at the edge:

    httpx.RequestError
     ├── httpx.TimeoutException  → 504 {"error": "<upstream> timed out"}
     └── anything else           → 502 {"error": "<upstream> unavailable"}

A stream that breaks after its headers were sent simply ends; EventSource reconnects.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import quote

import anyio
import httpx
import structlog
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from observatory.core.actor import ACTOR_HEADER
from observatory.core.http import json_error

CORRELATION_HEADER = "x-correlation-id"

# RFC 9110 §7.6.1 connection-specific headers never cross a proxy.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# httpx sets Host and Content-Length itself; without Accept-Encoding the upstream answers
# uncompressed, so bytes can be relayed as they arrive.
# The cookie holds the sign-in token: it goes upstream as `Authorization` (signin.py), never
# as itself.
DROP_FROM_REQUEST = HOP_BY_HOP | {"host", "content-length", "accept-encoding", "cookie"}

log = structlog.get_logger("observatory.web.proxy")


@dataclass(frozen=True)
class Upstream:
    """One service behind the proxy."""

    name: str
    """Human name used in error bodies, e.g. "Read model"."""
    base_url: str
    """Where requests go, e.g. http://127.0.0.1:8080."""
    timeout: httpx.Timeout
    """Timeouts of ordinary requests."""
    stream_timeout: httpx.Timeout
    """Timeouts of long-lived streams (no read timeout)."""
    max_body_bytes: int
    """Largest request body forwarded."""
    stream_paths: frozenset[str] = frozenset()
    """Paths (without the prefix) that are event streams even without an Accept header."""

    def url_for(self, path: str, query: str) -> str:
        """The upstream URL of `path` (already stripped of the proxy prefix)."""
        url = self.base_url.rstrip("/") + "/" + quote(path.lstrip("/"), safe="/:@!$&'()*+,;=~")
        return f"{url}?{query}" if query else url


class BodyTooLarge(Exception):
    """The client sent more than the upstream's `max_body_bytes`."""


def _error(status: int, message: str, correlation_id: str) -> JSONResponse:
    return json_error(status, message, headers={"X-Correlation-Id": correlation_id})


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _request_headers(
    request: Request, correlation_id: str, authorization: str | None, actor: str | None
) -> dict[str, str]:
    headers = {k: v for k, v in request.headers.items() if k not in DROP_FROM_REQUEST}
    if authorization is not None:
        headers["authorization"] = authorization
    if actor is not None:
        headers[ACTOR_HEADER] = actor
    headers[CORRELATION_HEADER] = correlation_id
    client = request.client.host if request.client else ""
    prior = request.headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{prior}, {client}" if prior and client else prior or client
    headers["x-forwarded-proto"] = request.url.scheme
    if "host" in request.headers:
        headers["x-forwarded-host"] = request.headers["host"]
    return headers


def _response_headers(upstream: httpx.Response, correlation_id: str) -> dict[str, str]:
    headers = {k: v for k, v in upstream.headers.items() if k.lower() not in HOP_BY_HOP}
    headers.setdefault(CORRELATION_HEADER, correlation_id)
    if upstream.headers.get("content-type", "").startswith("text/event-stream"):
        headers["cache-control"] = "no-cache"
        headers["x-accel-buffering"] = "no"  # an nginx ingress must not buffer the stream
    return headers


async def _relay(upstream: httpx.Response, name: str) -> AsyncIterator[bytes]:
    try:
        if upstream.is_stream_consumed:
            # Some transports (httpx.MockTransport) hand over a body already in memory.
            yield upstream.content
            return
        async for chunk in upstream.aiter_raw():
            yield chunk
    except httpx.HTTPError as exc:
        # Headers are already out; ending the body is all that is left to do.
        log.warning("upstream_stream_broken", upstream=name, error=type(exc).__name__)
    finally:
        with anyio.CancelScope(shield=True):
            await upstream.aclose()


async def _send(client: httpx.AsyncClient, outgoing: httpx.Request) -> httpx.Response:
    """Send once more when a kept-alive connection was closed under us (safe methods only):
    the upstream closing an idle connection is not the upstream being down."""
    try:
        return await client.send(outgoing, stream=True)
    except (httpx.RemoteProtocolError, httpx.ReadError):
        if outgoing.method not in ("GET", "HEAD"):
            raise
        return await client.send(outgoing, stream=True)


async def forward(
    request: Request,
    upstream: Upstream,
    client: httpx.AsyncClient,
    *,
    authorization: str | None = None,
    actor: str | None = None,
) -> Response:
    """Send `request` to `upstream` and stream its answer back; `authorization` replaces
    the request's own header (the signed-in token), `actor` names a sign-on user."""
    correlation_id = request.headers.get(CORRELATION_HEADER) or str(uuid.uuid4())
    path = request.path_params.get("path", "")
    try:
        body = await _read_body(request, upstream.max_body_bytes)
    except BodyTooLarge:
        return _error(413, f"Request body exceeds {upstream.max_body_bytes} bytes", correlation_id)
    streaming = path in upstream.stream_paths or "text/event-stream" in request.headers.get(
        "accept", ""
    )
    outgoing = client.build_request(
        request.method,
        upstream.url_for(path, request.url.query),
        headers=_request_headers(request, correlation_id, authorization, actor),
        content=body,
        timeout=upstream.stream_timeout if streaming else upstream.timeout,
    )
    try:
        response = await _send(client, outgoing)
    except httpx.TimeoutException:
        log.warning("upstream_timeout", upstream=upstream.name, path=path)
        return _error(504, f"{upstream.name} timed out", correlation_id)
    except httpx.RequestError as exc:
        log.warning("upstream_unavailable", upstream=upstream.name, error=type(exc).__name__)
        return _error(502, f"{upstream.name} unavailable", correlation_id)
    return StreamingResponse(
        _relay(response, upstream.name),
        status_code=response.status_code,
        headers=_response_headers(response, correlation_id),
        background=BackgroundTask(response.aclose),
    )
