"""deploy/docker/healthcheck.py against a real local HTTP server: healthy only on a 200
of the requested path, unhealthy when nothing answers."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.unit.deploy.test_healthcheck import healthcheck

Server = tuple[int, dict[str, int]]  # a local HTTP server's port and its path -> status map


@pytest.fixture
def server() -> Iterator[Server]:
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


def test_healthy_only_on_200_of_the_requested_path(server: Server, tmp_path: Path) -> None:
    port, answers = server
    cmdline = tmp_path / "cmdline"
    cmdline.write_bytes(b"odto\0serve\0processor\0")
    env = {"PROCESSOR_PORT": str(port)}
    module = healthcheck()
    answers["/healthz"] = 200
    answers["/readyz"] = 503
    assert module.main([], env=env, cmdline=cmdline) == 0
    assert module.main(["--path", "/readyz"], env=env, cmdline=cmdline) == 1


def test_unreachable_service_is_unhealthy(server: Server, tmp_path: Path) -> None:
    port, _ = server
    module = healthcheck()
    env = {"ODTO_SERVICE": "gateway", "GATEWAY_PORT": str(port + 1 if port < 65535 else 1)}
    assert module.main(["--timeout", "1"], env=env, cmdline=tmp_path / "none") == 1


def test_a_container_serving_nothing_has_nothing_to_check(tmp_path: Path) -> None:
    cmdline = tmp_path / "cmdline"
    cmdline.write_bytes(b"/opt/venv/bin/odd-dashboard\0")
    assert healthcheck().main([], env={}, cmdline=cmdline) == 0
