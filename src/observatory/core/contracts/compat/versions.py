"""Does a schema's `$version` move far enough for what changed in it?

The bump between two SemVer versions is the highest part that grew (a major bump may
reset minor and patch). A change needing a major bump with only a minor one, or a minor
change with only a patch, is an error, as is a version that goes backwards.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from observatory.core.contracts.compat.report import Bump, Report, bump_rank
from observatory.core.contracts.compat.rules import VERSION_KEY, compare

SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?\Z",
    re.ASCII,
)


def parse_version(text: object) -> tuple[int, int, int] | None:
    """(major, minor, patch) of a SemVer string; None when it is not one."""
    match = SEMVER.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    return int(match.group(1)), int(match.group(2)), int(match.group(3))


def version_bump(old: tuple[int, int, int], new: tuple[int, int, int]) -> Bump | None:
    """The bump from `old` to `new`; None when `new` is lower."""
    if new < old:
        return None
    if new == old:
        return "none"
    if new[0] > old[0]:
        return "major"
    if new[1] > old[1]:
        return "minor"
    return "patch"


def _describe(bump: Bump) -> str:
    return "no bump" if bump == "none" else f"only a {bump} bump"


def check_bump(
    old: Mapping[str, Any], new: Mapping[str, Any], report: Report | None = None
) -> list[str]:
    """Why `new`'s $version does not cover its changes from `old`; empty when it does."""
    was, now = old.get(VERSION_KEY), new.get(VERSION_KEY)
    old_version, new_version = parse_version(was), parse_version(now)
    errors = [
        f"{label} $version {value!r} is not SemVer (MAJOR.MINOR.PATCH)"
        for label, value, parsed in (("old", was, old_version), ("new", now, new_version))
        if parsed is None
    ]
    if old_version is None or new_version is None:
        return errors
    actual = version_bump(old_version, new_version)
    if actual is None:
        return [f"$version went backwards: {was} -> {now}"]
    report = report if report is not None else compare(old, new)
    return [
        f"{change.path}: {change.message} is a {change.bump} change, "
        f"but $version {was} -> {now} is {_describe(actual)}"
        for change in report.changes
        if bump_rank(change.bump) > bump_rank(actual)
    ]
