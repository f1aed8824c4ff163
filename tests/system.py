"""Start a whole system (`odto up --json`) as a subprocess on free ports, for e2e,
browser and TUI tests. Embedded by default; pass backend URLs in `env` for real ones."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from observatory.interfaces.cli.servers import pick_free_port
from tests.waiting import (
    wait_until as wait_until,
)  # re-exported: e2e and browser tests import it here

POLL_SECONDS = 0.1  # pause between checks while waiting on a condition

SERVICES = ("gateway", "processor", "metrics-engine", "read-model", "web")
BACKEND_VARS = ("RABBITMQ_URL", "POSTGRES_URL", "REDIS_URL", "EVENT_STORE_URL", "MONGO_URL")


def free_port() -> int:
    """A port for a server the test starts (see `pick_free_port` for why not bind(0))."""
    return pick_free_port()


@dataclass
class RunningSystem:
    process: subprocess.Popen[str]
    data_dir: Path
    ports: dict[str, int]
    env: dict[str, str]
    log_path: Path
    progress: list[dict[str, object]] = field(default_factory=list)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    @property
    def gateway_url(self) -> str:
        return self.url("gateway")

    @property
    def read_model_url(self) -> str:
        return self.url("read-model")

    @property
    def web_url(self) -> str:
        return self.url("web")

    @property
    def processor_url(self) -> str:
        return self.url("processor")

    @property
    def metrics_engine_url(self) -> str:
        return self.url("metrics-engine")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        """Stop the system (SIGTERM = graceful, SIGKILL = crash) and return its exit code."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        return int(self.process.returncode)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def start_system(
    tmp_path: Path,
    env: dict[str, str] | None = None,
    *,
    data_dir: Path | None = None,
    ports: dict[str, int] | None = None,
    args: tuple[str, ...] = (),
    timeout: float = 60,
) -> RunningSystem:
    """Run `odto up --json` and return once it reports ready (raises if it does not)."""
    ports = ports or {name: free_port() for name in SERVICES}
    data_dir = data_dir or tmp_path / "odto-data"
    full_env = {k: v for k, v in os.environ.items() if k not in BACKEND_VARS}
    full_env.update(
        {
            "ODTO_DATA_DIR": str(data_dir),
            "GATEWAY_URL": f"http://127.0.0.1:{ports['gateway']}",
            "READ_MODEL_URL": f"http://127.0.0.1:{ports['read-model']}",
            "PROCESSOR_BACKOFF_SECONDS": "0.2",
            **{f"{n.upper().replace('-', '_')}_PORT": str(p) for n, p in ports.items()},
            **(env or {}),
        }
    )
    log_path = tmp_path / f"odto-up-{int(time.time() * 1000)}.log"
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "observatory.interfaces.cli.main", "up", "--json", *args],
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
            env=full_env,
        )
    system = RunningSystem(process, data_dir, ports, full_env, log_path)
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        record = json.loads(line)
        system.progress.append(record)
        if record.get("step") == "ready":
            _drain(process)
            return system
        if record.get("status") == "error":
            break
    system.stop(signal.SIGKILL)
    process.stdout.close()
    raise RuntimeError(f"odto up did not become ready: {system.progress}\n{system.log()[-3000:]}")


def _drain(process: subprocess.Popen[str]) -> None:
    """Keep reading stdout in the background so the child never blocks on a full pipe."""
    import threading

    def pump() -> None:
        assert process.stdout is not None
        with process.stdout:
            for _ in process.stdout:
                pass

    threading.Thread(target=pump, daemon=True).start()


def job_status(client: httpx.Client, read_model_url: str, job_id: str) -> str | None:
    response = client.get(f"{read_model_url}/jobs/{job_id}")
    return response.json()["status"] if response.status_code == 200 else None


@dataclass
class ServiceProcess:
    """One `odto serve SERVICE` process."""

    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(20)


def start_service(
    name: str, env: dict[str, str], port: int, log_dir: Path, timeout: float = 30
) -> ServiceProcess:
    """Run `odto serve NAME` and return once its /healthz answers."""
    full_env = {k: v for k, v in os.environ.items() if k not in BACKEND_VARS}
    full_env.update(env)
    full_env[f"{name.upper().replace('-', '_')}_PORT"] = str(port)
    log_path = log_dir / f"{name}-{int(time.time() * 1000)}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "observatory.interfaces.cli.main", "serve", name],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=full_env,
        )
    service = ServiceProcess(name, process, port, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"{service.url}/readyz", timeout=1).status_code == 200:
                return service
        except httpx.HTTPError:
            pass
        time.sleep(POLL_SECONDS)
    service.kill()
    raise RuntimeError(
        f"{name} did not become ready:\n{log_path.read_text(errors='replace')[-3000:]}"
    )
