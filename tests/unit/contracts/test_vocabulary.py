"""The Python names of statuses and event types are exactly the contract's strings."""

from __future__ import annotations

import orjson

from observatory.core.contracts.validator import load_schema
from observatory.core.contracts.vocabulary import EventType, JobStatus


def test_job_statuses_are_the_schema_enum() -> None:
    """JobStatus lists job.json's `status` enum, in order."""
    assert list(JobStatus) == load_schema("job")["properties"]["status"]["enum"]


def test_event_types_are_the_schema_enum() -> None:
    """EventType lists event-envelope.json's `eventType` enum (in any order)."""
    enum = load_schema("event-envelope")["properties"]["eventType"]["enum"]
    assert sorted(EventType) == sorted(enum)


def test_members_serialise_as_their_contract_string() -> None:
    """On the wire a member is its plain string."""
    assert orjson.dumps({"status": JobStatus.FAILED}) == b'{"status":"FAILED"}'
    assert orjson.dumps([EventType.CREATED]) == b'["job.created"]'
