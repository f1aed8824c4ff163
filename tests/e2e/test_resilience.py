"""Crash safety and recovery: killed processes lose no accepted job, count nothing twice,
and the gateway answers 503 while the broker is away and recovers by itself."""

from __future__ import annotations

import signal
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from tests.system import (
    RunningSystem,
    ServiceProcess,
    free_port,
    start_service,
    start_system,
    wait_until,
)
from tests.tcp_proxy import TcpProxy

WORK = {"simulate": {"durationMs": 150}}


def submit_many(client: httpx.Client, gateway: str, count: int, job_type: str) -> list[str]:
    ids = []
    for _ in range(count):
        response = client.post(f"{gateway}/jobs", json={"type": job_type, "payload": WORK})
        assert response.status_code == 202
        ids.append(response.json()["jobId"])
    return ids


def completed_events(client: httpx.Client, read_model: str, job_id: str) -> int:
    events = client.get(f"{read_model}/events", params={"jobId": job_id}).json()
    return sum(e["eventType"] == "job.completed" for e in events)


def counted(client: httpx.Client, read_model: str) -> tuple[int, int, int, int] | None:
    """The counters, or None while the read model cannot read them (503 during recovery)."""
    answer = client.get(f"{read_model}/stats")
    if answer.status_code != 200:
        return None
    stats = answer.json()
    return (
        stats["totalJobs"],
        stats["completedJobs"],
        stats["failedJobs"],
        stats["inFlightJobs"],
    )


def accepted(client: httpx.Client, url: str, job: dict[str, Any]) -> bool:
    """True when the gateway answers 202 to POSTing `job` (the same id every time)."""
    return client.post(url, json=job).status_code == 202


def assert_exactly_once(client: httpx.Client, read_model: str, ids: list[str]) -> None:
    # Each counter catches up at its own pace (a killed process's leased messages come back
    # when their lease lapses), so wait for the final state, then check it stays put.
    expected = (len(ids), len(ids), 0, 0)
    wait_until(
        lambda: counted(client, read_model) == expected,
        timeout=60,
        message=f"{len(ids)} jobs counted once each: (total, completed, failed, in flight)",
    )
    for job_id in ids:
        detail = client.get(f"{read_model}/jobs/{job_id}").json()
        assert detail["status"] == "COMPLETED", job_id
        assert completed_events(client, read_model, job_id) == 1, job_id
    page = client.get(f"{read_model}/jobs", params={"limit": 200}).json()
    assert len(page["items"]) == len(ids)  # rows == accepted
    assert counted(client, read_model) == expected  # nothing counted twice meanwhile


def test_killing_odto_up_loses_no_accepted_job(tmp_path: Path) -> None:
    """kill -9 of the embedded system with jobs in flight, then a restart on the same data
    directory: every accepted job completes exactly once and the counters agree."""
    system = start_system(tmp_path)
    with httpx.Client(timeout=5) as client:
        ids = submit_many(client, system.gateway_url, 40, "CRASH")
        system.stop(signal.SIGKILL)
        assert system.process.returncode == -signal.SIGKILL
        again = start_system(tmp_path, data_dir=system.data_dir, ports=system.ports)
        try:
            assert_exactly_once(client, again.read_model_url, ids)
        finally:
            again.stop()


@pytest.fixture
def services(tmp_path: Path, real_backends: dict[str, str]) -> Iterator[dict[str, Any]]:
    ports = {name: free_port() for name in ("gateway", "processor", "metrics-engine", "read-model")}
    env = {**real_backends, "PROCESSOR_BACKOFF_SECONDS": "0.2"}
    running: dict[str, ServiceProcess] = {}
    for name, port in ports.items():
        running[name] = start_service(name, env, port, tmp_path)
    yield {"env": env, "ports": ports, "running": running, "dir": tmp_path}
    for service in running.values():
        service.kill(signal.SIGTERM)


@pytest.mark.parametrize("victim", ["processor", "metrics-engine"])
def test_killing_a_worker_loses_and_doubles_nothing(services: dict[str, Any], victim: str) -> None:
    """kill -9 of the processor or the metrics engine on real RabbitMQ/PostgreSQL/Redis
    while jobs flow, then a restart: accepted == rows == counters, each job finished once."""
    running: dict[str, ServiceProcess] = services["running"]
    gateway, read_model = running["gateway"].url, running["read-model"].url
    with httpx.Client(timeout=5) as client:
        ids = submit_many(client, gateway, 60, f"KILL-{victim}")
        wait_until(
            lambda: client.get(f"{read_model}/stats").json()["totalJobs"] > 0,
            message="work to be under way",
        )
        running[victim].kill(signal.SIGKILL)
        more = submit_many(client, gateway, 20, f"KILL-{victim}")
        running[victim] = start_service(
            victim, services["env"], services["ports"][victim], services["dir"]
        )
        assert_exactly_once(client, read_model, ids + more)


