"""Golden fixtures pass and negative fixtures fail with the error they name.

Each fixture's schema comes from its file name (`job-accepted-*.json` is a job-accepted
document). Envelopes go through `validate_event`, so a `job.*` payload is checked as a Job;
registries go through the registry loader, so its extra rules (unique ids) apply too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from observatory.core.contracts.registry import RegistryError, parse_registry
from observatory.core.contracts.validator import SCHEMA_NAMES, validate, validate_event

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "contracts"
GOLDEN = sorted((FIXTURES / "golden").glob("*.json"))
NEGATIVE = sorted((FIXTURES / "negative").glob("*.json"))
META_KEYS = ("_comment", "_expectedError")


def schema_of(path: Path) -> str:
    """The longest schema name the file name starts with (job-accepted before job)."""
    names = [name for name in SCHEMA_NAMES if path.stem.startswith(f"{name}-")]
    assert names, f"{path.name} does not start with a schema name"
    return max(names, key=len)


def load(path: Path) -> tuple[dict[str, Any], str | None]:
    document = json.loads(path.read_text("utf-8"))
    expected = document.get("_expectedError")
    return {k: v for k, v in document.items() if k not in META_KEYS}, expected


def problems(schema: str, document: dict[str, Any]) -> list[str]:
    if schema == "event-envelope":
        return [str(v) for v in validate_event(document)]
    if schema == "ui-registry":
        try:
            parse_registry(document)
        except RegistryError as exc:
            return [str(exc)]
        return []
    return [str(v) for v in validate(schema, document)]


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_golden_fixture_is_valid(path: Path) -> None:
    document, _ = load(path)
    assert problems(schema_of(path), document) == []


@pytest.mark.parametrize("path", NEGATIVE, ids=lambda p: p.stem)
def test_negative_fixture_fails_with_its_expected_error(path: Path) -> None:
    document, expected = load(path)
    assert expected, f"{path.name} needs an _expectedError"
    found = problems(schema_of(path), document)
    assert any(expected in problem for problem in found), f"{expected!r} not in {found}"


def test_every_schema_has_golden_and_negative_fixtures() -> None:
    assert {schema_of(p) for p in GOLDEN} == set(SCHEMA_NAMES)
    assert {schema_of(p) for p in NEGATIVE} == set(SCHEMA_NAMES)
