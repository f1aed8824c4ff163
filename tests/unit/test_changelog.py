"""CHANGELOG.md keeps up with the one version source: the newest released section is the
version the package reports."""

from __future__ import annotations

import re
from pathlib import Path

from observatory import __version__

CHANGELOG = Path(__file__).resolve().parents[2] / "CHANGELOG.md"
HEADING = re.compile(r"^## \[(?P<name>[^\]]+)\](?: - (?P<date>\S+))?$", re.MULTILINE)


def headings() -> list[tuple[str, str | None]]:
    return [(m["name"], m["date"]) for m in HEADING.finditer(CHANGELOG.read_text("utf-8"))]


def test_the_newest_released_section_is_the_package_version() -> None:
    released = [(name, date) for name, date in headings() if name != "Unreleased"]
    assert released, "CHANGELOG.md has no released version"
    name, date = released[0]
    assert name == __version__, (
        f"CHANGELOG.md's newest release is {name}, the package {__version__}"
    )
    assert date is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", date), f"{name} needs a date (YYYY-MM-DD)"


def test_unreleased_changes_come_first() -> None:
    assert headings()[0] == ("Unreleased", None)
