"""What this installation knows about itself: the block `odto version` and
`odd-dashboard --version` both print.

A wheel or sdist carries `observatory/_build_info.py`, written by the build hook
(`hatch_build.py` at the repository root): the commit, its time and the builder. A source
checkout has no such file; there the commit comes from git at run time. Anything unknown
prints as "unknown".
"""

from __future__ import annotations

import importlib
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from observatory.__about__ import __version__

RECORD_MODULE = "observatory._build_info"
UNKNOWN = "unknown"
FROM_SOURCE = "not built: running from a source checkout"
ABOUT = Path(__file__).parents[1] / "__about__.py"
"""A file every checkout tracks: git is asked about the checkout that holds it."""

Runner = Callable[[list[str]], str | None]
"""Runs a command; its stripped stdout, or None when it failed."""


def run_quiet(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=3, check=False)  # noqa: S603 — callers pass git or a found tool with fixed flags, no shell
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


@dataclass(frozen=True, slots=True)
class BuildRecord:
    """What the build hook wrote: full commit hash, commit time (UTC, ISO) and builder."""

    commit: str
    built: str
    builder: str


@dataclass(frozen=True, slots=True)
class BuildInfo:
    version: str
    commit: str
    built: str
    python: str
    platform: str

    def render(self) -> str:
        return "\n".join(
            (
                f"task-observatory {self.version}",
                f"  commit:    {self.commit}",
                f"  built:     {self.built}",
                f"  python:    {self.python}",
                f"  platform:  {self.platform}",
            )
        )


def read_record(module: str = RECORD_MODULE) -> BuildRecord | None:
    """The build hook's record, or None when this is not a built package."""
    try:
        loaded = importlib.import_module(module)
    except ImportError:
        return None
    fields = [getattr(loaded, name, None) for name in ("COMMIT", "BUILT", "BUILDER")]
    if not all(isinstance(value, str) and value for value in fields):
        return None
    commit, built, builder = (str(value) for value in fields)
    return BuildRecord(commit=commit, built=built, builder=builder)


def git_commit(source: Path = ABOUT, run: Runner = run_quiet) -> str | None:
    """The HEAD commit when `source` is a file tracked in a git checkout."""
    folder = str(source.parent)
    if run(["git", "-C", folder, "ls-files", "--error-unmatch", source.name]) is None:
        return None
    return run(["git", "-C", folder, "rev-parse", "HEAD"]) or None


def build_info(
    record: BuildRecord | None, ask_git: Callable[[], str | None] = git_commit
) -> BuildInfo:
    """The block's contents: the build's record if there is one, else what git says."""
    if record is not None:
        commit, built = record.commit, f"{record.built} by {record.builder}"
    else:
        commit = ask_git() or UNKNOWN
        built = FROM_SOURCE if commit != UNKNOWN else UNKNOWN
    return BuildInfo(
        version=__version__,
        commit=commit,
        built=built,
        python=f"{platform.python_version()} ({platform.python_implementation()})",
        platform=f"{sys.platform}-{platform.machine() or UNKNOWN}",
    )


def version_block() -> str:
    """What `odto version` and `odd-dashboard --version` print."""
    return build_info(read_record()).render()
