"""The composition root (interfaces/cli/services.py): one table of services, each built
from its own settings over exactly the ports its factory takes."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from observatory.core.backends import Adapters
from observatory.core.settings import DEFAULT_PORTS, Backends, HttpSettings
from observatory.interfaces.cli.services import (
    NAMES,
    SERVICES,
    Links,
    Wiring,
    build,
    gateway_settings,
    read_model_settings,
)

READY_CHECKS = {
    "gateway": ["bus", "event_store", "job_store"],  # event store: dead-letter replay, audit
    "processor": ["bus", "job_store"],
    "metrics-engine": ["bus", "counters", "event_store"],
    "read-model": ["counters", "event_store", "job_store"],
}


def wiring(tmp_path: Path, links: Links | None = None) -> Wiring:
    backends = Backends(  # embedded, whatever the environment says
        data_dir=tmp_path,
        rabbitmq_url=None,
        postgres_url=None,
        redis_url=None,
        event_store_url=None,
    )
    return Wiring(http=HttpSettings(), adapters=Adapters(backends), links=links or Links())


def test_the_table_lists_every_service_once_with_its_default_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every service of DEFAULT_PORTS has one row, and listens on its default port."""
    for name in DEFAULT_PORTS:
        monkeypatch.delenv(name.upper().replace("-", "_") + "_PORT", raising=False)
    assert sorted(NAMES) == sorted(DEFAULT_PORTS)
    assert {s.name: s.port() for s in SERVICES} == DEFAULT_PORTS


def test_a_port_variable_moves_the_service(monkeypatch: pytest.MonkeyPatch) -> None:
    """<NAME>_PORT is read through the service's settings."""
    monkeypatch.setenv("METRICS_ENGINE_PORT", "18090")
    assert {s.name: s.port() for s in SERVICES}["metrics-engine"] == 18090


@pytest.mark.parametrize("name", sorted(READY_CHECKS))
async def test_each_service_checks_only_the_ports_it_takes(name: str, tmp_path: Path) -> None:
    """/readyz of a service built alone (nothing opened yet) names exactly its ports."""
    built = build(name, wiring(tmp_path))
    transport = httpx.ASGITransport(app=built.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        answer = await client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["failing"] == READY_CHECKS[name]


def test_unknown_service_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown service 'nope'"):
        build("nope", wiring(tmp_path))


def test_links_from_odto_up_fill_only_unset_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local stack's URLs reach the gateway and read model; the environment wins."""
    links = Links(
        prometheus_url="http://127.0.0.1:19090", alertmanager_url="http://127.0.0.1:19093"
    )
    monkeypatch.delenv("ALERTMANAGER_URL", raising=False)
    monkeypatch.setenv("PROMETHEUS_URL", "http://prom.example:9090")
    gateway = gateway_settings(links)
    assert str(gateway.alertmanager_url) == "http://127.0.0.1:19093/"
    assert str(gateway.prometheus_url) == "http://prom.example:9090/"
    assert str(read_model_settings(links).alertmanager_url) == "http://127.0.0.1:19093/"
    assert gateway_settings(Links()).alertmanager_url is None
