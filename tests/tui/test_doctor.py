"""`odd-dashboard doctor`: each check, and the exit status the report gives."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse

import pytest

from observatory.interfaces.tui.doctor import (
    Check,
    Level,
    check_port,
    check_python,
    check_tool,
    report,
    run_checks,
)
from tests.system import RunningSystem, free_port


class NotOurs(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html>some other program</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def other_program() -> Iterator[int]:
    """A port held by an HTTP server that is not the Task Observatory."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), NotOurs)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_python_311_or_newer_passes_and_older_fails() -> None:
    assert check_python((3, 11, 4)).level is Level.OK
    assert check_python((3, 13, 0)).level is Level.OK
    old = check_python((3, 10, 12))
    assert old.level is Level.FAIL
    assert old.line() == "[FAIL] Python: 3.10.12 is too old; 3.11 or newer is needed"


def test_a_free_port_passes() -> None:
    check = check_port("gateway", "GATEWAY_PORT", free_port())
    assert check.level is Level.OK
    assert check.detail == "free"


def test_a_port_answering_as_the_observatory_passes(live: RunningSystem) -> None:
    port = urlparse(live.read_model_url).port
    assert port is not None
    check = check_port("read model", "READ_MODEL_PORT", port)
    assert check.level is Level.OK
    assert check.detail.startswith("answering as the Task Observatory")


def test_a_port_held_by_another_program_fails_and_names_the_variable(other_program: int) -> None:
    check = check_port("web", "WEB_PORT", other_program)
    assert check.level is Level.FAIL
    assert "in use by another program" in check.detail
    assert "WEB_PORT" in check.detail


def test_cluster_tools_are_warnings_unless_the_cluster_path_is_chosen() -> None:
    def which(tool: str) -> str | None:
        return None

    local = check_tool("kind", ["version"], required=False, broken="", which=which)
    assert local.level is Level.WARN
    assert "needed only for the cluster path" in local.detail
    cluster = check_tool("kind", ["version"], required=True, broken="", which=which)
    assert cluster.line() == "[FAIL] kind: not found on PATH"


def test_a_tool_that_is_present_shows_its_version_and_a_broken_one_says_why() -> None:
    def which(tool: str) -> str:
        return f"/usr/bin/{tool}"

    ok = check_tool(
        "kind",
        ["version"],
        required=True,
        broken="",
        which=which,
        run=lambda argv: "kind v0.23.0 go1.22 linux/amd64\nmore",
    )
    assert ok.line() == "[OK] kind: kind v0.23.0 go1.22 linux/amd64"
    down = check_tool(
        "docker",
        ["info"],
        required=True,
        broken="the daemon is not answering",
        which=which,
        run=lambda argv: None,
    )
    assert down.line() == "[FAIL] docker: /usr/bin/docker: the daemon is not answering"


def test_the_report_exits_1_only_when_something_failed() -> None:
    out = io.StringIO()
    assert report([Check(Level.OK, "a", "fine"), Check(Level.WARN, "b", "meh")], out) == 0
    assert "All checks passed" in out.getvalue()
    out = io.StringIO()
    assert report([Check(Level.OK, "a", "fine"), Check(Level.FAIL, "b", "broken")], out) == 1
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["odd-dashboard doctor", "===================="]
    assert "[FAIL] b: broken" in lines
    assert "1 check(s) failed" in out.getvalue()


def test_ports_come_from_the_same_variables_odto_up_reads(other_program: int) -> None:
    env = {
        name: str(free_port())
        for name in ("GATEWAY_PORT", "PROCESSOR_PORT", "READ_MODEL_PORT", "METRICS_ENGINE_PORT")
    }
    env["WEB_PORT"] = str(other_program)
    checks = run_checks(cluster=False, env=env, which=lambda tool: None)
    ports = {c.name: c for c in checks if c.name.startswith("Port")}
    assert ports[f"Port {other_program} (web)"].level is Level.FAIL
    assert ports[f"Port {env['GATEWAY_PORT']} (gateway)"].level is Level.OK
    assert {c.name for c in checks} >= {"Python", "odto", "docker", "kubectl", "kind"}
