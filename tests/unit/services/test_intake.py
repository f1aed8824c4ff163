"""The gateway's intake: full and short forms, and what it refuses."""

from __future__ import annotations

from typing import Any

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
def test_invalid_jobs_name_the_field(body: dict[str, Any], path: str) -> None:
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


def test_any_uuid_spelling_of_a_job_id_becomes_its_canonical_form() -> None:
    """Upper case, braces, urn:uuid: and no hyphens are one id: the canonical lower-case
    form reaches the bus (so a retry spelled differently is the same job)."""
    canonical = "3f2c4b1a-9d8e-4f00-a1b2-c3d4e5f60718"
    for spelling in (
        canonical.upper(),
        "{" + canonical + "}",
        "urn:uuid:" + canonical,
        canonical.replace("-", ""),
    ):
        job = normalise_job({"type": "A", "id": spelling}, FixedClock())
        assert job["id"] == canonical, spelling


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"type": "A", "payload": {"note": "a\x00b"}}, "$.payload.note"),
        ({"type": "A", "metadata": {"list": ["ok", "\x00"]}}, "$.metadata.list[1]"),
        ({"type": "A", "metadata": {"k\x00": 1}}, "$.metadata"),
    ],
)
def test_nul_characters_in_payload_or_metadata_are_refused_with_their_path(
    body: dict[str, object], path: str
) -> None:
    """No job store keeps a NUL character, so the edge refuses it instead of accepting a
    job that could never be stored."""
    with pytest.raises(InvalidMessage) as exc:
        normalise_job(body, FixedClock())
    assert paths(exc) == [path]
