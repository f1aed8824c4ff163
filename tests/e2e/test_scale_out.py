"""Scaling out on the real engines (issue 15): several processors and metrics engines
compete for the same queues, and a three-node RabbitMQ cluster with quorum queues loses
a node under load. Either way every accepted job ends once: one terminal state, counters
equal to the jobs, each job's events once each and in lifecycle order."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import httpx
import orjson
import pytest
from tests.e2e.test_chaos import Client
from tests.e2e.test_resilience import assert_exactly_once, submit_many
from tests.rabbit_cluster import RabbitCluster, running_cluster
from tests.system import ServiceProcess, free_port, start_service
from tests.waiting import wait_until

LIFECYCLE = ["job.created", "job.validated", "job.executed", "job.completed"]
WORKERS = ("processor", "processor", "metrics-engine", "metrics-engine")


def start_scaled(env: dict[str, str], log_dir: Path) -> list[ServiceProcess]:
    """The gateway, the read model, two processors and two metrics engines."""
    running: list[ServiceProcess] = []
    try:
        for name in ("gateway", "read-model", *WORKERS):
            running.append(start_service(name, env, free_port(), log_dir, timeout=60))
    except BaseException:
        stop_all(running)
        raise
    return running


def stop_all(running: list[ServiceProcess]) -> None:
    for service in running:
        service.kill(signal.SIGTERM)


def url_of(running: list[ServiceProcess], name: str) -> str:
    return next(service.url for service in running if service.name == name)


def assert_lifecycle_in_order(client: httpx.Client, read_model: str, ids: list[str]) -> None:
    for job_id in ids:
        events = client.get(f"{read_model}/events", params={"jobId": job_id}).json()
        assert sorted(e["eventType"] for e in events) == sorted(LIFECYCLE), (job_id, events)
        at = {e["eventType"]: str(e["occurredAt"]) for e in events}
        times = [at[kind] for kind in LIFECYCLE]  # ISO UTC in ms: equal within one ms
        assert times == sorted(times), f"{job_id} {orjson.dumps(events).decode()}"


@pytest.fixture
def scaled(tmp_path: Path, real_backends: dict[str, str]) -> Iterator[list[ServiceProcess]]:
    running = start_scaled({**real_backends, "PROCESSOR_BACKOFF_SECONDS": "0.2"}, tmp_path)
    yield running
    stop_all(running)


def test_two_processors_and_two_metrics_engines_end_each_job_once(
    scaled: list[ServiceProcess],
) -> None:
    """Competing consumers on one broker: 60 jobs of 150 ms spread over two processors,
    their events over two metrics engines; each job is counted and finished once."""
    with httpx.Client(timeout=10) as client:
        ids = submit_many(client, url_of(scaled, "gateway"), 60, "SCALE")
        read_model = url_of(scaled, "read-model")
        assert_exactly_once(client, read_model, ids)
        assert_lifecycle_in_order(client, read_model, ids)
    handled = [
        int(
            next(
                line.split()[-1]
                for line in httpx.get(f"{service.url}/metrics").text.splitlines()
                if line.startswith("processor_jobs_completed_total")
            ).split(".")[0]
        )
        for service in scaled
        if service.name == "processor"
    ]
    assert all(count > 0 for count in handled), handled  # both processors took a share


def is_ready(service: ServiceProcess) -> bool:
    return httpx.get(f"{service.url}/readyz").status_code == 200


def diagnose(http: httpx.Client, running: list[ServiceProcess], cluster: RabbitCluster) -> str:
    """What a failed run looked like: the counters, the queues, each service's last log lines."""
    stats = http.get(f"{url_of(running, 'read-model')}/stats").text
    gateway = url_of(running, "gateway")
    answer = http.post(f"{gateway}/jobs", json={"type": "DIAGNOSE"})
    stats += f"\ngateway POST /jobs: {answer.status_code} {answer.text[:300]}"
    stats += f"\ngateway /readyz: {http.get(f'{gateway}/readyz').text[:300]}"
    try:
        queues = cluster.nodes[1].ctl("list_queues", "name", "type", "messages", "leader")
    except RuntimeError as exc:
        queues = str(exc)
    logs = "\n".join(
        f"--- {s.name}\n" + s.log_path.read_text(errors="replace")[-2000:] for s in running
    )
    return f"stats: {stats}\nqueues:\n{queues}\n{logs}"


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[RabbitCluster]:
    with running_cluster(tmp_path / "rabbit", "the failover test") as rabbit:
        yield rabbit


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_a_cluster_node_killed_under_load_loses_and_doubles_nothing(
    cluster: RabbitCluster, tmp_path: Path, real_backends: dict[str, str]
) -> None:
    """Three RabbitMQ nodes, quorum queues, the services given every node's URL. The node
    they all connected to (the first) is SIGKILLed while jobs flow: they reconnect to
    another node, every accepted job completes once, and nothing is counted twice."""
    env = {
        **real_backends,
        "RABBITMQ_URL": cluster.url,
        "ODTO_QUEUE_TYPE": "quorum",
        "PROCESSOR_BACKOFF_SECONDS": "0.2",
    }
    running = start_scaled(env, tmp_path)
    client = Client(url_of(running, "gateway"))
    try:
        client.run_for(3)
        cluster.kill(0)
        client.run_for(12)
        try:
            client.finish(timeout=120)
        except AssertionError as exc:
            with httpx.Client(timeout=10) as http:
                raise AssertionError(
                    f"answers {client.answers}\n{diagnose(http, running, cluster)}"
                ) from exc
        for service in running:  # every service is connected again (to another node)
            wait_until(partial(is_ready, service), timeout=60, message=f"{service.name} ready")
        assert len(client.accepted) >= 30  # jobs really flowed before and after the kill
        with httpx.Client(timeout=10) as http:
            read_model = url_of(running, "read-model")
            try:
                assert_exactly_once(http, read_model, sorted(client.accepted))
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{diagnose(http, running, cluster)}") from exc
            assert_lifecycle_in_order(http, read_model, sorted(client.accepted))
    finally:
        client.http.close()
        stop_all(running)
