"""Fixtures for the web service's unit tests: the app wired to fake upstreams.

Upstreams are `httpx.MockTransport` handlers, so the proxy's real httpx code runs
without sockets. `Upstreams.handlers` maps a host (read-model / gateway) to a handler;
every request the proxy sends is recorded in `Upstreams.seen`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from tests.unit.web.upstreams import GATEWAY, READ_MODEL, Upstreams

from observatory.services.web import WebSettings, create_app


@pytest.fixture
def upstreams() -> Upstreams:
    return Upstreams()


@pytest.fixture
def settings() -> WebSettings:
    return WebSettings(
        read_model_url=READ_MODEL, gateway_url=GATEWAY, upstream_timeout=5, max_body_bytes=1024
    )


@pytest.fixture
async def upstream_client(upstreams: Upstreams) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(upstreams.handle)) as client:
        yield client


@pytest.fixture
def app(settings: WebSettings, upstream_client: httpx.AsyncClient) -> Starlette:
    return create_app(settings, http_client=upstream_client)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5555))
    async with httpx.AsyncClient(transport=transport, base_url="http://dashboard.test") as c:
        yield c
