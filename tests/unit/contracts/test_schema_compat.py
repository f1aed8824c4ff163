"""The compatibility checker classifies every difference and demands a big enough bump.

Each folder in tests/fixtures/schema-compat holds old.json, new.json and expected.json
(the change paths with their bump, the bump the pair needs, whether new's $version covers
it and part of the error when it does not).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from observatory.core.contracts.compat import check_bump, compare
from observatory.core.contracts.compat.rules import pattern_loosened
from observatory.core.contracts.validator import SCHEMA_NAMES, load_schema

CASES = Path(__file__).resolve().parents[2] / "fixtures" / "schema-compat"
CASE_DIRS = sorted(p for p in CASES.iterdir() if p.is_dir())


def read(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda p: p.name)
def test_pair_is_classified_as_expected(case: Path) -> None:
    old, new, expected = (read(case / f) for f in ("old.json", "new.json", "expected.json"))
    report = compare(old, new)
    found = sorted((c.path, c.bump) for c in report.changes)
    assert found == sorted((c["path"], c["bump"]) for c in expected["changes"])
    assert report.required_bump == expected["requiredBump"]


@pytest.mark.parametrize("case", CASE_DIRS, ids=lambda p: p.name)
def test_version_bump_is_checked_as_expected(case: Path) -> None:
    old, new, expected = (read(case / f) for f in ("old.json", "new.json", "expected.json"))
    errors = check_bump(old, new)
    if expected["bumpOk"]:
        assert errors == []
    else:
        assert any(expected["errorContains"] in e for e in errors), errors


@pytest.mark.parametrize(
    "rule",
    [
        "add-optional-field",  # minor
        "widen-enum",  # minor
        "required-to-optional",  # minor
        "add-required-field-unbumped",  # major without a major bump fails
        "add-required-field",  # ... and passes with one
        "remove-required-field",
        "remove-optional-field",
        "optional-to-required",
        "narrow-enum",
        "narrow-enum-major-bump",
        "change-type",
        "change-type-major-bump",
        "narrow-type-list",
        "additional-properties-closed",
        "pattern-added",
        "pattern-removed",
        "format-added",
        "minimum-raised",
        "min-length-removed",
        "description-only",
        "nested-property-removed",
        "items-enum-narrowed",
    ],
)
def test_every_policy_rule_has_a_fixture_pair(rule: str) -> None:
    assert (CASES / rule / "expected.json").is_file()


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_a_packaged_schema_compared_with_itself_needs_no_bump(name: str) -> None:
    schema = load_schema(name)
    assert compare(schema, copy.deepcopy(schema)).changes == ()
    assert check_bump(schema, schema) == []


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_removing_any_property_of_a_packaged_schema_is_breaking(name: str) -> None:
    schema = load_schema(name)
    for prop in schema["properties"]:
        new: dict[str, Any] = copy.deepcopy(schema)
        del new["properties"][prop]
        new["required"] = [r for r in new.get("required", []) if r != prop]
        new["$version"] = "1.99.0"
        report = compare(schema, new)
        assert [(c.path, c.bump) for c in report.breaking] == [(f"$.{prop}", "major")]
        assert check_bump(schema, new), f"removing {prop} from {name} passed a minor bump"


def test_widening_the_job_status_enum_is_minor() -> None:
    job = load_schema("job")
    new = copy.deepcopy(job)
    new["properties"]["status"]["enum"].append("ARCHIVED")
    assert compare(job, new).required_bump == "minor"
    new["$version"] = "1.3.0"
    assert check_bump(job, new) == []


def test_envelope_producer_gaining_a_required_field_needs_a_major_bump() -> None:
    envelope = load_schema("event-envelope")
    new = copy.deepcopy(envelope)
    new["properties"]["producer"]["required"].append("region")
    new["properties"]["producer"]["properties"]["region"] = {"type": "string"}
    new["$version"] = "1.3.0"  # a minor bump only
    (error,) = check_bump(envelope, new)
    assert error.startswith("$.producer.region: required property added is a major change")
    new["$version"] = "2.0.0"
    assert check_bump(envelope, new) == []


@pytest.mark.parametrize(
    ("old", "new", "loosened"),
    [
        ("^[a-z]{1,50}$", "^[a-z]{1,100}$", True),
        ("^[a-z]{2,5}$", "^[a-z]{0,}$", True),
        ("^[a-z]{3}$", "^[a-z]{1,3}$", True),
        ("^[a-z]{1,50}$", "^[a-z]{1,20}$", False),
        ("^[a-z]{1,50}$", "^[a-z0-9]{1,50}$", False),  # not analysed: counted as a change
        ("^x\\{1}$", "^x\\{2}$", False),  # escaped braces are literals, not quantifiers
    ],
)
def test_pattern_loosening_is_only_recognised_for_widened_quantifiers(
    old: str, new: str, loosened: bool
) -> None:
    assert pattern_loosened(old, new) is loosened
