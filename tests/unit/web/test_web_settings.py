"""The web service takes its port, bind address and upstreams from the environment."""

from __future__ import annotations

import pytest

from observatory.services.web import WebSettings


def test_defaults_are_the_local_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("WEB_PORT", "GATEWAY_URL", "READ_MODEL_URL", "ODTO_HOST"):
        monkeypatch.delenv(name, raising=False)
    settings = WebSettings()
    assert (settings.host, settings.port) == ("127.0.0.1", 8081)
    assert settings.gateway_url == "http://127.0.0.1:3000"
    assert settings.read_model_url == "http://127.0.0.1:8080"


def test_environment_overrides_port_host_and_upstreams(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_PORT", "18081")
    monkeypatch.setenv("ODTO_HOST", "0.0.0.0")
    monkeypatch.setenv("GATEWAY_URL", "http://gateway:3000")
    monkeypatch.setenv("READ_MODEL_URL", "http://read-model:8080")
    settings = WebSettings()
    assert (settings.host, settings.port) == ("0.0.0.0", 18081)
    assert settings.gateway_url == "http://gateway:3000"
    assert settings.read_model_url == "http://read-model:8080"
