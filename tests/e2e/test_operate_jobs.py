"""Operating the queue through HTTP (SPEC §13), on the embedded profile and on real
backends: waiting jobs are listed while no processor runs, a waiting job can be
cancelled (and is then never run), and cancels racing a running processor leave every
job in exactly one terminal state."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import drop_namespace, real_env
from tests.system import ServiceProcess, free_port, start_service, wait_until


class Services:
    """`odto serve` processes over one profile; the processor starts when a test says."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env, self.log_dir = env, log_dir
        self.running: dict[str, ServiceProcess] = {}

    def start(self, name: str) -> ServiceProcess:
        self.running[name] = start_service(name, self.env, free_port(), self.log_dir)
        return self.running[name]

    @property
    def gateway(self) -> str:
        return self.running["gateway"].url

    @property
    def read_model(self) -> str:
        return self.running["read-model"].url

    def stop(self) -> None:
        for service in self.running.values():
            service.kill(signal.SIGTERM)


@pytest.fixture(params=["embedded", "real"])
def services(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Services]:
    """Gateway, metrics engine and read model (no processor yet) on each profile."""
    real = request.param == "real"
    env = real_env(namespace) if real else {"ODTO_DATA_DIR": str(tmp_path / "data")}
    env["PROCESSOR_BACKOFF_SECONDS"] = "0.2"
    running = Services(env, tmp_path)
    try:
        for name in ("gateway", "metrics-engine", "read-model"):
            running.start(name)
        yield running
    finally:
        running.stop()
        if real:
            asyncio.run(drop_namespace(namespace))


def submit(client: httpx.Client, services: Services, job_type: str, **payload: Any) -> str:
    answer = client.post(f"{services.gateway}/jobs", json={"type": job_type, "payload": payload})
    assert answer.status_code == 202, answer.text
    return str(answer.json()["jobId"])


