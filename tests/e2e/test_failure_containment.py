"""A bad job fails alone (SPEC §12): poison on the bus is isolated and dead-lettered
while every other job completes, and long work holds no one else's job."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import orjson
from tests.e2e.test_bad_input import bus_for
from tests.system import RunningSystem, job_status, wait_until

from observatory.core.bus.port import Outgoing

# Times that parse as RFC 3339 but do not convert to UTC (years 0 and 10000).
POISON_TIMES = ("0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59")


def forged_created(job_id: str, created_at: str) -> Outgoing:
    """A schema-valid job.created whose job cannot be stored: the kind of message only a
    broken or hostile producer sends (the gateway refuses such a createdAt)."""
    event_id = str(uuid.uuid4())
    envelope = {
        "contractVersion": "1.0.0",
        "eventType": "job.created",
        "eventId": event_id,
        "occurredAt": "2026-01-01T00:00:00.000Z",
        "producer": {"service": "forger", "instanceId": "test", "version": "0"},
        "correlationId": str(uuid.uuid4()),
        "idempotencyKey": job_id,
        "payload": {"id": job_id, "type": "POISON", "status": "PENDING", "createdAt": created_at},
    }
    return Outgoing("job.created", orjson.dumps(envelope), message_id=event_id)


async def publish(system: RunningSystem, messages: list[Outgoing]) -> None:
    bus = bus_for(system)
    await bus.open()
    try:
        await bus.publish_many(messages)
    finally:
        await bus.close()


def submit(client: httpx.Client, system: RunningSystem, body: dict[str, object]) -> str:
    response = client.post(f"{system.gateway_url}/jobs", json={"id": str(uuid.uuid4()), **body})
    assert response.status_code == 202, response.text
    return str(response.json()["jobId"])


def test_poison_jobs_are_dead_lettered_and_the_rest_complete(
    profile_system: RunningSystem,
) -> None:
    """Five jobs whose createdAt cannot be stored, published ahead of 100 normal ones: the
    100 all complete, each poison job is dead-lettered with its reason, and asking for a
    poison job answers (never 500)."""
    system = profile_system
    poison = [str(uuid.uuid4()) for _ in range(5)]
    asyncio.run(
        publish(
            system,
            [forged_created(job_id, POISON_TIMES[i % 2]) for i, job_id in enumerate(poison)],
        )
    )
    with httpx.Client(timeout=10) as client:
        ids = [submit(client, system, {"type": "NORMAL"}) for _ in range(100)]
        wait_until(
            lambda: client.get(f"{system.read_model_url}/stats").json()["completedJobs"] >= 100,
            timeout=60,
            message="the 100 normal jobs to complete",
        )
        assert all(job_status(client, system.read_model_url, i) == "COMPLETED" for i in ids)

        def poison_letters() -> list[dict[str, object]]:
            letters = client.get(
                f"{system.read_model_url}/dead-letters", params={"limit": 100}
            ).json()
            return [  # the metrics engine refuses its copy of each too: count the processor's
                d
                for d in letters
                if d["service"] == "processor"
                and isinstance(d["original_event"], dict)
                and d["original_event"].get("payload", {}).get("id") in poison
            ]

        letters = wait_until(
            lambda: len(found := poison_letters()) == len(poison) and found,
            timeout=30,
            message="one dead letter per poison job",
        )
        assert all(d["validation_error"] for d in letters)
        stats = client.get(f"{system.read_model_url}/stats").json()
        assert (stats["totalJobs"], stats["inFlightJobs"]) == (100, 0)  # poison is no job
        for job_id in poison:
            answer = client.get(f"{system.read_model_url}/jobs/{job_id}")
            assert answer.status_code in (200, 404), answer.text
            assert answer.headers["content-type"].startswith("application/json")


def test_long_jobs_do_not_hold_instant_ones(profile_system: RunningSystem) -> None:
    """Four 30-second jobs running: five instant jobs submitted after them all complete
    while the long ones are still executing."""
    system = profile_system
    with httpx.Client(timeout=10) as client:
        long_ids = [
            submit(client, system, {"type": "LONG", "payload": {"simulate": {"durationMs": 30000}}})
            for _ in range(4)
        ]
        wait_until(
            lambda: all(
                job_status(client, system.read_model_url, i) == "EXECUTING" for i in long_ids
            ),
            message="the four long jobs to be executing",
        )
        quick = [submit(client, system, {"type": "INSTANT"}) for _ in range(5)]
        wait_until(
            lambda: all(job_status(client, system.read_model_url, i) == "COMPLETED" for i in quick),
            timeout=20,
            message="the instant jobs to complete",
        )
        assert [job_status(client, system.read_model_url, i) for i in long_ids] == ["EXECUTING"] * 4
