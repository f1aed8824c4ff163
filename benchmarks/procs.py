"""Processes the benchmark starts: spawn with an environment, wait until ready, sample
memory and CPU from /proc, stop by pid (SIGTERM, then SIGKILL). Nothing here kills a
process it did not start."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
BACKEND_VARS = ("RABBITMQ_URL", "POSTGRES_URL", "REDIS_URL", "EVENT_STORE_URL", "MONGO_URL")


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status_kib(pid: int, field_name: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process so far."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def children(pid: int) -> list[int]:
    """Direct children of `pid` (Celery's prefork pool processes)."""
    found = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError):
                found += [int(c) for c in (task / "children").read_text().split()]
    return found


@dataclass
class Service:
    """One process we started: its name, pid, log file and resource samples."""

    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    url: str | None = None
    peak_rss_kib: int = 0
    cpu_marks: dict[str, float] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.process.pid

    def pids(self) -> list[int]:
        return [self.pid, *children(self.pid)]

    def sample(self) -> None:
        """Peak RSS: the kernel's high-water mark (VmHWM) of the process and its children."""
        rss = sum(_status_kib(p, "VmHWM") for p in self.pids())
        self.peak_rss_kib = max(self.peak_rss_kib, rss)

    def cpu(self) -> float:
        return sum(cpu_seconds(p) for p in self.pids())

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, chars: int = 2000) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-chars:]
        return ""

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM our own pid, then SIGKILL if it does not exit in time."""
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)


def spawn(
    name: str, argv: list[str], env: dict[str, str], log_dir: Path, url: str | None = None
) -> Service:
    """Start `argv` with `env` (on top of a copy of ours without backend URLs)."""
    full = {k: v for k, v in os.environ.items() if k not in BACKEND_VARS}
    full.update(env)
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(  # our own CLI and celery
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=full,
            cwd=ROOT,
            start_new_session=True,
        )
    return Service(name, process, log_path, url)


def odto(*args: str) -> list[str]:
    return [str(BIN / "odto"), *args]


async def wait_ready(services: list[Service], within: float = 90.0) -> None:
    """Poll each service's /readyz until it answers 200; raise with its log if it dies."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2.0) as client:
        for service in services:
            if service.url is None:
                continue
            while True:
                if not service.alive():
                    raise RuntimeError(f"{service.name} exited:\n{service.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    response = await client.get(service.url + "/readyz")
                    if response.status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{service.name} not ready in {within:.0f}s:\n{service.log_tail()}"
                    )
                await asyncio.sleep(0.3)


class Sampler:
    """Samples peak RSS of a set of services every `every` seconds in the background."""

    def __init__(self, services: list[Service], every: float = 0.5) -> None:
        self.services = services
        self.every = every
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            for service in self.services:
                service.sample()
            await asyncio.sleep(self.every)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        for service in self.services:
            service.sample()
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def stop_all(services: list[Service]) -> None:
    for service in reversed(services):
        service.stop()
