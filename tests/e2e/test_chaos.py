"""Chaos on the real backends: the broker, the database or the cache goes away (its
connections cut) or hangs (connections open, nothing passes) for 15 s while jobs flow.
Afterwards accepted == rows == counters, each job finished once, and a client that
retried with its own ids created no duplicate (SPEC §12)."""

from __future__ import annotations

import signal
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from tests.e2e.test_resilience import assert_exactly_once
from tests.system import ServiceProcess, free_port, start_service
from tests.tcp_proxy import TcpProxy

OUTAGE_SECONDS = 15.0
RATE = 5.0  # jobs a second, so the whole run stays within one page of /jobs
URL_VARS = {"rabbitmq": "RABBITMQ_URL", "postgres": "POSTGRES_URL", "redis": "REDIS_URL"}


class Client:
    """Submits jobs with its own ids and retries the same id until it is accepted, as
    every client of ours does (a 503, a time-out or a refused connection is retried)."""

    def __init__(self, gateway: str) -> None:
        self.gateway = gateway
        self.http = httpx.Client(timeout=httpx.Timeout(5.0, read=15.0))
        self.accepted: set[str] = set()
        self.waiting: list[str] = []
        self.answers: dict[int | str, int] = {}

    def send(self, job_id: str) -> None:
        try:
            status: int | str = self.http.post(
                f"{self.gateway}/jobs", json={"id": job_id, "type": "CHAOS"}
            ).status_code
        except httpx.HTTPError as exc:
            status = type(exc).__name__
        self.answers[status] = self.answers.get(status, 0) + 1
        if status == 202:
            self.accepted.add(job_id)
        else:
            assert status == 503 or isinstance(status, str), status  # never a 4xx or 500
            self.waiting.append(job_id)

    def run_for(self, seconds: float) -> None:
        """Open loop at RATE: a new job when one is due, else a retry of a waiting one."""
        end = time.monotonic() + seconds
        due = time.monotonic()
        while time.monotonic() < end:
            if time.monotonic() >= due:
                self.send(str(uuid.uuid4()))
                due += 1 / RATE
            elif self.waiting:
                self.send(self.waiting.pop(0))
            else:
                time.sleep(min(0.05, max(0.0, due - time.monotonic())))

    def finish(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.waiting and time.monotonic() < deadline:
            self.send(self.waiting.pop(0))
        assert not self.waiting, f"never accepted: {self.waiting}"


@pytest.fixture
def proxied(
    request: pytest.FixtureRequest, tmp_path: Path, real_backends: dict[str, str]
) -> Iterator[tuple[TcpProxy, dict[str, ServiceProcess]]]:
    """The four back-end services with one backend (the test's parameter) behind a proxy."""
    var = URL_VARS[request.param]
    target = urlparse(real_backends[var])
    default_port = {"rabbitmq": 5672, "postgres": 5432, "redis": 6379}[request.param]
    proxy_port = free_port()
    proxy = TcpProxy(proxy_port, target.hostname or "127.0.0.1", target.port or default_port)
    proxy.start()
    url = real_backends[var].replace(f":{target.port or default_port}", f":{proxy_port}")
    env = {**real_backends, var: url, "PROCESSOR_BACKOFF_SECONDS": "0.2"}
    running: dict[str, ServiceProcess] = {}
    try:
        for name in ("gateway", "processor", "metrics-engine", "read-model"):
            running[name] = start_service(name, env, free_port(), tmp_path)
        yield proxy, running
    finally:
        for service in running.values():
            service.kill(signal.SIGTERM)
        proxy.close()


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["cut", "stall"])
@pytest.mark.parametrize("proxied", ["rabbitmq", "postgres", "redis"], indirect=True)
def test_an_outage_under_load_loses_and_doubles_nothing(
    proxied: tuple[TcpProxy, dict[str, ServiceProcess]], mode: str
) -> None:
    proxy, running = proxied
    client = Client(running["gateway"].url)
    try:
        client.run_for(2)
        proxy.cut() if mode == "cut" else proxy.stall()
        client.run_for(OUTAGE_SECONDS)
        proxy.start() if mode == "cut" else proxy.resume()
        client.run_for(3)
        client.finish()
    finally:
        client.http.close()
    assert len(client.accepted) >= RATE * 5  # jobs really flowed before and after
    with httpx.Client(timeout=10) as http:
        assert_exactly_once(http, running["read-model"].url, sorted(client.accepted))
