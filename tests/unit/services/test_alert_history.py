"""The read model's webhook history keeps only flat, bounded strings, and a notification is
refused with the path when it is nested too deep, however deep."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from observatory.core.clock import FixedClock
from observatory.core.errors import InvalidMessage
from observatory.services.read_model.alerts import (
    MAX_ALERTS,
    MAX_LABELS,
    MAX_TEXT,
    AlertSource,
    parse_notification,
)


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def violations(raw: bytes) -> list[str]:
    with pytest.raises(InvalidMessage) as caught:
        parse_notification(raw)
    return [v.path for v in caught.value.violations]


def test_bodies_nested_past_32_levels_are_refused_with_the_path() -> None:
    """300 levels in groupLabels (parsable) and 30,000 (past the parser) alike."""
    labels = json.dumps({"alerts": [], "groupLabels": nested(300)}).encode()
    assert violations(labels) == ["$.groupLabels" + ".a" * 31]
    assert violations(b"[" * 30_000 + b"]" * 30_000) == ["$" + "[0]" * 32]
    assert violations(b'{"alerts": "nope"}') == ["$.alerts"]
    assert violations(b"[]") == ["$"]


def test_history_holds_flat_bounded_strings_whatever_was_posted() -> None:
    """Nested label values are dropped, other scalars become text, long strings are cut,
    label sets and alert lists are capped; the stored entry always encodes."""
    source = AlertSource(None, timeout=1, history=5, clock=FixedClock())
    hostile = {
        "status": {"not": "a string"},
        "groupLabels": {
            "alertname": "Deep",
            "nested": nested(30),
            "list": [1, 2],
            "number": 7,
            **{f"k{i}": "v" for i in range(200)},
        },
        "alerts": [
            {
                "labels": {"alertname": "x" * 10_000, "severity": {"a": 1}, "service": True},
                "annotations": {"summary": ["no"], "description": "d" * 5000},
                "status": {"state": nested(5)},
                "startsAt": 12,
            },
            "not an alert",
        ]
        + [{"labels": {"alertname": f"A{i}"}} for i in range(300)],
    }
    assert source.record(parse_notification(orjson.dumps(hostile))) == 302
    (entry,) = source.history
    labels = entry["groupLabels"]
    assert labels["alertname"] == "Deep"
    assert labels["number"] == "7"
    assert "nested" not in labels
    assert "list" not in labels
    assert len(labels) == MAX_LABELS
    assert entry["status"] == ""
    assert len(entry["alerts"]) <= MAX_ALERTS
    first = entry["alerts"][0]
    assert first["alertname"] == "x" * MAX_TEXT
    assert first["severity"] == "none"  # a nested value is no label
    assert first["service"] == "True"
    assert first["summary"] == ""
    assert first["description"] == "d" * MAX_TEXT
    assert first["state"] == "active"
    assert first["startsAt"] == "12"

    def strings_only(value: Any) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and strings_only(v) for k, v in value.items())
        if isinstance(value, list):
            return all(strings_only(v) for v in value)
        return isinstance(value, str)

    assert strings_only(entry)
    assert orjson.loads(orjson.dumps(list(source.history)))[0] == entry
