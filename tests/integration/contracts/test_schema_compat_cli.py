"""`python -m observatory.core.contracts.compat` run for real against a temporary git repo."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCHEMA: dict[str, Any] = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "$id": "https://task-observatory.local/schemas/thing.json",
    "$version": "1.0.0",
    "type": "object",
    "required": ["id", "status"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "status": {"type": "string", "enum": ["PENDING", "RUNNING", "DONE"]},
    },
}
GIT_ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, env=GIT_ENV, capture_output=True)


def compat(*args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "observatory.core.contracts.compat", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def write(path: Path, schema: dict[str, Any]) -> None:
    path.write_text(json.dumps(schema, indent=2), "utf-8")


@pytest.fixture
def schemas(tmp_path: Path) -> Path:
    """A git repo whose first commit holds schemas/thing.json at 1.0.0."""
    folder = tmp_path / "repo" / "schemas"
    folder.mkdir(parents=True)
    write(folder / "thing.json", SCHEMA)
    git(folder.parent, "init", "-q")
    git(folder.parent, "add", ".")
    git(folder.parent, "commit", "-q", "-m", "thing 1.0.0")
    return folder


def narrowed(version: str) -> dict[str, Any]:
    properties = {**SCHEMA["properties"], "status": {"type": "string", "enum": ["PENDING"]}}
    return {**SCHEMA, "$version": version, "properties": properties}


def test_breaking_change_without_major_bump_exits_1(schemas: Path) -> None:
    write(schemas / "thing.json", narrowed("1.1.0"))
    done = compat("--base", "HEAD", "--schemas", str(schemas))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "$.status: enum narrowed" in done.stdout
    assert "is a major change, but $version 1.0.0 -> 1.1.0 is only a minor bump" in done.stdout
    assert "thing.json" in done.stderr


def test_breaking_change_with_major_bump_exits_0(schemas: Path) -> None:
    write(schemas / "thing.json", narrowed("2.0.0"))
    done = compat("--base", "HEAD", "--schemas", str(schemas))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "thing.json: 1.0.0 -> 2.0.0, needs major: ok" in done.stdout


def test_new_schema_since_the_ref_is_fine_and_a_deleted_one_is_not(schemas: Path) -> None:
    write(schemas / "other.json", {**SCHEMA, "$id": "https://task-observatory.local/o.json"})
    done = compat("--base", "HEAD", "--schemas", str(schemas), "--json")
    assert done.returncode == 0, done.stdout + done.stderr
    outcomes = {o["schema"]: o for o in json.loads(done.stdout)}
    assert outcomes["other.json"]["note"] == "new since HEAD (1.0.0)"
    assert outcomes["thing.json"]["report"]["requiredBump"] == "none"

    (schemas / "thing.json").unlink()
    done = compat("--base", "HEAD", "--schemas", str(schemas))
    assert done.returncode == 1
    assert "removed since HEAD" in done.stdout


def test_unknown_ref_exits_2_with_a_reason(schemas: Path) -> None:
    done = compat("--base", "no-such-branch", "--schemas", str(schemas))
    assert done.returncode == 2
    assert "cannot resolve git ref 'no-such-branch'" in done.stderr


def test_two_files_are_compared_directly(tmp_path: Path) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    write(old, SCHEMA)
    write(new, {**SCHEMA, "$version": "1.0.1", "required": ["id"]})
    done = compat(str(old), str(new))
    assert done.returncode == 1
    assert "$.status: required property became optional is a minor change" in done.stdout
    write(new, {**SCHEMA, "$version": "1.1.0", "required": ["id"]})
    assert compat(str(old), str(new)).returncode == 0


def test_packaged_schemas_are_checked_by_default() -> None:
    # No --schemas: the packaged folder, compared with HEAD of this checkout.
    done = compat("--base", "HEAD")
    assert done.returncode in (0, 1), done.stderr
    for name in ("event-envelope", "job", "job-accepted", "dead-letter", "ui-registry"):
        assert f"{name}.json:" in done.stdout