def test_gateway_answers_503_while_broker_is_away_and_recovers(
    tmp_path: Path, real_backends: dict[str, str]
) -> None:
    """With RabbitMQ unreachable the gateway answers 503 with Retry-After (not 500, not a
    hang); when the broker is back it accepts jobs again without a restart."""
    rabbit = urlparse(real_backends["RABBITMQ_URL"])
    proxy_port = free_port()
    proxy = TcpProxy(proxy_port, rabbit.hostname or "127.0.0.1", rabbit.port or 5672)
    proxy.start()
    url = real_backends["RABBITMQ_URL"].replace(f":{rabbit.port or 5672}", f":{proxy_port}")
    gateway = start_service(
        "gateway", {**real_backends, "RABBITMQ_URL": url}, free_port(), tmp_path
    )
    try:
        with httpx.Client(timeout=15) as client:
            jobs = f"{gateway.url}/jobs"
            assert client.post(jobs, json={"type": "BEFORE"}).status_code == 202
            proxy.cut()
            down = wait_until(
                lambda: (
                    (r := client.post(jobs, json={"type": "DURING"})).status_code == 503
                    and r.json().get("outcome") != "unknown"  # a publish caught mid-cut
                    and r
                ),
                timeout=30,
                message="503 while the broker is away",
            )
            assert down.json()["error"] == "bus unavailable"
            assert down.headers["retry-after"]
            assert client.get(f"{gateway.url}/readyz").status_code == 503
            proxy.start()
            wait_until(
                lambda: client.post(jobs, json={"type": "AFTER"}).status_code == 202,
                timeout=60,
                interval=0.5,
                message="the gateway to recover by itself",
            )
            assert client.get(f"{gateway.url}/readyz").status_code == 200
    finally:
        gateway.kill(signal.SIGTERM)
        proxy.close()


def test_duplicate_ids_on_real_backends_are_counted_once(
    tmp_path: Path, real_backends: dict[str, str]
) -> None:
    """The same job id submitted five times through the real broker is one job: every
    resubmit of the same body republishes the first job.created (same event id), so the
    job's timeline holds one of each lifecycle event."""
    system: RunningSystem = start_system(tmp_path, real_backends)
    try:
        job_id = str(uuid.uuid4())
        with httpx.Client(timeout=5) as client:
            for _ in range(5):
                assert (
                    client.post(
                        f"{system.gateway_url}/jobs", json={"id": job_id, "type": "D"}
                    ).status_code
                    == 202
                )
            wait_until(
                lambda: client.get(f"{system.read_model_url}/stats").json()["completedJobs"] == 1
            )
            wait_until(
                lambda: (
                    len(
                        client.get(
                            f"{system.read_model_url}/events", params={"jobId": job_id}
                        ).json()
                    )
                    == 4
                ),
                message="one job.created and one lifecycle",
            )
            stats = client.get(f"{system.read_model_url}/stats").json()
            assert (stats["totalJobs"], stats["completedJobs"]) == (1, 1)
            assert completed_events(client, system.read_model_url, job_id) == 1
            events = client.get(f"{system.read_model_url}/events", params={"jobId": job_id})
            kinds = sorted(e["eventType"] for e in events.json())
            assert kinds == ["job.completed", "job.created", "job.executed", "job.validated"]
    finally:
        system.stop()


def test_stalled_broker_gives_unknown_outcome_and_same_id_retry_is_one_job(
    tmp_path: Path, real_backends: dict[str, str]
) -> None:
    """A broker that hangs (connection open, nothing passes) for over 15 s: the gateway
    answers 503 with the job id and `outcome: unknown` (it cannot know whether the broker
    stored the job), and a client that retries with the same id gets 202 once the broker
    answers again. Each job exists once: rows == counters == jobs submitted."""
    rabbit = urlparse(real_backends["RABBITMQ_URL"])
    proxy_port = free_port()
    proxy = TcpProxy(proxy_port, rabbit.hostname or "127.0.0.1", rabbit.port or 5672)
    proxy.start()
    url = real_backends["RABBITMQ_URL"].replace(f":{rabbit.port or 5672}", f":{proxy_port}")
    env = {**real_backends, "PROCESSOR_BACKOFF_SECONDS": "0.2"}
    running = [start_service("gateway", {**env, "RABBITMQ_URL": url}, free_port(), tmp_path)]
    try:
        for name in ("processor", "metrics-engine", "read-model"):
            running.append(start_service(name, env, free_port(), tmp_path))
        gateway, read_model = running[0].url, running[3].url
        with httpx.Client(timeout=30) as client:
            first = {"id": str(uuid.uuid4()), "type": "BEFORE-STALL"}
            assert client.post(f"{gateway}/jobs", json=first).status_code == 202
            proxy.stall()
            stalled = [{"id": str(uuid.uuid4()), "type": "DURING-STALL"} for _ in range(2)]
            for job in stalled:  # each waits out the publish timeout: > 15 s stalled in all
                answer = client.post(f"{gateway}/jobs", json=job)
                assert answer.status_code == 503, answer.text
                assert answer.json()["outcome"] == "unknown"
                assert answer.json()["jobId"] == job["id"]
                assert answer.headers["retry-after"]
            proxy.resume()
            for job in stalled:
                wait_until(
                    partial(accepted, client, f"{gateway}/jobs", job),
                    timeout=60,
                    interval=0.5,
                    message="the same id to be accepted after the stall",
                )
            ids = [str(first["id"])] + [str(job["id"]) for job in stalled]
            assert_exactly_once(client, read_model, ids)
    finally:
        for service in running:
            service.kill(signal.SIGTERM)
        proxy.close()
