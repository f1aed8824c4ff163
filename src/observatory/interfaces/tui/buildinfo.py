"""Version, git commit, build time and Python version for `odd-dashboard --version`.

A release build writes `build-info.json` beside this module (run this module:
`python -m observatory.interfaces.tui.buildinfo`). Without it, a source checkout asks git
for the commit; anything unknown prints as "unknown".
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from observatory.__about__ import __version__

BUILD_INFO = Path(__file__).with_name("build-info.json")
UNKNOWN = "unknown"

Runner = Callable[[list[str]], str | None]
"""Runs a command; its stripped stdout, or None when it failed."""


def run_quiet(argv: list[str]) -> str | None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=3, check=False)  # noqa: S603 — callers pass git or a found tool with fixed flags, no shell
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


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
                f"odd-dashboard {self.version}",
                f"  commit:  {self.commit}",
                f"  built:   {self.built}",
                f"  python:  {self.python}",
                f"  os:      {self.platform}",
            )
        )


def git_commit(source: Path = Path(__file__), run: Runner = run_quiet) -> str | None:
    """The short HEAD commit when `source` is a file tracked in a git checkout."""
    folder = str(source.parent)
    if run(["git", "-C", folder, "ls-files", "--error-unmatch", source.name]) is None:
        return None
    return run(["git", "-C", folder, "rev-parse", "--short", "HEAD"]) or None


def build_info(info_file: Path = BUILD_INFO, run: Runner = run_quiet) -> BuildInfo:
    """What this installation knows about itself."""
    recorded: dict[str, str] = {}
    try:
        loaded = json.loads(info_file.read_text("utf-8"))
        if isinstance(loaded, dict):
            recorded = {str(k): str(v) for k, v in loaded.items()}
    except (OSError, ValueError):
        pass
    commit = recorded.get("commit") or git_commit(run=run) or UNKNOWN
    return BuildInfo(
        version=__version__,
        commit=commit,
        built=recorded.get("built") or UNKNOWN,
        python=f"{platform.python_version()} ({platform.python_implementation()})",
        platform=f"{sys.platform}-{platform.machine() or UNKNOWN}",
    )


def write_build_info(info_file: Path = BUILD_INFO, run: Runner = run_quiet) -> dict[str, str]:
    """Record the commit and the build time (UTC) for installs made from this checkout."""
    record = {
        "commit": git_commit(run=run) or UNKNOWN,
        "built": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    info_file.write_text(json.dumps(record) + "\n", "utf-8")
    return record


if __name__ == "__main__":
    print(write_build_info())
