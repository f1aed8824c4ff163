"""Keeps the unit tier honest: a unit test that starts a subprocess or dials a TCP address
fails at once, naming what it tried; such a test belongs in tests/integration or tests/e2e.

Binding a loopback port without talking to it (to get a port nobody listens on) and
temporary files are allowed. The event loop's own socket pair (AF_UNIX) is untouched.
"""

from __future__ import annotations

import socket
import subprocess
from typing import Any

import pytest

NETWORK_FAMILIES = (socket.AF_INET, socket.AF_INET6)


def _forbid(what: str) -> None:
    pytest.fail(f"a unit test may not {what}: move it to tests/integration or tests/e2e")


@pytest.fixture(autouse=True)
def no_subprocess_or_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make subprocesses and outgoing TCP connections fail for the duration of the test."""
    connect = socket.socket.connect
    connect_ex = socket.socket.connect_ex

    def guarded_connect(self: socket.socket, address: Any) -> None:
        if self.family in NETWORK_FAMILIES:
            _forbid(f"connect to {address!r}")
        connect(self, address)

    def guarded_connect_ex(self: socket.socket, address: Any) -> int:
        if self.family in NETWORK_FAMILIES:
            _forbid(f"connect to {address!r}")
        return connect_ex(self, address)

    def no_child(self: subprocess.Popen[Any], args: Any, *rest: Any) -> None:
        _forbid(f"run {args!r}")

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect_ex)
    # Popen's own set-up and clean-up still run; only starting the child is refused.
    monkeypatch.setattr(subprocess.Popen, "_execute_child", no_child)
