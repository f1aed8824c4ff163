"""The job lifecycle through HTTP, on the embedded profile and on real backends."""

from __future__ import annotations

import signal
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.system import RunningSystem, free_port, job_status, start_service, wait_until

LIFECYCLE = ["job.created", "job.validated", "job.executed", "job.completed"]


def submit(
    client: httpx.Client, system: RunningSystem, body: dict[str, Any], **headers: str
) -> httpx.Response:
    return client.post(f"{system.gateway_url}/jobs", json=body, headers=headers)


def wait_terminal(
    client: httpx.Client, system: RunningSystem, job_id: str, timeout: float = 20
) -> str:
    return wait_until(
        lambda: (
            (s := job_status(client, system.read_model_url, job_id)) in ("COMPLETED", "FAILED")
            and s
        ),
        timeout,
        message=f"job {job_id} to finish",
    )


def stats(client: httpx.Client, system: RunningSystem) -> dict[str, Any]:
    body: dict[str, Any] = client.get(f"{system.read_model_url}/stats").json()
    return body


@pytest.mark.parametrize("form", ["full", "short"])
def test_submitted_job_completes_with_its_lifecycle_visible(
    profile_system: RunningSystem, form: str
) -> None:
    """A job submitted in the seed's full form or the short form completes, and every
    read-model view shows it once, with its lifecycle events in order."""
    system = profile_system
    with httpx.Client(timeout=5) as client:
        correlation = str(uuid.uuid4())
        if form == "full":
            job_id = str(uuid.uuid4())
            body = {
                "id": job_id,
                "type": "PROCESS",
                "status": "PENDING",
                "createdAt": datetime.now(UTC).isoformat(),
                "payload": {"task": "resize"},
            }
        else:
            body = {"type": "DEMO"}
        response = submit(client, system, body, **{"X-Correlation-Id": correlation})
        assert response.status_code == 202
        assert response.headers["x-correlation-id"] == correlation
        accepted = response.json()
        assert set(accepted) == {"jobId", "eventId"}
        job_id = accepted["jobId"]
        if form == "full":
            assert job_id == body["id"]

        assert wait_terminal(client, system, job_id) == "COMPLETED"
        recent = client.get(f"{system.read_model_url}/jobs/recent").json()
        assert [j["status"] for j in recent if j["id"] == job_id] == ["COMPLETED"]

        # the row is COMPLETED before the metrics engine has stored job.completed (the
        # event store is written from the bus, after the job store)
        detail = wait_until(
            lambda: (
                (d := client.get(f"{system.read_model_url}/jobs/{job_id}").json())
                and len(d["events"]) == len(LIFECYCLE)
                and d
            ),
            message="the job's four events in its detail",
        )
        assert detail["attempts"] == 1
        assert [a["outcome"] for a in detail["attemptHistory"]] == ["completed"]
        assert [e["eventType"] for e in detail["events"]] == LIFECYCLE

        events = wait_until(
            lambda: (
                (
                    ev := client.get(
                        f"{system.read_model_url}/events", params={"jobId": job_id}
                    ).json()
                )
                and len(ev) == 4
                and ev
            ),
            message="four events",
        )
        assert [e["eventType"] for e in events] == list(reversed(LIFECYCLE))
        assert {e["correlationId"] for e in events} == {correlation}
        assert events[0]["payload"]["status"] == "COMPLETED"
        assert events[-1]["eventId"] == accepted["eventId"]

        counted = wait_until(lambda: (s := stats(client, system))["completedJobs"] == 1 and s)
        assert counted["totalJobs"] == 1
        assert counted["inFlightJobs"] == 0
        assert counted["lastEventTime"] == events[0]["occurredAt"]


def test_failing_job_ends_failed_and_retry_runs_it_again(profile_system: RunningSystem) -> None:
    """A job that always fails ends FAILED after the configured attempts with its error;
    POST /jobs/{id}/retry runs it again with new attempts."""
    system = profile_system
    with httpx.Client(timeout=5) as client:
        body = {"type": "FLAKY", "payload": {"simulate": {"failProbability": 1}}}
        job_id = submit(client, system, body).json()["jobId"]
        assert wait_terminal(client, system, job_id) == "FAILED"
        detail = client.get(f"{system.read_model_url}/jobs/{job_id}").json()
        assert detail["attempts"] == 3
        assert detail["error"] == "Simulated failure on attempt 3"
        assert [a["attempt"] for a in detail["attemptHistory"]] == [1, 2, 3]
        assert wait_until(lambda: stats(client, system)["failedJobs"] == 1)

        retried = client.post(f"{system.gateway_url}/jobs/{job_id}/retry")
        assert retried.status_code == 202
        wait_until(
            lambda: client.get(f"{system.read_model_url}/jobs/{job_id}").json()["attempts"] == 6,
            message="three more attempts",
        )
        assert wait_terminal(client, system, job_id) == "FAILED"
        final = wait_until(lambda: (s := stats(client, system))["retriedJobs"] == 1 and s)
        assert (final["totalJobs"], final["failedJobs"], final["completedJobs"]) == (1, 1, 0)


