"""`odd-dashboard doctor`: can this machine start and show the system?

Checks what the chosen launch path needs and prints `[OK]`, `[WARN]` or `[FAIL]` lines;
the exit status is 1 when anything failed. The local path (`odto up`) needs Python 3.11+,
`odto`, and its ports free or already answering as the Task Observatory; the cluster path
(`odto cluster up`) also needs docker (with a running daemon), kubectl and kind. Cluster
tools are only warnings unless `--cluster` is given.
"""

from __future__ import annotations

import shutil
import socket
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TextIO

import httpx

from observatory.core.settings import DEFAULT_PORTS
from observatory.interfaces.buildinfo import Runner, run_quiet
from observatory.interfaces.tui.runner import odto_command

MIN_PYTHON = (3, 11)
PORTS = tuple(
    (name.replace("-", " "), name.upper().replace("-", "_") + "_PORT", DEFAULT_PORTS[name])
    for name in ("gateway", "processor", "read-model", "web", "metrics-engine")
)
"""(shown name, variable that moves it, default port) of each service `odto up` starts."""


class Level(Enum):
    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"


@dataclass(frozen=True, slots=True)
class Check:
    level: Level
    name: str
    detail: str

    def line(self) -> str:
        return f"[{self.level.value}] {self.name}: {self.detail}"


def check_python(version: tuple[int, ...] = tuple(sys.version_info[:3])) -> Check:
    text = ".".join(map(str, version))
    needed = ".".join(map(str, MIN_PYTHON))
    if tuple(version[:2]) >= MIN_PYTHON:
        return Check(Level.OK, "Python", f"{text} ({needed} or newer needed)")
    return Check(Level.FAIL, "Python", f"{text} is too old; {needed} or newer is needed")


def observatory_version(port: int, host: str = "127.0.0.1") -> str | None:
    """The version a Task Observatory service on `port` reports at /healthz, else None."""
    try:
        response = httpx.get(f"http://{host}:{port}/healthz", timeout=2.0)
        body = response.json()
    except (httpx.HTTPError, ValueError):
        return None
    if isinstance(body, dict) and body.get("status") == "ok" and "version" in body:
        return str(body["version"])
    return None


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def check_port(name: str, env_name: str, port: int) -> Check:
    label = f"Port {port} ({name})"
    if not port_in_use(port):
        return Check(Level.OK, label, "free")
    version = observatory_version(port)
    if version is not None:
        return Check(Level.OK, label, f"answering as the Task Observatory {version}")
    return Check(
        Level.FAIL, label, f"in use by another program; stop it or set {env_name} to another port"
    )


def check_odto(command: Callable[[], list[str]] = odto_command) -> Check:
    argv = command()
    if len(argv) == 1:
        return Check(Level.OK, "odto", argv[0])
    return Check(Level.WARN, "odto", "not on PATH; L will run it through this Python")


def check_tool(
    tool: str,
    probe: list[str],
    *,
    required: bool,
    broken: str,
    which: Callable[[str], str | None] = shutil.which,
    run: Runner = run_quiet,
) -> Check:
    """`tool` must be on PATH and `tool *probe` must succeed; its first output line is shown."""
    missing = Level.FAIL if required else Level.WARN
    path = which(tool)
    if path is None:
        note = "" if required else " (needed only for the cluster path: K)"
        return Check(missing, tool, f"not found on PATH{note}")
    output = run([path, *probe])
    if output is None:
        return Check(missing, tool, f"{path}: {broken}")
    return Check(Level.OK, tool, output.splitlines()[0] if output else path)


def run_checks(
    *,
    cluster: bool,
    env: Mapping[str, str],
    which: Callable[[str], str | None] = shutil.which,
    run: Runner = run_quiet,
) -> list[Check]:
    checks = [check_python(), check_odto()]
    for name, env_name, default in PORTS:
        raw = env.get(env_name, "")
        port = int(raw) if raw.isdigit() else default
        checks.append(check_port(name, env_name, port))
    tools = (
        (
            "docker",
            ["info", "--format", "Docker {{.ServerVersion}}, daemon running"],
            "installed, but the Docker daemon is not answering (`docker info` failed)",
        ),
        ("kubectl", ["version", "--client"], "installed, but `kubectl version --client` failed"),
        ("kind", ["version"], "installed, but `kind version` failed"),
    )
    for tool, probe, broken in tools:
        checks.append(
            check_tool(tool, probe, required=cluster, broken=broken, which=which, run=run)
        )
    return checks


def report(checks: Iterable[Check], out: TextIO) -> int:
    """Print the checks; 0 when none failed, else 1."""
    title = "odd-dashboard doctor"
    print(title, file=out)
    print("=" * len(title), file=out)
    checks = list(checks)
    for check in checks:
        print(check.line(), file=out)
    failed = sum(check.level is Level.FAIL for check in checks)
    print(file=out)
    if failed:
        print(f"{failed} check(s) failed. Fix them and run `odd-dashboard doctor` again.", file=out)
        return 1
    print("All checks passed. Run `odd-dashboard` to start the TUI.", file=out)
    return 0
