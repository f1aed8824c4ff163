"""Every schema carries $id and a SemVer $version, and VERSIONS.md states them exactly."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from observatory.core.contracts.compat import parse_version
from observatory.core.contracts.validator import SCHEMA_NAMES

PACKAGE = resources.files("observatory.core.contracts")
SCHEMA_DIR = Path(str(PACKAGE.joinpath("schemas")))
SCHEMA_FILES = sorted(SCHEMA_DIR.glob("*.json"))
VERSIONS = PACKAGE.joinpath("VERSIONS.md").read_text("utf-8")


def read(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return document


def test_schema_files_are_exactly_the_validator_names() -> None:
    assert sorted(p.stem for p in SCHEMA_FILES) == sorted(SCHEMA_NAMES)


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.stem)
def test_schema_has_id_semver_version_and_is_valid_draft_07(path: Path) -> None:
    schema = read(path)
    assert schema["$id"].endswith(f"/{path.name}")
    assert parse_version(schema["$version"]) is not None, schema["$version"]
    jsonschema.Draft7Validator.check_schema(schema)


def test_schema_ids_are_unique() -> None:
    ids = [read(p)["$id"] for p in SCHEMA_FILES]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("path", SCHEMA_FILES, ids=lambda p: p.stem)
def test_versions_md_lists_the_schema_with_its_exact_version(path: Path) -> None:
    version = read(path)["$version"]
    row = re.compile(
        rf"^\| {re.escape(path.stem)} \| `schemas/{re.escape(path.name)}` \| `([^`]+)` \|",
        re.MULTILINE,
    )
    listed = row.findall(VERSIONS)
    assert listed == [version], (
        f"VERSIONS.md lists {path.name} as {listed}, the file says {version}"
    )


def test_versions_md_lists_the_registry_data_version() -> None:
    registry = json.loads(PACKAGE.joinpath("ui-registry.json").read_text("utf-8"))
    assert (
        f"| `ui-registry.json` | `registryVersion` | `{registry['registryVersion']}` |" in VERSIONS
    )


def test_versions_md_has_a_changelog_line_for_every_current_version() -> None:
    for path in SCHEMA_FILES:
        assert f"- {path.stem} `{read(path)['$version']}` —" in VERSIONS
