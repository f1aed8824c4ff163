"""A dead letter can always be written: JSON that orjson reads but cannot write again
(nesting deeper than its 254 levels) is kept as text, as a body that is not JSON is."""

from __future__ import annotations

import orjson

from observatory.core.clock import SystemClock
from observatory.core.dead_letters import RAW_TEXT_LIMIT, dead_letter, rejected
from observatory.core.errors import InvalidMessage


def letter(body: bytes) -> dict[str, object]:
    reject = rejected(body, InvalidMessage("Envelope validation failed"), "jobs.created")
    document = orjson.loads(dead_letter(reject, service="processor", clock=SystemClock()).body)
    assert isinstance(document, dict)
    return document


def test_deeply_nested_json_is_kept_as_text() -> None:
    body = b"[" * 300 + b"]" * 300
    document = letter(body)
    assert document["original_event"] == body.decode()
    assert document["validation_error"]


def test_json_that_can_be_written_again_stays_json() -> None:
    assert letter(b'{"eventType": 5}')["original_event"] == {"eventType": 5}


def test_a_huge_deep_body_is_kept_as_its_first_bytes() -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    assert letter(body)["original_event"] == body[:RAW_TEXT_LIMIT].decode()
