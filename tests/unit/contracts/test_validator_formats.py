"""The shared validator enforces uuid and date-time strictly, and its two paths agree."""

from __future__ import annotations

import pytest

from observatory.core.contracts.validator import is_datetime, is_uuid, validate

JOB = {
    "id": "6f1c2a4e-8b3d-4f5a-9c7e-1d2b3a4c5e6f",
    "type": "DEMO",
    "status": "PENDING",
    "createdAt": "2025-01-15T10:30:00Z",
}


@pytest.mark.parametrize(
    "value", ["6f1c2a4e-8b3d-4f5a-9c7e-1d2b3a4c5e6f", "6F1C2A4E-8B3D-4F5A-9C7E-1D2B3A4C5E6F"]
)
def test_canonical_uuids_are_accepted(value: str) -> None:
    assert is_uuid(value)


@pytest.mark.parametrize(
    "value",
    [
        "6f1c2a4e8b3d4f5a9c7e1d2b3a4c5e6f",  # no hyphens
        "6f1c_a4e-8b3d-4f5a-9c7e-1d2b3a4c5e6f",  # int(..., 16) would take the underscore
        "+f1c2a4e-8b3d-4f5a-9c7e-1d2b3a4c5e6f",
        " f1c2a4e-8b3d-4f5a-9c7e-1d2b3a4c5e6f",
        "6f1c2a4e-8b3d-4f5a-9c7e-1d2b3a4c5e6\u0663",  # an Arabic-Indic digit
        "{6f1c2a4e-8b3d-4f5a-9c7e-1d2b3a4c5e6f}",
        "urn:uuid:6f1c2a4e-8b3d-4f5a-9c7e-1d2b3a4c5e6f",
        "6f1c2a4e-8b3d-4f5a-9c7e-1d2b3a4c5e6f\n",
    ],
)
def test_lookalike_uuids_are_rejected(value: str) -> None:
    assert not is_uuid(value)
    assert validate("job", {**JOB, "id": value})[0].path == "$.id"


@pytest.mark.parametrize(
    "value",
    ["2025-01-15T10:30:00Z", "2025-01-15T10:30:00.123456+01:00", "2025-01-15t10:30:00z"],
)
def test_date_times_with_a_zone_are_accepted(value: str) -> None:
    assert is_datetime(value)


@pytest.mark.parametrize(
    "value",
    [
        "2025-01-15T10:30:00",  # no zone
        "2025-02-30T10:30:00Z",  # no such day
        "2025-01-15T10:30:00Z\n",
        "2025-01-15",
        "2025-01-\u0661\u0665T10:30:00Z",  # non-ASCII digits
    ],
)
def test_bad_date_times_are_rejected(value: str) -> None:
    assert not is_datetime(value)
    assert validate("job", {**JOB, "createdAt": value})[0].path == "$.createdAt"


@pytest.mark.parametrize("value", ["DEMO\n", "DEMO$", "A" * 51, "has space"])
def test_pattern_violations_name_the_field_not_a_generic_failure(value: str) -> None:
    # `$` in a schema pattern ends the string (ECMA 262); both validator paths must agree,
    # or the caller only sees "document does not match the schema".
    violations = validate("job", {**JOB, "type": value})
    assert [v.path for v in violations] == ["$.type"]
    assert "does not match" in violations[0].message
