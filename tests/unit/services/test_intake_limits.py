"""The gateway's intake applies the edge limits: createdAt within 1970-9999 in UTC, fields
nested at most 32 levels (even far past what the JSON parser takes), durationMs <= 60000."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from observatory.core.clock import FixedClock
from observatory.core.errors import InvalidMessage
from observatory.services.gateway.intake import normalise_job, parse_body


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def refused(body: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidMessage) as caught:
        normalise_job(body, FixedClock())
    return [v.path for v in caught.value.violations]


BAD_CREATED_AT = (
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-23:59",
    "1969-12-31T23:59:59Z",
    "1970-01-01T00:59:59.999+01:00",
)


def test_created_at_must_convert_to_utc_within_1970_to_9999() -> None:
    """Each bad value is one violation at $.createdAt; odd offsets and nine fraction digits
    within range are kept as sent, and a malformed value is still reported once."""
    for created in BAD_CREATED_AT:
        assert refused({"type": "A", "createdAt": created}) == ["$.createdAt"], created
    created = "2026-03-01T12:00:00.123456789-09:30"
    assert normalise_job({"type": "A", "createdAt": created}, FixedClock())["createdAt"] == created
    assert refused({"type": "A", "createdAt": "yesterday"}) == ["$.createdAt"]


@pytest.mark.parametrize("field", ["payload", "metadata", "extra"])
def test_each_field_may_nest_32_levels_and_33_is_refused_with_the_path(field: str) -> None:
    """32 levels are accepted (and always fit orjson's writer on the way to the bus)."""
    job = normalise_job({"type": "A", field: nested(32)}, FixedClock())
    assert orjson.loads(orjson.dumps(job))[field] == nested(32)
    assert refused({"type": "A", field: nested(33)}) == [f"$.{field}" + ".a" * 32]


def test_metadata_nested_300_deep_is_refused_before_anything_walks_it() -> None:
    """300 levels parse (orjson takes 1024) but cannot be written back (254): a 400 now."""
    body = parse_body(json.dumps({"type": "A", "metadata": nested(300)}).encode())
    assert refused(body) == ["$.metadata" + ".a" * 32]


def test_a_body_deeper_than_the_parser_takes_names_the_place_not_a_syntax_error() -> None:
    """30,000 levels: orjson refuses to parse, the message still names the too-deep path
    (while a body that is merely broken is still "Malformed JSON")."""
    raw = b'{"type": "A", "payload": {"x": ' + b"[" * 30_000 + b"]" * 30_000 + b"}}"
    with pytest.raises(InvalidMessage) as caught:
        parse_body(raw)
    assert caught.value.reason == "Invalid job data"
    assert [v.path for v in caught.value.violations] == ["$.payload.x" + "[0]" * 31]
    with pytest.raises(InvalidMessage, match="Malformed JSON"):
        parse_body(b'{"type": "A", "payload": {')


def test_duration_is_capped_at_one_minute() -> None:
    ok = normalise_job({"type": "A", "payload": {"simulate": {"durationMs": 60_000}}}, FixedClock())
    assert ok["payload"]["simulate"]["durationMs"] == 60_000
    over = {"type": "A", "payload": {"simulate": {"durationMs": 60_001}}}
    assert refused(over) == ["$.payload.simulate.durationMs"]
