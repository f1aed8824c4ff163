"""The composition root: one table of the five services, the one place the CLI builds them.

Each row names a service, how its settings are read and which factory builds it from
which typed ports. `build(name, wiring)` returns the service's ASGI app and its port.
With `Wiring.owned` false (odto up) every service shares one set of adapters opened by
the caller; with it true (odto serve) the service opens and closes its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from pydantic import AnyHttpUrl
from starlette.types import ASGIApp

from observatory.core.access import Access
from observatory.core.backends import Adapters
from observatory.core.settings import HttpSettings
from observatory.services.gateway.app import create_app as create_gateway
from observatory.services.gateway.settings import GatewaySettings
from observatory.services.metrics_engine.settings import MetricsEngineSettings
from observatory.services.metrics_engine.worker import build_worker as build_metrics_engine
from observatory.services.processor.settings import ProcessorSettings
from observatory.services.processor.worker import build_worker as build_processor
from observatory.services.read_model.app import create_app as create_read_model
from observatory.services.read_model.settings import ReadModelSettings
from observatory.services.web.app import create_app as create_web
from observatory.services.web.settings import WebSettings


@dataclass(frozen=True, slots=True)
class Links:
    """URLs `odto up` hands to the services it starts (its local Prometheus and
    Alertmanager); a URL set in the environment wins over these."""

    prometheus_url: str | None = None
    alertmanager_url: str | None = None


@dataclass(frozen=True, slots=True)
class Wiring:
    """What every service is built with: bind settings, the adapters, who owns them."""

    http: HttpSettings
    adapters: Adapters
    owned: bool = True
    links: Links = field(default_factory=Links)
    access: Access | None = None
    """The tokens (core/access.py); None = each service reads them from `http`."""


@dataclass(frozen=True, slots=True)
class Built:
    name: str
    app: ASGIApp
    port: int


class PortSetting(Protocol):
    @property
    def port(self) -> int:
        """The port the service listens on."""


S = TypeVar("S", bound=PortSetting)


@dataclass(frozen=True, slots=True)
class Service(Generic[S]):
    """One row of the table: how to read the service's settings and build it."""

    name: str
    settings: Callable[[Links], S]
    factory: Callable[[S, Wiring], ASGIApp]

    def port(self) -> int:
        """The port the service will listen on (from its settings)."""
        return self.settings(Links()).port

    def build(self, wiring: Wiring) -> Built:
        settings = self.settings(wiring.links)
        return Built(self.name, self.factory(settings, wiring), settings.port)


class Buildable(Protocol):
    """A row of the table, whatever its settings class."""

    @property
    def name(self) -> str:
        """The service's name (`odto serve NAME`)."""

    def port(self) -> int:
        """The port the service will listen on."""

    def build(self, wiring: Wiring) -> Built:
        """The service's app over `wiring`."""


def _url(configured: AnyHttpUrl | None, linked: str | None) -> AnyHttpUrl | None:
    return configured or (AnyHttpUrl(linked) if linked else None)


def gateway_settings(links: Links) -> GatewaySettings:
    """The gateway's settings; `links` fill the proxy URLs the environment leaves unset."""
    settings = GatewaySettings()
    return settings.model_copy(
        update={
            "alertmanager_url": _url(settings.alertmanager_url, links.alertmanager_url),
            "prometheus_url": _url(settings.prometheus_url, links.prometheus_url),
        }
    )


def read_model_settings(links: Links) -> ReadModelSettings:
    """The read model's settings; `links` fill ALERTMANAGER_URL when it is unset."""
    settings = ReadModelSettings()
    return settings.model_copy(
        update={"alertmanager_url": _url(settings.alertmanager_url, links.alertmanager_url)}
    )


def _gateway(settings: GatewaySettings, w: Wiring) -> ASGIApp:
    a = w.adapters
    return create_gateway(
        settings,
        w.http,
        bus=a.bus,
        jobs=a.jobs,
        events=a.events,
        owned=w.owned,
        access=w.access,
    )


def _processor(settings: ProcessorSettings, w: Wiring) -> ASGIApp:
    a = w.adapters
    return build_processor(settings, bus=a.bus, jobs=a.jobs, owned=w.owned)


def _metrics_engine(settings: MetricsEngineSettings, w: Wiring) -> ASGIApp:
    a = w.adapters
    return build_metrics_engine(
        settings, bus=a.bus, counters=a.counters, events=a.events, owned=w.owned
    )


def _read_model(settings: ReadModelSettings, w: Wiring) -> ASGIApp:
    a = w.adapters
    return create_read_model(
        settings,
        w.http,
        jobs=a.jobs,
        counters=a.counters,
        events=a.events,
        owned=w.owned,
        access=w.access,
    )


def _web(settings: WebSettings, w: Wiring) -> ASGIApp:
    return create_web(settings, access=w.access)  # no adapters: it talks to the others over HTTP


SERVICES: tuple[Buildable, ...] = (
    Service("gateway", gateway_settings, _gateway),
    Service("processor", lambda _: ProcessorSettings(), _processor),
    Service("metrics-engine", lambda _: MetricsEngineSettings(), _metrics_engine),
    Service("read-model", read_model_settings, _read_model),
    Service("web", lambda _: WebSettings(), _web),
)
"""Every service, in start-up order."""

NAMES = tuple(service.name for service in SERVICES)


def service(name: str) -> Buildable:
    """The row of service `name`."""
    for row in SERVICES:
        if row.name == name:
            return row
    raise ValueError(f"unknown service {name!r}; choose from {', '.join(NAMES)}")


def build(name: str, wiring: Wiring) -> Built:
    """The app of service `name` over `wiring`."""
    return service(name).build(wiring)
