"""The read model's event stream flows through the proxy as it happens, never buffered.

httpx's ASGITransport collects a whole body before returning, so these tests drive the
ASGI app directly and watch each message it sends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import httpx
from starlette.applications import Starlette
from tests.unit.web.upstreams import Upstreams

DEADLINE = 5.0


class HeldStream(httpx.AsyncByteStream):
    """An upstream SSE body that sends one event, then waits until released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.closed = asyncio.Event()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield b'event: stats\ndata: {"totalJobs": 1}\n\n'
        await self.release.wait()
        yield b'event: job-event\ndata: {"eventType": "job.completed"}\n\n'

    async def aclose(self) -> None:
        self.closed.set()


class Browser:
    """Plays the server side of one ASGI request to /api/stream and records what is sent."""

    def __init__(self, app: Starlette) -> None:
        self.app = app
        self.sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.gone = asyncio.Event()
        self.requested = False

    async def receive(self) -> dict[str, Any]:
        if not self.requested:
            self.requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.gone.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: MutableMapping[str, Any]) -> None:
        await self.sent.put(dict(message))

    def start(self) -> asyncio.Task[None]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": "/api/stream",
            "raw_path": b"/api/stream",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"dashboard.test"), (b"accept", b"text/event-stream")],
            "client": ("127.0.0.1", 50000),
            "server": ("dashboard.test", 80),
        }
        return asyncio.create_task(self.app(scope, self.receive, self.send))

    async def next(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.sent.get(), DEADLINE)


def serve_stream(upstreams: Upstreams, stream: HeldStream) -> list[httpx.Request]:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=stream)

    upstreams.handlers["read-model.test"] = handler
    return requests


async def test_events_reach_the_browser_before_the_upstream_is_done(
    app: Starlette, upstreams: Upstreams
) -> None:
    """The first event arrives while the read model is still holding the stream open."""
    stream = HeldStream()
    requests = serve_stream(upstreams, stream)
    browser = Browser(app)
    task = browser.start()

    start = await browser.next()
    headers = dict(start["headers"])
    assert start["status"] == 200
    assert headers[b"content-type"].startswith(b"text/event-stream")
    assert headers[b"x-accel-buffering"] == b"no"
    first = await browser.next()
    assert b"event: stats" in first["body"]
    assert not stream.release.is_set()

    stream.release.set()
    second = await browser.next()
    assert b"event: job-event" in second["body"]
    end = await browser.next()
    assert end == {"type": "http.response.body", "body": b"", "more_body": False}
    await asyncio.wait_for(task, DEADLINE)
    assert requests[0].url.path == "/stream"
    assert requests[0].extensions["timeout"]["read"] is None  # streams may idle


async def test_closing_the_tab_closes_the_upstream_stream(
    app: Starlette, upstreams: Upstreams
) -> None:
    """When the browser goes away, the proxy lets go of the read model's stream too."""
    stream = HeldStream()
    serve_stream(upstreams, stream)
    browser = Browser(app)
    task = browser.start()
    await browser.next()  # headers
    await browser.next()  # first event

    browser.gone.set()
    await asyncio.wait_for(task, DEADLINE)
    await asyncio.wait_for(stream.closed.wait(), DEADLINE)