def job(client: httpx.Client, services: Services, job_id: str) -> dict[str, Any]:
    answer = client.get(f"{services.read_model}/jobs/{job_id}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def listed(client: httpx.Client, services: Services, **params: Any) -> set[str]:
    body = client.get(f"{services.read_model}/jobs", params={"limit": 100, **params}).json()
    return {item["id"] for item in body["items"]}


def cancel(client: httpx.Client, services: Services, job_id: str) -> httpx.Response:
    return client.post(f"{services.gateway}/jobs/{job_id}/cancel")


def test_waiting_jobs_are_listed_while_no_processor_runs(services: Services) -> None:
    """Accepted jobs have PENDING rows: /jobs?status=PENDING, /jobs/recent and the job's
    own page show them before any processor exists."""
    with httpx.Client(timeout=10) as client:
        ids = {submit(client, services, "WAITING") for _ in range(3)}
        wait_until(
            lambda: ids <= listed(client, services, status="PENDING"),
            message="the accepted jobs to be listed as PENDING",
        )
        recent = client.get(f"{services.read_model}/jobs/recent", params={"limit": 100}).json()
        assert ids <= {item["id"] for item in recent}
        assert {job(client, services, i)["status"] for i in ids} == {"PENDING"}


def test_a_cancelled_job_is_never_run_and_is_counted(services: Services) -> None:
    """Cancel a waiting job: 200, CANCELLED with its job.cancelled event and counter; asking
    again is 409 with status CANCELLED (SPEC §13: it has finished) and counts nothing more.
    Once a processor runs, the other jobs complete and the
    cancelled one stays CANCELLED; cancelling a finished job is 409 with its status;
    unknown ids are 404."""
    with httpx.Client(timeout=10) as client:
        before = client.get(f"{services.read_model}/stats").json()
        victim = submit(client, services, "CANCEL-ME")
        kept = submit(client, services, "KEEP-ME")

        answer = cancel(client, services, victim.upper())
        done = {"jobId": victim, "status": "CANCELLED"}
        assert (answer.status_code, answer.json()) == (200, done)
        again = cancel(client, services, victim)
        assert (again.status_code, again.json()["status"]) == (409, "CANCELLED")
        assert "error" in again.json()
        assert cancel(client, services, str(uuid.uuid4())).status_code == 404
        assert cancel(client, services, "not-a-job").status_code == 404

        wait_until(
            lambda: (
                client.get(f"{services.read_model}/stats").json()["cancelledJobs"]
                == before["cancelledJobs"] + 1
            ),
            message="the cancel to be counted",
        )
        assert victim in listed(client, services, status="CANCELLED")

        services.start("processor")
        wait_until(
            lambda: job(client, services, kept)["status"] == "COMPLETED",
            message="the other job to complete",
        )
        detail = job(client, services, victim)
        assert (detail["status"], detail["attemptHistory"]) == ("CANCELLED", [])
        events = client.get(f"{services.read_model}/events", params={"jobId": victim}).json()
        assert sorted(e["eventType"] for e in events) == ["job.cancelled", "job.created"]

        late = cancel(client, services, kept)
        assert late.status_code == 409
        assert late.json()["status"] == "COMPLETED"
        assert "error" in late.json()
        stats = client.get(f"{services.read_model}/stats").json()
        assert stats["cancelledJobs"] == before["cancelledJobs"] + 1  # the repeat counted once


def test_cancels_racing_a_running_processor_leave_one_terminal_state(services: Services) -> None:
    """Many cancels while the processor takes the same jobs: every job ends COMPLETED or
    CANCELLED, never both. A 200 means the job never ran (no attempt, no job.executed); a
    job that ran answered 409. The counters agree."""
    with httpx.Client(timeout=15) as client:
        before = client.get(f"{services.read_model}/stats").json()
        services.start("processor")
        ids = [submit(client, services, "RACE", simulate={"durationMs": 20}) for _ in range(60)]
        with ThreadPoolExecutor(8) as pool:
            replies = pool.map(lambda i: cancel(client, services, i), ids)
            answers = dict(zip(ids, replies, strict=True))

        def settled() -> dict[str, dict[str, Any]] | None:
            jobs = {i: job(client, services, i) for i in ids}
            done = all(j["status"] in ("COMPLETED", "CANCELLED") for j in jobs.values())
            return jobs if done else None

        jobs = wait_until(settled, timeout=60, message="every job to reach a terminal state")
        for job_id, answer in answers.items():
            state = jobs[job_id]
            assert answer.status_code in (200, 409), answer.text
            if answer.status_code == 200:
                assert (state["status"], state["attemptHistory"]) == ("CANCELLED", [])
                events = client.get(
                    f"{services.read_model}/events", params={"jobId": job_id}
                ).json()
                assert "job.executed" not in {e["eventType"] for e in events}
            else:
                assert answer.json()["status"] in ("EXECUTING", "COMPLETED")
                assert state["status"] == "COMPLETED"
        cancelled = sum(a.status_code == 200 for a in answers.values())

        def counted() -> bool:
            stats: dict[str, int] = client.get(f"{services.read_model}/stats").json()
            return (
                stats["cancelledJobs"] - before["cancelledJobs"] == cancelled
                and stats["completedJobs"] - before["completedJobs"] == len(ids) - cancelled
                and stats["inFlightJobs"] == 0
            )

        wait_until(counted, timeout=30, message="the counters to agree")


def test_write_actions_are_audited_with_actor_and_correlation(services: Services) -> None:
    """Submit (batched off the request path), a refused and an accepted cancel each leave an
    audit entry naming the actor our CLI declares and the request's correlation id; they
    show in GET /audit (newest first, paged) and in the job's timeline."""
    actor = {"X-Odto-Actor": "cli:alice"}
    with httpx.Client(timeout=10) as client:
        correlation = str(uuid.uuid4())
        submitted = client.post(
            f"{services.gateway}/jobs",
            json={"type": "AUDITED"},
            headers={**actor, "X-Correlation-Id": correlation},
        )
        job_id = submitted.json()["jobId"]
        cancelled = client.post(f"{services.gateway}/jobs/{job_id}/cancel", headers=actor)
        assert cancelled.status_code == 200
        refused = client.post(f"{services.gateway}/jobs/{job_id}/cancel")  # anonymous, again
        assert refused.status_code == 409

        def timeline() -> list[dict[str, Any]] | None:
            audit: list[dict[str, Any]] = job(client, services, job_id)["audit"]
            return audit if len(audit) == 3 else None

        entries = wait_until(timeline, message="three audit entries in the job's timeline")
        assert [(e["action"], e["actor"]) for e in entries] == [
            ("submit", "cli:alice"),
            ("cancel", "cli:alice"),
            ("cancel", "anonymous"),
        ]
        assert entries[0]["correlationId"] == correlation
        assert entries[0]["target"] == entries[1]["target"] == job_id
        assert entries[1]["result"] == {"status": 200, "jobStatus": "CANCELLED"}
        assert entries[2]["result"] == {"status": 409, "jobStatus": "CANCELLED"}

        first = client.get(f"{services.read_model}/audit", params={"limit": 2}).json()
        assert [e["eventId"] for e in first["items"]] == [
            entries[2]["eventId"],
            entries[1]["eventId"],
        ]
        rest = client.get(
            f"{services.read_model}/audit", params={"limit": 2, "cursor": first["nextCursor"]}
        ).json()
        assert [e["eventId"] for e in rest["items"]] == [entries[0]["eventId"]]
        assert rest["nextCursor"] is None
        bad = client.get(f"{services.read_model}/audit", params={"cursor": "nope"})
        assert (bad.status_code, bad.json()["details"][0]["path"]) == (400, "$.cursor")
