"""odto-healthcheck: which service this container serves, and whether it answers."""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from tests.unit.deploy.manifests import DEPLOY


def healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("healthcheck", DEPLOY / "docker/healthcheck.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def server() -> Iterator[tuple[int, dict[str, int]]]:
    """A local HTTP server; set answers[path] = status."""
    answers: dict[str, int] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(answers.get(self.path, 404))
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd.server_address[1], answers
    httpd.shutdown()
    httpd.server_close()


def test_service_comes_from_pid_1_command_line():
    module = healthcheck()
    assert (
        module.service_from_cmdline(
            b"/opt/venv/bin/python\0/opt/venv/bin/odto\0serve\0read-model\0"
        )
        == "read-model"
    )
    assert module.service_from_cmdline(b"odto\0serve\0") is None
    assert module.service_from_cmdline(b"odd-dashboard\0") is None


def test_port_is_the_services_port_variable_or_its_standard_port():
    module = healthcheck()
    assert module.port_of("read-model", {}) == 8080
    assert module.port_of("read-model", {"READ_MODEL_PORT": "18080"}) == 18080
    assert module.port_of("metrics-engine", {"METRICS_ENGINE_PORT": " "}) == 8090


def test_healthy_only_on_200_of_the_requested_path(server, tmp_path: Path):
    port, answers = server
    cmdline = tmp_path / "cmdline"
    cmdline.write_bytes(b"odto\0serve\0processor\0")
    env = {"PROCESSOR_PORT": str(port)}
    module = healthcheck()
    answers["/healthz"] = 200
    answers["/readyz"] = 503
    assert module.main([], env=env, cmdline=cmdline) == 0
    assert module.main(["--path", "/readyz"], env=env, cmdline=cmdline) == 1


def test_unreachable_service_is_unhealthy(server, tmp_path: Path):
    port, _ = server
    module = healthcheck()
    env = {"ODTO_SERVICE": "gateway", "GATEWAY_PORT": str(port + 1 if port < 65535 else 1)}
    assert module.main(["--timeout", "1"], env=env, cmdline=tmp_path / "none") == 1


def test_a_container_serving_nothing_has_nothing_to_check(tmp_path: Path):
    cmdline = tmp_path / "cmdline"
    cmdline.write_bytes(b"/opt/venv/bin/odd-dashboard\0")
    assert healthcheck().main([], env={}, cmdline=cmdline) == 0
