"""The compatibility checker's command line.

    python -m observatory.core.contracts.compat --base origin/main [--schemas DIR]
    python -m observatory.core.contracts.compat OLD.json NEW.json

With `--base`, every schema in the folder (the packaged schemas by default) is compared
with its copy at that git ref; a schema that is new since the ref is fine, one that
disappeared is an error. Exit status: 0 when every version bump covers its changes, 1 when
one does not, 2 when the check could not run (bad arguments, unknown ref, unreadable file).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from observatory.core.contracts.compat.report import Report
from observatory.core.contracts.compat.rules import VERSION_KEY, compare
from observatory.core.contracts.compat.versions import check_bump


class CheckError(RuntimeError):
    """The check could not run: git failed, a ref is unknown, a file is unreadable."""


@dataclass(slots=True)
class Outcome:
    """What the check found for one schema."""

    name: str
    note: str = ""
    report: Report | None = None
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema": self.name,
            "note": self.note,
            "report": self.report.as_dict() if self.report else None,
            "errors": self.errors,
        }


def packaged_schemas() -> Path:
    """The folder of the schemas shipped with the package."""
    return Path(str(resources.files("observatory.core.contracts").joinpath("schemas")))


def _git(folder: Path, *args: str) -> str:
    git = shutil.which("git")
    if git is None:
        raise CheckError("git is not installed")
    done = subprocess.run(  # noqa: S603 — fixed git arguments, no shell
        [git, "-C", str(folder), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise CheckError(done.stderr.strip() or f"git {' '.join(args)} failed")
    return done.stdout


def _parse(text: str, where: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CheckError(f"{where}: not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise CheckError(f"{where}: a schema must be a JSON object")
    return document


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text("utf-8")
    except OSError as exc:
        raise CheckError(f"{path}: {exc}") from exc
    return _parse(text, str(path))


def compare_documents(name: str, old: dict[str, Any], new: dict[str, Any]) -> Outcome:
    """Compare one schema's two versions and check its version bump."""
    report = compare(old, new)
    note = f"{old.get(VERSION_KEY)} -> {new.get(VERSION_KEY)}, needs {report.required_bump}"
    return Outcome(name, note, report, check_bump(old, new, report))


def check_against_ref(folder: Path, ref: str) -> list[Outcome]:
    """Compare every schema in `folder` with its copy at git `ref`."""
    try:
        _git(folder, "rev-parse", "--verify", f"{ref}^{{commit}}")
    except CheckError as exc:
        raise CheckError(f"cannot resolve git ref {ref!r} in {folder}: {exc}") from exc
    listed = _git(folder, "ls-tree", "-z", "--name-only", ref).split("\0")
    before = {name for name in listed if name.endswith(".json")}
    now = sorted(path.name for path in folder.glob("*.json"))
    outcomes = []
    for name in now:
        new = _read(folder / name)
        if name not in before:
            outcomes.append(Outcome(name, f"new since {ref} ({new.get(VERSION_KEY)})"))
            continue
        old = _parse(_git(folder, "show", f"{ref}:./{name}"), f"{name} at {ref}")
        outcomes.append(compare_documents(name, old, new))
    for name in sorted(before - set(now)):
        message = f"removed since {ref}: deleting a contract breaks its consumers"
        outcomes.append(Outcome(name, "removed", errors=[message]))
    return outcomes


def _print(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        status = "FAIL" if outcome.errors else "ok"
        print(f"{outcome.name}: {outcome.note}: {status}")
        for change in outcome.report.changes if outcome.report else ():
            print(f"    {change}")
        for error in outcome.errors:
            print(f"  error: {error}")


def _arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m observatory.core.contracts.compat",
        description="Fail when a JSON Schema changes without a big enough $version bump.",
    )
    parser.add_argument(
        "files", nargs="*", metavar="FILE", help="OLD.json NEW.json: compare two files"
    )
    parser.add_argument("--base", metavar="REF", help="compare the schemas with this git ref")
    parser.add_argument("--schemas", type=Path, help="schema folder (default: the packaged one)")
    parser.add_argument("--json", action="store_true", help="print the outcomes as JSON")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = _arguments()
    args = parser.parse_args(argv)
    if (args.base is None) == (len(args.files) == 0) or len(args.files) not in (0, 2):
        parser.error("give either --base REF or two files OLD NEW")
    try:
        if args.base is not None:
            outcomes = check_against_ref(args.schemas or packaged_schemas(), args.base)
        else:
            old_path, new_path = Path(args.files[0]), Path(args.files[1])
            outcomes = [compare_documents(new_path.name, _read(old_path), _read(new_path))]
    except CheckError as exc:
        print(f"compat: cannot check: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps([o.as_dict() for o in outcomes], indent=2, ensure_ascii=False))
    else:
        _print(outcomes)
    failed = [o.name for o in outcomes if o.errors]
    if failed:
        message = f"compat: {len(failed)} schema(s) changed without a big enough bump: {failed}"
        print(message, file=sys.stderr)
        return 1
    return 0