def test_retry_answers_404_for_unknown_and_409_for_completed(profile_system: RunningSystem) -> None:
    """Only FAILED jobs can be retried; the gateway says why otherwise."""
    system = profile_system
    with httpx.Client(timeout=5) as client:
        unknown = client.post(f"{system.gateway_url}/jobs/{uuid.uuid4()}/retry")
        assert unknown.status_code == 404
        assert "not found" in unknown.json()["error"]
        job_id = submit(client, system, {"type": "OK"}).json()["jobId"]
        assert wait_terminal(client, system, job_id) == "COMPLETED"
        conflict = client.post(f"{system.gateway_url}/jobs/{job_id}/retry")
        assert conflict.status_code == 409
        assert "COMPLETED" in conflict.json()["error"]
        assert conflict.json()["status"] == "COMPLETED"  # as a refused cancel says it


def test_same_job_id_twice_is_processed_and_counted_once(profile_system: RunningSystem) -> None:
    """Submitting one job id twice answers 202 both times but runs and counts it once: the
    gateway publishes the first job.created again (the same eventId), so the job has one."""
    system = profile_system
    job_id = str(uuid.uuid4())
    with httpx.Client(timeout=5) as client:
        first = submit(client, system, {"id": job_id, "type": "DUP"})
        second = submit(client, system, {"id": job_id, "type": "DUP"})
        assert (first.status_code, second.status_code) == (202, 202)
        assert first.json() == second.json()
        assert wait_terminal(client, system, job_id) == "COMPLETED"
        wait_until(
            lambda: (
                len(client.get(f"{system.read_model_url}/events", params={"jobId": job_id}).json())
                == 4
            ),
            message="one job.created and one lifecycle",
        )
        detail = client.get(f"{system.read_model_url}/jobs/{job_id}").json()
        assert detail["attempts"] == 1
        assert [e["eventType"] for e in detail["events"]].count("job.created") == 1
        assert [e["eventType"] for e in detail["events"]].count("job.completed") == 1
        counted = stats(client, system)
        assert (counted["totalJobs"], counted["completedJobs"]) == (1, 1)


def test_job_pages_filter_by_status_and_type(system: RunningSystem) -> None:
    """GET /jobs filters by status and type and pages with a cursor through every job once."""
    with httpx.Client(timeout=5) as client:
        ids = [submit(client, system, {"type": "PAGED"}).json()["jobId"] for _ in range(5)]
        failing = submit(
            client, system, {"type": "PAGED", "payload": {"simulate": {"failProbability": 1}}}
        )
        for job_id in [*ids, failing.json()["jobId"]]:
            wait_terminal(client, system, job_id)
        seen, cursor = [], None
        while True:
            params: dict[str, str | int] = {
                "type": "PAGED",
                "status": "COMPLETED",
                "limit": 2,
                **({"cursor": cursor} if cursor else {}),
            }
            page = client.get(f"{system.read_model_url}/jobs", params=params).json()
            seen += [j["id"] for j in page["items"]]
            cursor = page["nextCursor"]
            if not cursor:
                break
        assert sorted(seen) == sorted(ids)
        bad = client.get(f"{system.read_model_url}/jobs", params={"cursor": "garbage"})
        assert bad.status_code == 400
        assert (
            client.get(f"{system.read_model_url}/jobs", params={"status": "NOPE"}).status_code
            == 400
        )
        assert client.get(f"{system.read_model_url}/jobs/{uuid.uuid4()}").status_code == 404
        assert client.get(f"{system.read_model_url}/jobs/not-a-uuid").json() == {
            "error": "Job not-a-uuid not found"
        }


def test_empty_system_answers_empty_lists(system: RunningSystem) -> None:
    """A fresh system answers [] (never null) and zero counters."""
    with httpx.Client(timeout=5) as client:
        base = system.read_model_url
        assert client.get(f"{base}/jobs/recent").json() == []
        assert client.get(f"{base}/events").json() == []
        assert client.get(f"{base}/dead-letters").json() == []
        assert client.get(f"{base}/stats").json()["totalJobs"] == 0
        assert client.get(f"{base}/health").json()["status"] == "ok"


def test_a_job_waiting_for_the_processor_is_pending_not_missing(
    tmp_path: Path, real_backends: dict[str, str]
) -> None:
    """With no processor running, an accepted job answers /jobs/{id} as PENDING with its
    job.created event; once a processor starts, the same job completes."""
    names = ("gateway", "metrics-engine", "read-model")
    running = {name: start_service(name, real_backends, free_port(), tmp_path) for name in names}
    try:
        with httpx.Client(timeout=5) as client:
            accepted = client.post(
                f"{running['gateway'].url}/jobs", json={"type": "QUEUED", "payload": {"n": 1}}
            )
            assert accepted.status_code == 202
            job_id = accepted.json()["jobId"]
            read_model = running["read-model"].url
            detail = wait_until(
                lambda: (
                    (r := client.get(f"{read_model}/jobs/{job_id}")).status_code == 200
                    and r.json()["events"]
                    and r.json()
                ),
                # The gateway's PENDING row and the metrics engine's job.created event are
                # written by two processes: wait for both, then check what they say.
                message="the queued job and its job.created event to be visible",
            )
            assert (detail["id"], detail["type"], detail["status"]) == (job_id, "QUEUED", "PENDING")
            assert detail["payload"] == {"n": 1}
            assert detail["attempts"] == 0
            assert [e["eventType"] for e in detail["events"]] == ["job.created"]

            running["processor"] = start_service("processor", real_backends, free_port(), tmp_path)
            assert wait_until(
                lambda: job_status(client, read_model, job_id) == "COMPLETED",
                message="the job to complete once a processor runs",
            )
            assert client.get(f"{read_model}/jobs/{uuid.uuid4()}").status_code == 404
    finally:
        for service in running.values():
            service.kill(signal.SIGTERM)
