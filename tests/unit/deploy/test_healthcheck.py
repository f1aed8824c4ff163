"""odto-healthcheck: which service this container serves and which port it probes (how it
judges a real answer is in tests/integration/deploy/test_healthcheck_http.py)."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from tests.unit.deploy.manifests import DEPLOY


def healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("healthcheck", DEPLOY / "docker/healthcheck.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_service_comes_from_pid_1_command_line() -> None:
    module = healthcheck()
    assert (
        module.service_from_cmdline(
            b"/opt/venv/bin/python\0/opt/venv/bin/odto\0serve\0read-model\0"
        )
        == "read-model"
    )
    assert module.service_from_cmdline(b"odto\0serve\0") is None
    assert module.service_from_cmdline(b"odd-dashboard\0") is None


def test_port_is_the_services_port_variable_or_its_standard_port() -> None:
    module = healthcheck()
    assert module.port_of("read-model", {}) == 8080
    assert module.port_of("read-model", {"READ_MODEL_PORT": "18080"}) == 18080
    assert module.port_of("metrics-engine", {"METRICS_ENGINE_PORT": " "}) == 8090
