"""Composing the five services from the environment: the one place the CLI builds them.

`build(name, deps=...)` returns the service's ASGI app and the port it wants. With
`shared` adapters (odto up) every service uses one set of adapters; alone (odto serve)
each opens its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from observatory.core.backends import Dependencies
from observatory.core.settings import Backends, HttpSettings
from observatory.services.gateway import app as gateway_app
from observatory.services.gateway.settings import GatewaySettings
from observatory.services.metrics_engine import worker as metrics_worker
from observatory.services.metrics_engine.settings import MetricsEngineSettings
from observatory.services.processor import worker as processor_worker
from observatory.services.processor.settings import ProcessorSettings
from observatory.services.read_model import app as read_model_app
from observatory.services.read_model.settings import ReadModelSettings
from observatory.services.web.app import create_app as create_web_app
from observatory.services.web.settings import WebSettings

SERVICES = ("gateway", "processor", "metrics-engine", "read-model", "web")


@dataclass(frozen=True, slots=True)
class Built:
    name: str
    app: Any
    port: int


def needs(name: str) -> tuple[str, ...]:
    """Which adapters a service uses."""
    return {
        "gateway": gateway_app.DEPENDENCIES,
        "processor": processor_worker.DEPENDENCIES,
        "metrics-engine": metrics_worker.DEPENDENCIES,
        "read-model": read_model_app.DEPENDENCIES,
        "web": (),
    }[name]


def build(name: str, *, backends: Backends, shared: Dependencies | None = None) -> Built:
    """The app of service `name`, over `shared` adapters or its own."""
    http = HttpSettings()
    deps = shared.view(needs(name)) if shared else Dependencies.for_service(backends, needs(name))
    if name == "gateway":
        gw = GatewaySettings()
        return Built(name, gateway_app.create_app(gw, http, deps=deps), gw.port)
    if name == "processor":
        ps = ProcessorSettings()
        return Built(name, processor_worker.build_worker(ps, deps=deps), ps.port)
    if name == "metrics-engine":
        ms = MetricsEngineSettings()
        return Built(name, metrics_worker.build_worker(ms, deps=deps), ms.port)
    if name == "read-model":
        rs = ReadModelSettings()
        return Built(name, read_model_app.create_app(rs, http, deps=deps), rs.port)
    if name == "web":
        ws = WebSettings()
        return Built(name, create_web_app(ws), ws.port)
    raise ValueError(f"unknown service {name!r}; choose from {', '.join(SERVICES)}")
