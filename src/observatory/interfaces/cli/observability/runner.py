"""Run the machine's Prometheus and Alertmanager for a local system (`odto up --observability`).

`start_observability` writes the generated configs into `<data_dir>/observability/`, starts
the binaries on loopback ports, waits until both answer `/-/ready`, and returns a handle
whose `stop()` ends them (also registered with `atexit`). It never raises for a machine
problem: without the binaries, with a port taken or a binary that dies at start, the
handle says so in `status` ("skipped", "warning", "error") and `message` (with the
install command), so `odto up` can print it and carry on without observability.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx
import yaml

from observatory.core.settings import OBSERVABILITY_PORTS
from observatory.interfaces.cli.observability import assets
from observatory.interfaces.cli.observability.configs import (
    Timings,
    alertmanager_config,
    format_duration,
    prometheus_config,
    scale_rules,
)
from observatory.interfaces.cli.servers import pick_free_port

INSTALL_COMMAND = "sudo apt-get install -y prometheus prometheus-alertmanager"
PROMETHEUS_BINARIES = ("prometheus",)
ALERTMANAGER_BINARIES = ("prometheus-alertmanager", "alertmanager")


def find_binary(names: Sequence[str]) -> str | None:
    """The first of `names` found on PATH (Debian names Alertmanager `prometheus-alertmanager`)."""
    for name in names:
        if found := shutil.which(name):
            return found
    return None


def port_in_use(host: str, port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


@dataclass
class ManagedProcess:
    """One child process with its log file and readiness URL."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path
    pid_file: Path

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.pid_file.unlink(missing_ok=True)


@dataclass
class ObservabilityStack:
    """What `start_observability` started; `status` uses the `odto up --json` vocabulary."""

    status: str
    message: str
    config_dir: Path
    prometheus_url: str | None = None
    alertmanager_url: str | None = None
    processes: list[ManagedProcess] = field(default_factory=list)

    @property
    def urls(self) -> dict[str, str]:
        found = {"prometheus": self.prometheus_url, "alertmanager": self.alertmanager_url}
        return {name: url for name, url in found.items() if url}

    def stop(self) -> None:
        """Stop the processes (Prometheus first, so it does not report Alertmanager gone)."""
        for managed in reversed(self.processes):
            managed.stop()
        self.processes.clear()

    def __enter__(self) -> ObservabilityStack:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _stop_stale(pid_file: Path, config_file: Path) -> None:
    """End a process a previous, killed run left behind with this very config file."""
    try:
        pid = int(pid_file.read_text())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except (OSError, ValueError):
        return
    if str(config_file) in cmdline:
        with contextlib.suppress(OSError):
            os.kill(pid, 15)
            for _ in range(100):
                os.kill(pid, 0)
                time.sleep(0.05)


def _launch(name: str, argv: list[str], url: str, folder: Path, config: Path) -> ManagedProcess:
    pid_file = folder / f"{name}.pid"
    _stop_stale(pid_file, config)
    log = folder / f"{name}.log"
    with log.open("wb") as sink:
        # argv is a binary found on PATH plus paths this module generated: no user input.
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.STDOUT)  # noqa: S603 — argv built here, no shell
    pid_file.write_text(str(process.pid))
    return ManagedProcess(name, url, process, log, pid_file)


def _wait_ready(managed: ManagedProcess, deadline: float) -> str | None:
    """None once `/-/ready` answers 200; otherwise why not."""
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            if (code := managed.process.poll()) is not None:
                return f"{managed.name} exited with {code}:\n{managed.log_tail()}"
            with contextlib.suppress(httpx.HTTPError):
                if client.get(f"{managed.url}/-/ready").status_code == 200:
                    return None
            time.sleep(0.1)
    return f"{managed.name} did not become ready at {managed.url}:\n{managed.log_tail()}"


