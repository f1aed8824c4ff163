"""The edge limits (core/contracts/limits.py): nesting depth with the path of the first place
too deep, at any depth, and date-times that must convert to UTC within 1970-9999."""

from __future__ import annotations

import json
from typing import Any

import pytest

from observatory.core.contracts.limits import (
    MAX_DEPTH,
    timestamp_problem,
    too_deep,
    too_deep_in_text,
)


def nested(levels: int, key: str = "a") -> dict[str, Any]:
    """An object `levels` deep: {"a": {"a": ... {}}} (built without recursion)."""
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {key: value}
    return value


def nested_text(levels: int) -> bytes:
    return b'{"a":' * (levels - 1) + b"{}" + b"}" * (levels - 1)


def test_the_limit_is_32_levels() -> None:
    assert MAX_DEPTH == 32


def test_32_levels_pass_and_33_name_the_first_level_too_deep() -> None:
    """The path is the container at level 33, under the caller's prefix."""
    assert too_deep(nested(32), "$.metadata") is None
    problem = too_deep(nested(33), "$.metadata")
    assert problem is not None
    assert problem.path == "$.metadata" + ".a" * 32
    assert "32" in problem.message


def test_scalars_and_flat_values_are_never_too_deep() -> None:
    for value in (None, 1, "x" * 1000, [], {}, [1, 2, 3], {"a": 1}):
        assert too_deep(value) is None


def test_arrays_are_levels_too_and_the_first_place_in_document_order_is_named() -> None:
    """Indexes appear as [i]; of two deep branches, the one written first is reported."""
    value = {"ok": [1, 2], "list": [0, [[[]]]], "later": [[[[]]]]}
    problem = too_deep(value, limit=3)
    assert problem is not None
    assert problem.path == "$.list[1][0]"


def test_a_30000_deep_value_is_checked_without_recursion() -> None:
    """Far past Python's recursion limit: still an answer, the path stops at level 33."""
    value: list[Any] = []
    for _ in range(30_000):
        value = [value]
    problem = too_deep(value, "$.payload")
    assert problem is not None
    assert problem.path == "$.payload" + "[0]" * 32


def test_text_scan_finds_the_same_place_as_the_value_check() -> None:
    for levels in (1, 32, 33, 40):
        raw = nested_text(levels)
        assert too_deep_in_text(raw) == too_deep(json.loads(raw))


def test_text_scan_handles_30000_levels_that_no_parser_takes() -> None:
    """orjson stops at 1024 levels; the scan still names level 33."""
    problem = too_deep_in_text(b"[" * 30_000 + b"]" * 30_000)
    assert problem is not None
    assert problem.path == "$" + "[0]" * 32


def test_text_scan_reads_keys_with_escapes_and_counts_array_items() -> None:
    """Braces and commas inside strings are text; escaped quotes do not end a key."""
    raw = rb'{"s": "{[,\"", "k\"ey": [1, "]", {"x,{": [[[0]]]}]}'
    problem = too_deep_in_text(raw, limit=4)
    assert problem is not None
    assert problem.path == '$.k"ey[2].x,{[0]'


def test_text_scan_with_outer_levels_limits_the_fields_not_the_body() -> None:
    """A job body is one level around its fields: metadata may hold 32 levels of its own."""
    field_33 = b'{"type": "A", "metadata": ' + nested_text(33) + b"}"
    field_32 = b'{"type": "A", "metadata": ' + nested_text(32) + b"}"
    assert too_deep_in_text(field_32, outer=1) is None
    problem = too_deep_in_text(field_33, outer=1)
    assert problem is not None
    assert problem.path == "$.metadata" + ".a" * 32


def test_text_too_broken_to_follow_is_left_to_the_parser() -> None:
    assert too_deep_in_text(b'{"a": "unterminated') is None
    assert too_deep_in_text(b"]]]") is None


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00:00+23:59",  # converting to UTC falls before year 1
        "9999-12-31T23:59:59-23:59",  # converting to UTC passes year 9999
        "1969-12-31T23:59:59Z",  # before 1970
        "1970-01-01T00:30:00+01:00",  # 1969 once in UTC
        "0500-06-01T00:00:00Z",
    ],
)
def test_timestamps_outside_1970_to_9999_in_utc_are_refused(value: str) -> None:
    problem = timestamp_problem(value, "$.createdAt")
    assert problem is not None
    assert problem.path == "$.createdAt"
    assert "1970" in problem.message


@pytest.mark.parametrize(
    "value",
    [
        "1970-01-01T00:00:00Z",
        "1970-01-01T05:45:00+05:45",  # exactly the epoch in UTC
        "2026-03-01T12:00:00.123456789+05:45",  # nine fraction digits, an odd offset
        "2026-03-01T12:00:00.5-09:30",
        "9999-12-31T23:59:59.999999Z",
        "9999-12-31T23:00:00+23:59",  # earlier in UTC: still year 9999
        "2026-01-01t00:00:00z",  # RFC 3339 allows lower case
    ],
)
def test_timestamps_that_convert_to_utc_within_range_pass(value: str) -> None:
    assert timestamp_problem(value, "$.createdAt") is None
