"""ODTO_RETENTION and `odto purge --older-than` durations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from observatory.core.retention import parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("90m", timedelta(minutes=90)),
        ("45s", timedelta(seconds=45)),
        ("2w", timedelta(weeks=2)),
        (" 7D ", timedelta(days=7)),
        ("3600", timedelta(hours=1)),
        ("0", None),
        ("0d", None),
    ],
)
def test_durations_parse(text: str, expected: timedelta | None) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "d", "-1d", "1.5d", "30 days", "1d12h", "999999999d"])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"duration|100 years"):
        parse_duration(text)