def _write_secret(path: Path, value: str) -> Path:
    """`value` in a file only its owner can read (Alertmanager reads the token from it)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value)
    return path


def _write_yaml(path: Path, document: object) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
    return path


def start_observability(
    services: Mapping[str, str],
    data_dir: Path,
    *,
    timings: Timings | None = None,
    host: str = "127.0.0.1",
    prometheus_port: int = OBSERVABILITY_PORTS["prometheus"],
    alertmanager_port: int = OBSERVABILITY_PORTS["alertmanager"],
    ready_timeout: float = 30.0,
    token: str | None = None,
) -> ObservabilityStack:
    """Start Prometheus (scraping `services`, job name -> base URL) and Alertmanager.

    Alertmanager's webhook goes to `services["read-model"]`, with `token` (the services'
    ODTO_API_TOKEN) as its bearer token when given. Port 0 picks a free port.
    """
    timings = timings or Timings()
    folder = (data_dir / "observability").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    stack = ObservabilityStack(status="complete", message="", config_dir=folder)
    prometheus = find_binary(PROMETHEUS_BINARIES)
    alertmanager = find_binary(ALERTMANAGER_BINARIES)
    if not prometheus:
        stack.status = "skipped"
        stack.message = f"Prometheus is not installed; to get it: {INSTALL_COMMAND}"
        return stack
    ports = {"prometheus": prometheus_port, "alertmanager": alertmanager_port}
    for name, port in ports.items():
        if port and port_in_use(host, port):
            stack.status = "error"
            stack.message = f"port {port} for {name} is already in use on {host}"
            return stack
        ports[name] = port or pick_free_port(host)

    deploy = assets.deploy_dir()
    shipped_rules = yaml.safe_load((deploy / assets.RULES).read_text())
    rule_file = _write_yaml(folder / "observatory.rules.yml", scale_rules(shipped_rules, timings))
    notes = []
    if alertmanager:
        stack.alertmanager_url = f"http://{host}:{ports['alertmanager']}"
        am_config = alertmanager_config(
            yaml.safe_load((deploy / assets.ALERTMANAGER).read_text()),
            services.get("read-model"),
            timings,
            _write_secret(folder / "api-token", token) if token else None,
        )
        am_file = _write_yaml(folder / "alertmanager.yml", am_config)
        am_data = folder / "alertmanager-data"
        am_data.mkdir(exist_ok=True)
        argv = [
            alertmanager,
            f"--config.file={am_file}",
            f"--storage.path={am_data}",
            f"--web.listen-address={host}:{ports['alertmanager']}",
            "--cluster.listen-address=",
            "--log.level=warn",
        ]
        stack.processes.append(
            _launch("alertmanager", argv, stack.alertmanager_url, folder, am_file)
        )
    else:
        notes.append(
            f"Alertmanager is not installed (alerts will not be routed); {INSTALL_COMMAND}"
        )

    stack.prometheus_url = f"http://{host}:{ports['prometheus']}"
    config = prometheus_config(
        yaml.safe_load((deploy / assets.PROMETHEUS).read_text()),
        services,
        rule_file,
        stack.alertmanager_url,
        timings,
    )
    prom_file = _write_yaml(folder / "prometheus.yml", config)
    prom_data = folder / "prometheus-data"
    prom_data.mkdir(exist_ok=True)
    resend = format_duration(min(60.0, max(1.0, timings.evaluation_interval)))
    argv = [
        prometheus,
        f"--config.file={prom_file}",
        f"--storage.tsdb.path={prom_data}",
        "--storage.tsdb.retention.time=2d",
        "--enable-feature=exemplar-storage",  # the trace ids of the latency histograms
        f"--web.listen-address={host}:{ports['prometheus']}",
        "--web.enable-lifecycle",
        f"--rules.alert.resend-delay={resend}",
        "--log.level=warn",
    ]
    stack.processes.append(_launch("prometheus", argv, stack.prometheus_url, folder, prom_file))
    atexit.register(stack.stop)

    deadline = time.monotonic() + ready_timeout
    for managed in stack.processes:
        if problem := _wait_ready(managed, deadline):
            stack.stop()
            stack.status, stack.message = "error", problem
            stack.prometheus_url = stack.alertmanager_url = None
            return stack
    stack.message = "; ".join(
        [
            f"Prometheus {stack.prometheus_url}",
            *([f"Alertmanager {stack.alertmanager_url}"] if stack.alertmanager_url else []),
            *notes,
        ]
    )
    if notes:
        stack.status = "warning"
    return stack
