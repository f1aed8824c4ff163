"""The steps of `odto cluster up|down|status`, in order, each reporting one record.

up:     prereqs -> cluster -> image -> load -> deploy -> pods -> ports -> verify -> ready
(down and status: cluster_down.py)

Each step calls `report(step, status, message)` when it starts and when it ends and raises
StepError (from cluster_tools) to fail; the caller turns that into the `error` record and
exit status 1. Nothing here prints or reads the environment: the CLI builds the `Plan`.
"""

from __future__ import annotations

import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from observatory.core.contracts.registry import Registry
from observatory.core.settings import DEFAULT_PORTS, OBSERVABILITY_PORTS
from observatory.interfaces.cli.cluster_tools import (
    CommandResult,
    CommandTimeout,
    PortForward,
    State,
    StepError,
    Tools,
    stop_port_forwards,
)

Report = Callable[..., None]  # report(step, status, message, **extra)

OVERLAY = Path("deploy/k8s/overlays/kind")
DOCKERFILE = Path("deploy/docker/Dockerfile")
MAKE_ENV = Path("deploy/make_env.py")

PORT_FORWARD_START_SECONDS = 60.0  # a kubectl port-forward not listening by then is hung

# Registry entry -> (Kubernetes Service, its port) that `kubectl port-forward` exposes at
# the entry's local port. The services and ports are those of deploy/k8s/base.
FORWARDS: dict[str, tuple[str, int]] = {
    "dashboard": ("web", DEFAULT_PORTS["web"]),
    "gateway-docs": ("gateway", DEFAULT_PORTS["gateway"]),
    "read-model-docs": ("read-model", DEFAULT_PORTS["read-model"]),
    "rabbitmq": ("rabbitmq", 15672),
    "grafana": ("grafana", 3000),
    "prometheus": ("prometheus", OBSERVABILITY_PORTS["prometheus"]),
    "alertmanager": ("alertmanager", OBSERVABILITY_PORTS["alertmanager"]),
    "jaeger": ("jaeger", 16686),
    "pgadmin": ("pgadmin", 5050),
    "mongo-express": ("mongo-express", 8081),
    "redisinsight": ("redisinsight", 5540),
}

# Registry ids -> the keys of the `ready` record's urls (as `odto up` and the seed name them).
URL_KEYS = {
    "dashboard": "webDashboard",
    "gateway-docs": "gatewayDocs",
    "read-model-docs": "readModelDocs",
    "mongo-express": "mongoExpress",
}

KIND_CONFIG = """\
# Written by `odto cluster up`: one node, labelled for an ingress controller.
kind: Cluster
apiVersion: kind.x-k8s.io/v1alpha4
nodes:
  - role: control-plane
    labels:
      ingress-ready: "true"
"""


@dataclass(frozen=True, slots=True)
class Plan:
    """What `odto cluster` works on; built by the CLI from its options."""

    project_dir: Path
    data_dir: Path
    registry: Registry
    image: str
    version: str
    name: str = "task-observatory"
    namespace: str = "task-observatory"
    pods_timeout: float = 600.0
    verify_timeout: float = 60.0
    port_offset: int = 0
    build: bool = True
    port_forward: bool = True
    keep_cluster: bool = False
    command_timeouts: dict[str, float] = field(
        default_factory=lambda: {"quick": 60.0, "create": 600.0, "build": 1800.0, "load": 600.0}
    )

    @property
    def context(self) -> str:
        return f"kind-{self.name}"

    @property
    def cluster_dir(self) -> Path:
        return self.data_dir / "cluster"

    def kubectl(self, *args: str) -> list[str]:
        """A kubectl command on this cluster's context and namespace (never the current one)."""
        return ["kubectl", "--context", self.context, "--namespace", self.namespace, *args]

    def local_port(self, entry_id: str) -> int:
        return self.registry.get(entry_id).port + self.port_offset

    def urls(self) -> dict[str, str]:
        """Launch URLs of the forwarded UIs under the keys `odto up` uses (seed names)."""
        base = self.registry.base_url.rstrip("/")
        urls = {
            URL_KEYS.get(entry.id, entry.id): f"{base}:{entry.port + self.port_offset}{entry.path}"
            for entry in self.registry.entries
            if entry.id in FORWARDS
        }
        urls["gateway"] = f"{base}:{self.local_port('gateway-docs')}"
        urls["readModel"] = f"{base}:{self.local_port('read-model-docs')}"
        return urls


# --- up ---------------------------------------------------------------------------------


def release_wheel(version: str) -> Path:
    """Where `make dist` puts the wheel that deploy/docker/Dockerfile installs."""
    return Path("dist") / f"task_observatory-{version}-py3-none-any.whl"


