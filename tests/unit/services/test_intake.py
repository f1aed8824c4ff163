"""The gateway's intake: full and short forms, and what it refuses."""

from __future__ import annotations

import pytest

from observatory.core.clock import FixedClock
from observatory.core.contracts.envelope import Producer
from observatory.core.contracts.validator import validate_event
from observatory.core.errors import InvalidMessage
from observatory.services.gateway.intake import created_event, normalise_job, parse_body


def paths(exc: pytest.ExceptionInfo[InvalidMessage]) -> list[str]:
    return [v.path for v in exc.value.violations]


def test_short_form_is_filled_in() -> None:
    """{type} gets an id, PENDING and createdAt from the clock."""
    job = normalise_job({"type": "DEMO"}, FixedClock())
    assert job["status"] == "PENDING"
    assert job["createdAt"] == "2026-01-01T00:00:00.000Z"
    assert len(job["id"]) == 36


def test_full_form_keeps_its_fields_and_extras() -> None:
    body = {
        "id": "6f1c2f1e-7f2b-4a59-9b1e-2f0d5d6f1a11",
        "type": "X",
        "status": "PENDING",
        "createdAt": "2025-12-24T10:00:00Z",
        "extra": 1,
    }
    assert normalise_job(body, FixedClock()) == body


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "$.type"),
        ({"type": ""}, "$.type"),
        ({"type": "a.b"}, "$.type"),
        ({"type": "A", "status": "COMPLETED"}, "$.status"),
        ({"type": "A", "id": "123"}, "$.id"),
        (
            {"type": "A", "payload": {"simulate": {"durationMs": -1}}},
            "$.payload.simulate.durationMs",
        ),
        (
            {"type": "A", "payload": {"simulate": {"failAttempts": True}}},
            "$.payload.simulate.failAttempts",
        ),
    ],
)
def test_invalid_jobs_name_the_field(body: dict, path: str) -> None:
    with pytest.raises(InvalidMessage) as exc:
        normalise_job(body, FixedClock())
    assert path in paths(exc)


def test_malformed_json_and_non_objects_are_refused() -> None:
    with pytest.raises(InvalidMessage, match="Malformed JSON"):
        parse_body(b"{nope")
    with pytest.raises(InvalidMessage, match="Invalid job data"):
        parse_body(b"[1]")


def test_created_event_is_a_valid_envelope() -> None:
    """The envelope passes the contract; idempotencyKey is the job id (id:runN for reruns)."""
    clock = FixedClock()
    job = normalise_job({"type": "DEMO"}, clock)
    producer = Producer("gateway", "host-1")
    first = created_event(job, producer=producer, clock=clock, correlation_id=clock.new_id())
    assert validate_event(first) == []
    assert first["idempotencyKey"] == job["id"]
    rerun = created_event(job, producer=producer, clock=clock, correlation_id=clock.new_id(), run=2)
    assert rerun["idempotencyKey"] == f"{job['id']}:run2"
    assert rerun["payload"]["run"] == 2
