"""A three-node RabbitMQ cluster started by a test, on this machine, on loopback only.

Each node is one `rabbitmq-server` with its own node name, AMQP and distribution ports,
data, logs, config and Erlang cookie in a temp directory; the second and third join the
first with `rabbitmqctl join_cluster`. Nodes are started in their own process group and
stopped by that id (`stop()`), whatever happened; `kill(i)` SIGKILLs one node's Erlang VM.
The system RabbitMQ (5672) is never touched: other node names, other ports, other files.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.system import free_port

SBIN = Path("/usr/lib/rabbitmq/bin")
SERVER = SBIN / "rabbitmq-server"
CTL = SBIN / "rabbitmqctl"
# rabbitmqctl's own distribution ports (rabbitmq-env's default); a node must not take them
CTL_DIST_PORTS = range(35672, 35683)
BOOT_SECONDS = 120.0


def missing() -> str | None:
    """Why a cluster cannot be started here (None when it can)."""
    if not SERVER.exists() or shutil.which("rabbitmq-server") is None:
        return "rabbitmq-server is not installed (apt-get install rabbitmq-server)"
    return None


def _port() -> int:
    while True:
        port = free_port()
        if port not in CTL_DIST_PORTS:
            return port


@dataclass
class Node:
    name: str
    amqp_port: int
    dist_port: int
    home: Path
    process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        return {
            **{k: v for k, v in os.environ.items() if not k.startswith("RABBITMQ_")},
            "HOME": str(self.home),  # the Erlang cookie: $HOME/.erlang.cookie
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.amqp_port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.home / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.home / "log"),
            "RABBITMQ_CONFIG_FILE": str(self.home / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.home / "advanced.config"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.home / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.home / "rabbitmq.pid"),
        }

    def ctl(self, *args: str, timeout: float = 60) -> str:
        done = subprocess.run(
            [str(CTL), "-n", self.name, *args],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)} on {self.name}: {done.stderr}")
        return done.stdout

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/"


@dataclass
class RabbitCluster:
    root: Path
    size: int = 3
    nodes: list[Node] = field(default_factory=list)

    @property
    def url(self) -> str:
        """RABBITMQ_URL listing every node."""
        return ",".join(node.url for node in self.nodes)

    def start(self) -> None:
        cookie = secrets.token_hex(16)
        tag = secrets.token_hex(3)
        for index in range(self.size):
            home = self.root / f"node{index}"
            (home / "mnesia").mkdir(parents=True)
            (home / "log").mkdir()
            (home / ".erlang.cookie").write_text(cookie)
            (home / ".erlang.cookie").chmod(0o400)
            # guest may connect over loopback only, which is all we listen on
            (home / "rabbitmq.conf").write_text("loopback_users.guest = true\n")
            (home / "enabled_plugins").write_text("[].\n")
            node = Node(f"odto{tag}n{index}@localhost", _port(), _port(), home)
            self.nodes.append(node)
            with (home / "server.out").open("wb") as out:
                node.process = subprocess.Popen(
                    [str(SERVER)],
                    env=node.env(),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # its own process group, stopped by its id
                )
        for node in self.nodes:
            assert node.process is not None
            node.ctl(
                "wait",
                "--pid",
                str(node.process.pid),
                "--timeout",
                str(int(BOOT_SECONDS)),
                timeout=BOOT_SECONDS + 10,
            )
        first = self.nodes[0]
        for node in self.nodes[1:]:
            node.ctl("stop_app")
            node.ctl("join_cluster", first.name)
            node.ctl("start_app")
        status = first.ctl("cluster_status", "--formatter", "json")
        for node in self.nodes:
            assert node.name in status, status

    def kill(self, index: int) -> None:
        """SIGKILL node `index` (its whole process group: the VM and its helpers)."""
        process = self.nodes[index].process
        assert process is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(30)

    def stop(self) -> None:
        """Stop every node started here, gracefully first, then by force."""
        for node in self.nodes:
            if node.process is not None and node.process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(node.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for node in self.nodes:
            if node.process is None:
                continue
            try:
                node.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(node.process.pid, signal.SIGKILL)
                node.process.wait(10)

    def logs(self) -> str:
        return "\n".join(
            f"--- {node.name}\n" + (node.home / "server.out").read_text(errors="replace")[-1500:]
            for node in self.nodes
        )


@contextlib.contextmanager
def running_cluster(root: Path, test: str) -> Iterator[RabbitCluster]:
    """A started cluster under `root`, stopped afterwards whatever happened; `test` is
    skipped, saying why, where no cluster can be started."""
    reason = missing()
    if reason:
        print(f"skipping {test}: {reason}")
        pytest.skip(reason)
    rabbit = RabbitCluster(root)
    try:
        rabbit.start()
        yield rabbit
    finally:
        rabbit.stop()