def prereqs(plan: Plan, tools: Tools, report: Report) -> None:
    report("prereqs", "starting", "Checking docker, kind and kubectl")
    for needed in (OVERLAY / "kustomization.yaml", DOCKERFILE, MAKE_ENV):
        if not (plan.project_dir / needed).is_file():
            raise StepError(
                f"{plan.project_dir} is not a task-observatory checkout ({needed} is missing); "
                "run from the repository or pass --project-dir"
            )
    wheel = release_wheel(plan.version)
    if plan.build and not (plan.project_dir / wheel).is_file():
        # Checked before a cluster is created: the image is built from the release wheel.
        raise StepError(f"{wheel} is missing: the image is built from it; run `make dist` first")
    missing = [name for name in ("docker", "kind", "kubectl") if tools.which(name) is None]
    if "docker" not in missing:
        info = run_command(tools, ["docker", "info"], plan.command_timeouts["quick"])
        if not info.ok:
            missing.insert(0, f"docker (not running: {info.detail(1)})")
    if missing:
        raise StepError("Missing: " + ", ".join(missing))
    report("prereqs", "complete", "docker, kind and kubectl are available")


def cluster_exists(plan: Plan, tools: Tools) -> bool:
    result = run_command(tools, ["kind", "get", "clusters"], plan.command_timeouts["quick"])
    if not result.ok:
        raise StepError(f"kind get clusters failed: {result.detail()}")
    return plan.name in result.stdout.split()


def cluster(plan: Plan, tools: Tools, report: Report) -> None:
    report("cluster", "starting", f"Looking for kind cluster {plan.name}")
    if cluster_exists(plan, tools):
        report("cluster", "complete", f"Using existing kind cluster {plan.name}")
        return
    report("cluster", "starting", f"Creating kind cluster {plan.name} (a few minutes)")
    with tempfile.TemporaryDirectory(prefix="odto-kind-") as folder:
        config = Path(folder) / "kind-config.yaml"
        config.write_text(KIND_CONFIG, "utf-8")
        result = run_command(
            tools,
            ["kind", "create", "cluster", "--name", plan.name, "--config", str(config)],
            plan.command_timeouts["create"],
        )
    if not result.ok:
        raise StepError(f"kind create cluster failed: {result.detail()}")
    report("cluster", "complete", f"Created kind cluster {plan.name}")


def image(plan: Plan, tools: Tools, report: Report) -> None:
    if not plan.build:
        report("image", "skipped", f"Not building; using {plan.image} as it is")
        return
    report("image", "starting", f"Building {plan.image} from {DOCKERFILE}")
    result = run_command(
        tools,
        [
            "docker", "build",
            "-f", str(DOCKERFILE),
            "-t", plan.image,
            "--build-arg", f"VERSION={plan.version}",
            ".",
        ],
        plan.command_timeouts["build"],
    )  # fmt: skip
    if not result.ok:
        raise StepError(f"docker build failed: {result.detail()}")
    report("image", "complete", f"Built {plan.image}")


def load(plan: Plan, tools: Tools, report: Report) -> None:
    report("load", "starting", f"Loading {plan.image} into {plan.name}")
    result = run_command(
        tools,
        ["kind", "load", "docker-image", plan.image, "--name", plan.name],
        plan.command_timeouts["load"],
    )
    if not result.ok:
        raise StepError(f"kind load docker-image failed: {result.detail()}")
    report("load", "complete", f"Loaded {plan.image}")


def deploy(plan: Plan, tools: Tools, report: Report) -> None:
    report("deploy", "starting", f"Applying {OVERLAY}")
    secrets = plan.project_dir / OVERLAY / "secrets.env"
    note = ""
    if not secrets.exists():
        made = run_command(
            tools,
            [sys.executable, str(MAKE_ENV), str(OVERLAY / "secrets.env.example"), str(secrets)],
            plan.command_timeouts["quick"],
        )
        if not made.ok:
            raise StepError(f"could not create {secrets}: {made.detail()}")
        note = f" (created {OVERLAY / 'secrets.env'} with random passwords)"
    result = run_command(
        tools, plan.kubectl("apply", "-k", str(OVERLAY)), plan.command_timeouts["load"]
    )
    if not result.ok:
        raise StepError(f"kubectl apply failed: {result.detail()}")
    report("deploy", "complete", f"Applied {OVERLAY}{note}")


def workloads(plan: Plan, tools: Tools) -> list[str]:
    result = run_command(
        tools,
        plan.kubectl("get", "deployments,statefulsets", "--output", "name"),
        plan.command_timeouts["quick"],
    )
    if not result.ok:
        raise StepError(f"kubectl get deployments,statefulsets failed: {result.detail()}")
    return [line.strip() for line in result.stdout.splitlines() if line.strip()]


