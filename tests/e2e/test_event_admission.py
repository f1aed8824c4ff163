"""The metrics engine takes from each queue only the events bound to it, and counts a run's
end only for a job it saw created (SPEC §12): events published straight to queues, as a
broken or hostile producer would, on the embedded profile and on RabbitMQ/PostgreSQL/Redis."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from tests.e2e.conftest import drop_namespace, real_env
from tests.e2e.test_bad_input import bus_for
from tests.system import RunningSystem, start_system, wait_until

JOB_WAIT = 0.05  # first re-check of an unknown job's event; 7 checks take 127 times this


@pytest.fixture(params=["embedded", "real"])
def quick_checks(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str
) -> Iterator[RunningSystem]:
    """The whole system, its metrics engine giving up on unknown jobs after ~6 s."""
    env = real_env(namespace) if request.param == "real" else {}
    running = start_system(tmp_path, {**env, "METRICS_ENGINE_JOB_WAIT_SECONDS": str(JOB_WAIT)})
    try:
        yield running
    finally:
        running.stop()
        if env:
            asyncio.run(drop_namespace(namespace))


def envelope(event_type: str, job_id: str, status: str) -> dict[str, Any]:
    return {
        "contractVersion": "1.0.0",
        "eventType": event_type,
        "eventId": str(uuid.uuid4()),
        "occurredAt": "2026-01-01T00:00:00.000Z",
        "producer": {"service": "forger", "instanceId": "test", "version": "0"},
        "correlationId": str(uuid.uuid4()),
        "idempotencyKey": job_id,
        "payload": {
            "id": job_id,
            "type": "FORGED",
            "status": status,
            "createdAt": "2026-01-01T00:00:00.000Z",
        },
    }


async def put_straight(system: RunningSystem, items: list[tuple[str, dict[str, Any]]]) -> None:
    """Put each envelope straight onto a queue (the default exchange), bypassing routing."""
    bus = bus_for(system)
    await bus.open()
    try:
        for queue, document in items:
            await bus.schedule(queue, orjson.dumps(document), {}, 0)
    finally:
        await bus.close()


def deferred(client: httpx.Client, system: RunningSystem) -> float:
    text = client.get(f"{system.metrics_engine_url}/metrics").text
    rows = [r for r in text.splitlines() if r.startswith("metrics_engine_events_deferred_total")]
    return float(rows[0].split()[1]) if rows else 0.0


def test_misplaced_events_and_ends_of_unknown_jobs_move_no_counter(
    quick_checks: RunningSystem,
) -> None:
    """A job.created on jobs.completed and a job.completed on jobs.created.metrics are
    dead-lettered naming the queue; a completion of a job never created is dead-lettered
    after its checks; a completion that arrives before its job.created counts once it does.
    Only that one job is counted."""
    system = quick_checks
    stray, ghost, late = (str(uuid.uuid4()) for _ in range(3))
    late_created = envelope("job.created", late, "PENDING")
    asyncio.run(
        put_straight(
            system,
            [
                ("jobs.completed", envelope("job.created", stray, "PENDING")),
                ("jobs.created.metrics", envelope("job.completed", stray, "COMPLETED")),
                ("jobs.completed", envelope("job.completed", ghost, "COMPLETED")),
                ("jobs.completed", envelope("job.completed", late, "COMPLETED")),
            ],
        )
    )
    with httpx.Client(timeout=5) as client:
        wait_until(lambda: deferred(client, system) >= 2, message="both completions put back")
        asyncio.run(put_straight(system, [("jobs.created.metrics", late_created)]))

        def reasons() -> set[str]:
            letters = client.get(
                f"{system.read_model_url}/dead-letters", params={"limit": 50}
            ).json()
            return {d["validation_error"] for d in letters}

        expected = {
            "event job.created does not belong on queue jobs.completed",
            "event job.completed does not belong on queue jobs.created.metrics",
            f"no job.created seen for job {ghost}",
        }
        wait_until(
            lambda: reasons() == expected, timeout=30, message="three dead letters with reasons"
        )

        def counted() -> tuple[int, int, int]:
            stats = client.get(f"{system.read_model_url}/stats").json()
            return stats["totalJobs"], stats["completedJobs"], stats["deadLetters"]

        wait_until(lambda: counted() == (1, 1, 3), message="only the late job counted")
        events = client.get(f"{system.read_model_url}/events", params={"jobId": late}).json()
        assert sorted(e["eventType"] for e in events) == ["job.completed", "job.created"]
        assert client.get(f"{system.read_model_url}/events", params={"jobId": ghost}).json() == []
