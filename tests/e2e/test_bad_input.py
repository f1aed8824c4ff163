"""Client mistakes get a clear 4xx JSON answer and publish nothing; garbage on the bus is
dead-lettered while the consumers keep working."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import orjson
import pytest
from tests.system import RunningSystem, job_status, wait_until

from observatory.core.bus.embedded import EmbeddedBus
from observatory.core.bus.port import Bus
from observatory.core.bus.rabbitmq import RabbitBus

JSON = {"Content-Type": "application/json"}
MISTAKES: list[tuple[str, Callable[[str], httpx.Request], int, str]] = [
    ("missing type", lambda u: httpx.Request("POST", f"{u}/jobs", json={}), 400, "$.type"),
    (
        "type pattern",
        lambda u: httpx.Request("POST", f"{u}/jobs", json={"type": "no spaces!"}),
        400,
        "$.type",
    ),
    (
        "type too long",
        lambda u: httpx.Request("POST", f"{u}/jobs", json={"type": "A" * 51}),
        400,
        "$.type",
    ),
    (
        "invalid id",
        lambda u: httpx.Request("POST", f"{u}/jobs", json={"type": "A", "id": "x"}),
        400,
        "$.id",
    ),
    (
        "invalid createdAt",
        lambda u: httpx.Request("POST", f"{u}/jobs", json={"type": "A", "createdAt": "yesterday"}),
        400,
        "$.createdAt",
    ),
    (
        "status not PENDING",
        lambda u: httpx.Request("POST", f"{u}/jobs", json={"type": "A", "status": "COMPLETED"}),
        400,
        "$.status",
    ),
    (
        "payload not object",
        lambda u: httpx.Request("POST", f"{u}/jobs", json={"type": "A", "payload": [1]}),
        400,
        "$.payload",
    ),
    (
        "bad simulate",
        lambda u: httpx.Request(
            "POST", f"{u}/jobs", json={"type": "A", "payload": {"simulate": {"failProbability": 7}}}
        ),
        400,
        "$.payload.simulate.failProbability",
    ),
    ("body not object", lambda u: httpx.Request("POST", f"{u}/jobs", json=[1, 2]), 400, "$"),
    (
        "malformed JSON",
        lambda u: httpx.Request("POST", f"{u}/jobs", content=b'{"type": ', headers=JSON),
        400,
        "$",
    ),
    (
        "body over 64 KiB",
        lambda u: httpx.Request(
            "POST", f"{u}/jobs", json={"type": "A", "payload": {"x": "y" * 70000}}
        ),
        413,
        "",
    ),
    (
        "wrong content type",
        lambda u: httpx.Request(
            "POST",
            f"{u}/jobs",
            content=b"type=A",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        415,
        "",
    ),
    (
        "invalid correlation id",
        lambda u: httpx.Request(
            "POST", f"{u}/jobs", json={"type": "A"}, headers={"X-Correlation-Id": "not-a-uuid"}
        ),
        400,
        "",
    ),
    ("unknown route", lambda u: httpx.Request("GET", f"{u}/no/such/route"), 404, ""),
    ("wrong method", lambda u: httpx.Request("GET", f"{u}/jobs"), 405, ""),
]


def accepted_count(client: httpx.Client, system: RunningSystem) -> float:
    for line in client.get(f"{system.gateway_url}/metrics").text.splitlines():
        if line.startswith("gateway_jobs_accepted_total "):
            return float(line.split()[1])
    return 0.0


def test_every_client_mistake_gets_its_json_4xx_and_nothing_is_published(
    system: RunningSystem,
) -> None:
    """Each mistake in SPEC §5.1 is answered with its status and a JSON {error, details?},
    the path of the violation is named, and no job is published or counted."""
    with httpx.Client(timeout=5) as client:
        for name, make, status, path in MISTAKES:
            response = client.send(make(system.gateway_url))
            assert response.status_code == status, name
            assert response.headers["content-type"].startswith("application/json"), name
            body = response.json()
            assert isinstance(body["error"], str), name
            assert body["error"], name
            if path:
                assert path in [d["path"] for d in body["details"]], (name, body)
        assert accepted_count(client, system) == 0
        assert client.get(f"{system.read_model_url}/stats").json()["totalJobs"] == 0
        metrics = client.get(f"{system.gateway_url}/metrics").text
        assert 'gateway_jobs_submitted_total{type="invalid"}' in metrics
        assert "no spaces" not in metrics  # client input never becomes a label


GARBAGE = {
    "not JSON": b"this is <b>not</b> json",
    "schema break": orjson.dumps({"eventType": "job.created", "payload": {}}),
    "unknown event type": orjson.dumps(
        {
            "contractVersion": "1.0.0",
            "eventType": "job.exploded",
            "eventId": str(uuid.uuid4()),
            "occurredAt": "2026-01-01T00:00:00Z",
            "correlationId": str(uuid.uuid4()),
            "producer": {"service": "x", "instanceId": "y", "version": "1"},
            "idempotencyKey": "k",
            "payload": {},
        }
    ),
    "huge": b'{"pad": "' + b"x" * (2 * 1024 * 1024) + b'"}',
}
QUEUES = (
    "jobs.created",
    "jobs.created.metrics",
    "jobs.validated",
    "jobs.executed",
    "jobs.completed",
    "jobs.failed",
    "jobs.failed.validation",
)


def bus_for(system: RunningSystem) -> Bus:
    env = system.env
    if env.get("RABBITMQ_URL"):
        return RabbitBus(env["RABBITMQ_URL"], namespace=env.get("ODTO_NAMESPACE", ""))
    return EmbeddedBus(Path(env["ODTO_DATA_DIR"]) / "bus.sqlite3")


async def put_raw(system: RunningSystem, items: list[tuple[str, bytes]]) -> None:
    bus = bus_for(system)
    await bus.open()
    try:
        for queue, body in items:
            await bus.schedule(queue, body, {}, 0)
    finally:
        await bus.close()


def test_garbage_on_every_queue_is_dead_lettered_and_consumers_keep_working(
    profile_system: RunningSystem,
) -> None:
    """Garbage published straight onto each queue lands in /dead-letters (raw text kept when
    it is not JSON); the consumers survive and a later valid job still completes."""
    system = profile_system
    items = [
        (queue, body + f" #{queue}".encode() if kind == "not JSON" else body)
        for queue in QUEUES
        for kind, body in GARBAGE.items()
        if kind != "huge" or queue == "jobs.created"
    ]
    asyncio.run(put_raw(system, items))
    with httpx.Client(timeout=5) as client:
        letters = wait_until(
            lambda: (
                (
                    d := client.get(
                        f"{system.read_model_url}/dead-letters", params={"limit": 100}
                    ).json()
                )
                and len(d) >= len(items)
                and d
            ),
            timeout=30,
            message=f"{len(items)} dead letters",
        )
        texts = [d["original_event"] for d in letters if isinstance(d["original_event"], str)]
        assert any("<b>not</b> json #jobs.created" in t for t in texts)
        assert any("message of" in d["validation_error"] for d in letters)  # the huge one
        assert {d["service"] for d in letters} <= {"processor", "metrics-engine"}
        job_id = client.post(f"{system.gateway_url}/jobs", json={"type": "AFTER"}).json()["jobId"]
        wait_until(
            lambda: job_status(client, system.read_model_url, job_id) == "COMPLETED",
            message="a valid job after the garbage",
        )
        stats = client.get(f"{system.read_model_url}/stats").json()
        assert stats["deadLetters"] == len(letters)
        assert stats["totalJobs"] == 1


def test_redelivered_event_changes_nothing(system: RunningSystem) -> None:
    """An event delivered again (same eventId) is stored and counted once."""
    with httpx.Client(timeout=5) as client:
        job_id = client.post(f"{system.gateway_url}/jobs", json={"type": "ONCE"}).json()["jobId"]
        wait_until(
            lambda: client.get(f"{system.read_model_url}/stats").json()["completedJobs"] == 1
        )
        events = client.get(f"{system.read_model_url}/events", params={"jobId": job_id}).json()
        completed = next(e for e in events if e["eventType"] == "job.completed")
        created = next(e for e in events if e["eventType"] == "job.created")
        asyncio.run(
            put_raw(
                system,
                [
                    ("jobs.completed", orjson.dumps(completed)),
                    ("jobs.created.metrics", orjson.dumps(created)),
                    ("jobs.created", orjson.dumps(created)),
                ],
            )
        )

        def duplicates() -> float:
            text = client.get(f"{system.metrics_engine_url}/metrics").text
            line = next(
                row
                for row in text.splitlines()
                if row.startswith("metrics_engine_events_duplicate_total")
            )
            return float(line.split()[1])

        wait_until(lambda: duplicates() >= 3, message="the redeliveries to be seen")
        stats = client.get(f"{system.read_model_url}/stats").json()
        assert (stats["totalJobs"], stats["completedJobs"]) == (1, 1)
        after = client.get(f"{system.read_model_url}/events", params={"jobId": job_id}).json()
        assert len(after) == len(events)
        assert client.get(f"{system.read_model_url}/jobs/{job_id}").json()["attempts"] == 1


@pytest.mark.parametrize("path", ["/stats", "/jobs/recent", "/events", "/dead-letters", "/alerts"])
def test_read_model_routes_answer_json_with_correlation_header(
    system: RunningSystem, path: str
) -> None:
    """Every read route answers JSON and echoes the caller's correlation id."""
    correlation = str(uuid.uuid4())
    response = httpx.get(
        f"{system.read_model_url}{path}", headers={"X-Correlation-Id": correlation}, timeout=5
    )
    assert response.status_code == 200
    assert response.headers["x-correlation-id"] == correlation
    assert response.headers["content-type"].startswith("application/json")
