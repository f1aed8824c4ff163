"""A fake kind world for `odto cluster`: fake docker/kind/kubectl alone on PATH.

`FakeCluster(tmp_path).run("up", "--json", scenario={...})` runs the real CLI in a subprocess, in a
throw-away copy of the repository's deploy files, and returns its exit status, its JSON
records and every call the fake tools received. Port-forwards left running by a test are
stopped at teardown, so no test leaks a process.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.e2e.cluster import fake_tool

from observatory import __version__
from observatory.core.contracts.registry import load_registry
from observatory.interfaces.cli.cluster_tools import is_port_forward

REPO = Path(__file__).resolve().parents[3]
PROJECT_FILES = (
    "deploy/docker/Dockerfile",
    "deploy/make_env.py",
    "deploy/k8s/overlays/kind/kustomization.yaml",
    "deploy/k8s/overlays/kind/secrets.env.example",
)
WORKLOADS = [
    "deployment.apps/gateway",
    "deployment.apps/processor",
    "statefulset.apps/postgres",
]


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    calls: list[dict[str, Any]]

    @property
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]

    @property
    def steps(self) -> list[tuple[str, str]]:
        """(step, status) of every record that ends a step (not the `starting` ones)."""
        return [(r["step"], r["status"]) for r in self.records if r["status"] != "starting"]

    def argvs(self, tool: str) -> list[list[str]]:
        return [c["argv"] for c in self.calls if c["tool"] == tool]


EPHEMERAL_FROM = 32768
"""Linux's default ephemeral range starts here: a port above it may be taken by any
outgoing connection (another test's client) between our check and the port-forward's bind."""


def free_offset() -> int:
    """An offset that puts every registry port on a free local port below the ephemeral
    range (the highest registry port is 16686)."""
    ports = [entry.port for entry in load_registry().entries]
    highest = EPHEMERAL_FROM - max(ports)
    for _ in range(200):
        offset = random.randrange(10000, highest)
        if all(_free(port + offset) for port in ports):
            return offset
    raise RuntimeError("no free block of local ports")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class FakeCluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "bin"
        self.tools = root / "tools"
        self.project = root / "project"
        self.data = root / "data"
        self.offset = free_offset()
        self.tools.mkdir()
        for name in PROJECT_FILES:
            target = self.project / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(REPO / name, target)
        # What `make dist` leaves for the image build (the fake docker reads none of it).
        (self.project / "dist").mkdir()
        (self.project / "dist" / f"task_observatory-{__version__}-py3-none-any.whl").touch()
        fake_tool.install(self.bin)

    @property
    def state_file(self) -> Path:
        return self.data / "cluster" / "state.json"

    @property
    def secrets_env(self) -> Path:
        return self.project / "deploy/k8s/overlays/kind/secrets.env"

    def recorded_pids(self) -> list[int]:
        if not self.state_file.exists():
            return []
        state = json.loads(self.state_file.read_text("utf-8"))
        return [int(f["pid"]) for f in state.get("portForwards", [])]

    def live_port_forwards(self) -> list[int]:
        """Pids of this world's fake `kubectl port-forward` processes that still run, found
        in /proc (a failed `up` clears the state file, so the recorded pids are gone)."""
        mine = str(self.bin / "kubectl").encode()
        pids = []
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                argv = cmdline.read_bytes().split(b"\0")
            except OSError:
                continue  # it exited while we looked
            if mine in argv and b"port-forward" in argv:
                pids.append(int(cmdline.parent.name))
        return pids

    def run(
        self, *args: str, scenario: dict[str, Any] | None = None, timeout: float = 90
    ) -> Outcome:
        plan = {"workloads": WORKLOADS, **(scenario or {})}
        (self.tools / "scenario.json").write_text(json.dumps(plan), "utf-8")
        calls = self.tools / "calls.jsonl"
        calls.unlink(missing_ok=True)
        env = {
            **os.environ,
            "PATH": str(self.bin),
            "FAKE_TOOLS_DIR": str(self.tools),
            "ODTO_DATA_DIR": str(self.data),
        }
        env.pop("ODTO_UI_REGISTRY", None)
        argv = list(args)
        if args[:1] != ("--help",):
            argv += ["--port-offset", str(self.offset)]
        done = subprocess.run(
            [sys.executable, "-m", "observatory.interfaces.cli.cluster", *argv],
            cwd=self.project,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        recorded = (
            [json.loads(line) for line in calls.read_text("utf-8").splitlines()]
            if (calls.exists())
            else []
        )
        return Outcome(done.returncode, done.stdout, done.stderr, recorded)

    def cleanup(self) -> None:
        for pid in self.recorded_pids():
            if is_port_forward(pid):
                os.kill(pid, signal.SIGKILL)
