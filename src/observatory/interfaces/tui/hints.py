"""What went wrong during setup, and what to do about it, read from an error message.

`diagnose` maps the message a failed `odto up`/`odto cluster up` printed to one hint and a
few remediation steps for the user's platform. The rules are ordered: the first match wins.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

from observatory.core.settings import DEFAULT_PORTS as SERVICE_PORTS

DEFAULT_PORTS = tuple(SERVICE_PORTS[name] for name in ("gateway", "read-model", "web"))
"""The ports named when a message names none: those of what the dashboard talks to."""


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """A one-line explanation and the steps that fix it."""

    hint: str
    steps: tuple[str, ...]


def _platform_key(platform: str) -> str:
    if platform.startswith("win"):
        return "windows"
    if platform == "darwin":
        return "macos"
    return "linux"


def _ports_in(message: str) -> tuple[int, ...]:
    found = []
    for match in re.finditer(r"(?:\bport\s+|:|,\s*)(\d{2,5})\b", message, re.IGNORECASE):
        port = int(match.group(1))
        if 1 <= port <= 65535 and port not in found:
            found.append(port)
    return tuple(found) or DEFAULT_PORTS


def _missing(text: str) -> bool:
    return any(w in text for w in ("not found", "not installed", "no such file", "missing"))


_START_DOCKER = {
    "linux": "Start the daemon: sudo systemctl start docker",
    "macos": "Start Docker Desktop: open -a Docker",
    "windows": "Start Docker Desktop from the Start menu",
}


_INSTALL = {
    "kind": {
        "linux": "go install sigs.k8s.io/kind@latest  (or download from https://kind.sigs.k8s.io)",
        "macos": "brew install kind",
        "windows": "winget install Kubernetes.kind",
    },
    "kubectl": {
        "linux": "sudo apt-get install -y kubectl  (or see https://kubernetes.io/docs/tasks/tools/)",
        "macos": "brew install kubectl",
        "windows": "winget install Kubernetes.kubectl",
    },
    "docker": {
        "linux": "Install Docker Engine: https://docs.docker.com/engine/install/",
        "macos": "Install Docker Desktop: brew install --cask docker",
        "windows": "Install Docker Desktop: winget install Docker.DockerDesktop",
    },
}


def diagnose(message: str, platform: str = sys.platform) -> Diagnosis:
    """The hint and remediation steps for a setup error message on `platform`."""
    text = message.lower()
    os_key = _platform_key(platform)
    if "docker" in text and _missing(text) and "daemon" not in text:
        return Diagnosis(
            "Docker is not installed",
            (_INSTALL["docker"][os_key], "Run `odd-dashboard doctor --cluster` to check"),
        )
    if "docker" in text and any(
        w in text for w in ("not running", "cannot connect", "daemon", "is the docker")
    ):
        return Diagnosis(
            "Docker is not running",
            (
                _START_DOCKER[os_key],
                "Wait until `docker info` succeeds",
                "Press any key, then K to retry",
            ),
        )
    for tool in ("kind", "kubectl"):
        if re.search(rf"\b{tool}\b", text) and _missing(text):
            return Diagnosis(
                f"The '{tool}' tool is not installed",
                (
                    f"Install it: {_INSTALL[tool][os_key]}",
                    "Run `odd-dashboard doctor --cluster` to check every tool",
                    "Press any key, then K to retry",
                ),
            )
    port_taken = "port" in text and any(w in text for w in ("in use", "already", "bind"))
    if port_taken or any(
        w in text for w in ("address already in use", "eaddrinuse", "errno 98", "errno 48")
    ):
        ports = _ports_in(message)
        finder = "netstat -ano | findstr :{}" if os_key == "windows" else "lsof -i :{}"
        return Diagnosis(
            "A required port is already in use by another program",
            (
                *(f"Find it: {finder.format(p)}" for p in ports[:3]),
                "Stop it, or choose other ports (GATEWAY_PORT, READ_MODEL_PORT, WEB_PORT)",
                "Run `odd-dashboard doctor` to check every port",
            ),
        )
    if "timeout" in text or "timed out" in text:
        return Diagnosis(
            "The operation timed out; the system may be slow to start",
            (
                "Check that the machine is not overloaded",
                "Run `odto up` in a terminal to watch its output",
                "Press any key, then L to retry",
            ),
        )
    if any(w in text for w in ("permission", "access denied", "not permitted")):
        if os_key == "windows":
            steps: tuple[str, ...] = ("Run the terminal as Administrator",)
        elif "docker" in text:
            steps = (
                "Add yourself to the docker group: sudo usermod -aG docker $USER",
                "Log out and back in",
            )
        else:
            steps = ("Make sure the data directory (ODTO_DATA_DIR, default .odto/) is writable",)
        return Diagnosis("Permission denied", (*steps, "Press any key, then retry"))
    return Diagnosis(
        "An error occurred during setup",
        (
            "Review the log lines above",
            "Run `odto up` in a terminal to see its full output",
            "Run `odd-dashboard doctor` to check the prerequisites",
        ),
    )