def pods(plan: Plan, tools: Tools, report: Report) -> None:
    deadline = time.monotonic() + plan.pods_timeout
    report("pods", "starting", f"Waiting for the workloads (up to {plan.pods_timeout:g} s)")
    names = workloads(plan, tools)
    if not names:
        raise StepError(f"no deployments or statefulsets in namespace {plan.namespace}")
    for done, name in enumerate(names):
        left = max(1, int(deadline - time.monotonic()))
        waiting = (
            f"Timeout after {plan.pods_timeout:g} s waiting for {name} ({done}/{len(names)} ready)"
        )
        try:
            result = tools.run(
                plan.kubectl("rollout", "status", name, f"--timeout={left}s"), timeout=left + 15
            )
        except CommandTimeout as exc:
            raise StepError(waiting) from exc
        if not result.ok:
            raise StepError(waiting if "timed out" in result.detail() else
                            f"{name} did not become ready: {result.detail()}")  # fmt: skip
        report("pods", "starting", f"Ready {done + 1}/{len(names)}: {name}")
    report("pods", "complete", f"All {len(names)} workloads are ready")


def ports(plan: Plan, tools: Tools, report: Report) -> None:
    if not plan.port_forward:
        report("ports", "skipped", "Port-forwarding disabled (--no-port-forward)")
        return
    wanted = [entry for entry in plan.registry.entries if entry.id in FORWARDS]
    report("ports", "starting", f"Forwarding {len(wanted)} ports to localhost")
    state = State(plan.cluster_dir / "state.json")
    stop_port_forwards(state)  # those of an earlier `up`
    busy = [f"{plan.local_port(e.id)} ({e.id})" for e in wanted if _in_use(plan.local_port(e.id))]
    if busy:
        raise StepError("port already in use: " + ", ".join(busy))
    started: list[tuple[PortForward, Any]] = []
    for entry in wanted:
        service, remote = FORWARDS[entry.id]
        local = plan.local_port(entry.id)
        process = tools.spawn(
            plan.kubectl(
                "port-forward", "--address", "127.0.0.1", f"svc/{service}", f"{local}:{remote}"
            ),
            log=plan.cluster_dir / f"port-forward-{entry.id}.log",
        )
        forward = PortForward(process.pid, entry.id, service, local, remote)
        started.append((forward, process))
        state.record_port_forwards([f for f, _ in started])
    # Start-up has its own budget: how fast kubectl processes come up says nothing about the
    # health `verify` waits for, and a short --verify-timeout must not cut start-up short.
    deadline = time.monotonic() + PORT_FORWARD_START_SECONDS
    for forward, process in started:
        while not _accepts(forward.local_port):
            if process.poll() is not None:
                log = plan.cluster_dir / f"port-forward-{forward.entry}.log"
                raise StepError(
                    f"port-forward of svc/{forward.service} to {forward.local_port} exited: "
                    + _tail(log)
                )
            if time.monotonic() > deadline:
                raise StepError(f"port-forward to {forward.local_port} did not open in time")
            time.sleep(0.1)
    report("ports", "complete", f"Port-forwards active ({len(started)} processes)")


def verify(plan: Plan, report: Report) -> None:
    if not plan.port_forward:
        report("verify", "skipped", "Nothing forwarded to check")
        return
    report("verify", "starting", "Checking gateway and read-model health")
    checks = {
        "gateway": f"http://127.0.0.1:{plan.local_port('gateway-docs')}/healthz",
        "read-model": f"http://127.0.0.1:{plan.local_port('read-model-docs')}/health",
    }
    deadline = time.monotonic() + plan.verify_timeout
    while True:
        problems = {}
        for name, url in checks.items():
            status = http_status(url, timeout=5.0)
            if status != 200:
                problems[name] = f"{url} -> {status}"
        if not problems:
            break
        if time.monotonic() > deadline:
            raise StepError("not healthy: " + "; ".join(problems.values()))
        time.sleep(0.5)
    report("verify", "complete", "gateway and read-model are healthy")


# --- helpers ----------------------------------------------------------------------------


def http_status(url: str, *, timeout: float) -> int | str:
    """The HTTP status of GET `url`, or the reason there was none."""
    try:
        return httpx.get(url, timeout=timeout, follow_redirects=True).status_code
    except (httpx.HTTPError, httpx.InvalidURL, OSError) as exc:
        return str(exc) or type(exc).__name__


def run_command(tools: Tools, argv: list[str], timeout: float) -> CommandResult:
    """`tools.run` with the step's timeout (raises CommandTimeout when it runs over)."""
    return tools.run(argv, timeout=timeout)


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As kubectl binds: a port whose old connections linger in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def _tail(log: Path, lines: int = 3) -> str:
    try:
        text = log.read_text("utf-8", "replace").strip().splitlines()
    except OSError:
        return "no output"
    return " | ".join(text[-lines:]) or "no output"
