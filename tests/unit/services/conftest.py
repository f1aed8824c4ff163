"""Fixtures shared by the service tests: the embedded adapters (embedded.py) and the
gateway's and read model's HTTP APIs over them, in process (httpx's ASGI transport).

`gateway` and `read_model` are clients on the default settings; a test that needs other
settings (a token, a retention window) builds its own with `gateway_app` /
`read_model_app` and `asgi_client`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import ASGIApp
from tests.unit.services.embedded import Embedded, embedded

from observatory.core.settings import HttpSettings
from observatory.services.gateway.app import create_app as create_gateway
from observatory.services.gateway.lane import SubmitLane
from observatory.services.gateway.settings import GatewaySettings
from observatory.services.read_model.app import create_app as create_read_model
from observatory.services.read_model.settings import ReadModelSettings

__all__ = ["embedded"]  # the fixture, imported here so every test module finds it


def gateway_app(embedded: Embedded, http: HttpSettings | None = None) -> SubmitLane:
    """The gateway over the embedded bus and stores, on the embedded clock."""
    return create_gateway(
        GatewaySettings(),
        http or HttpSettings(),
        bus=embedded.bus,
        jobs=embedded.jobs,
        events=embedded.events,
        owned=False,
        clock=embedded.clock,
    )


def read_model_app(embedded: Embedded, settings: ReadModelSettings | None = None) -> FastAPI:
    """The read model over the embedded stores, on the embedded clock."""
    return create_read_model(
        settings or ReadModelSettings(),
        HttpSettings(),
        jobs=embedded.jobs,
        counters=embedded.counters,
        events=embedded.events,
        owned=False,
        clock=embedded.clock,
    )


@asynccontextmanager
async def asgi_client(app: ASGIApp, base_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as c:
        yield c


@pytest.fixture
async def gateway(embedded: Embedded) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(gateway_app(embedded), "http://gw") as client:
        yield client


@pytest.fixture
async def read_model(embedded: Embedded) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(read_model_app(embedded), "http://rm") as client:
        yield client
