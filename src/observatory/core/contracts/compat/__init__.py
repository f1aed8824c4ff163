"""Schema compatibility: compare two versions of a JSON Schema for real.

`compare(old, new)` classifies every difference (patch, minor or major; see `rules`);
`check_bump(old, new)` says why the new `$version` does not cover them. The command line
(`python -m observatory.core.contracts.compat`) checks the packaged schemas against a git
ref, or compares two files; see `cli`.
"""

from observatory.core.contracts.compat.report import BUMP_ORDER, Bump, Change, Report
from observatory.core.contracts.compat.rules import compare
from observatory.core.contracts.compat.versions import check_bump, parse_version

__all__ = ["BUMP_ORDER", "Bump", "Change", "Report", "check_bump", "compare", "parse_version"]
