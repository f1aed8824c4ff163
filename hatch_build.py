"""Hatchling build hook: records in each wheel and sdist which commit it was built from.

The record is `observatory/_build_info.py` (`src/observatory/_build_info.py` in an sdist):
the commit, its time and the builder. It is written to a temporary folder and added to
the artifact, never into the source tree, so a checkout keeps asking git about its own
HEAD. The time is SOURCE_DATE_EPOCH when set, else the commit's own time: never the
clock, so two builds of one commit are byte for byte the same. A wheel built from an
sdist (no git there) carries the sdist's record on. An editable install records nothing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hatchling.__about__ import __version__ as hatchling_version
from hatchling.builders.config import BuilderConfig
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

IN_SDIST = "src/observatory/_build_info.py"
IN_WHEEL = "observatory/_build_info.py"
UNKNOWN = "unknown"


def git(root: Path, *args: str) -> str | None:
    """git's stripped output for `args` run in `root`, or None when it failed or said nothing."""
    try:
        done = subprocess.run(  # noqa: S603 — fixed git arguments, no shell
            ["git", "-C", str(root), *args],  # noqa: S607 — git is whichever one the builder's PATH has
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    out = done.stdout.strip()
    return out if done.returncode == 0 and out else None


def in_own_checkout(root: Path) -> bool:
    """True when `root` is the top of a git checkout (not a folder inside someone else's)."""
    top = git(root, "rev-parse", "--show-toplevel")
    return top is not None and Path(top).resolve() == root.resolve()


def built_at(source_date_epoch: str | None, commit_epoch: str | None) -> str:
    """SOURCE_DATE_EPOCH if given, else the commit's time, as UTC; never the build's clock."""
    epoch = source_date_epoch or commit_epoch
    if not epoch:
        return UNKNOWN
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def record_text(commit: str, built: str, builder: str) -> str:
    """The generated module; `observatory.interfaces.buildinfo` reads these three names."""
    return (
        '"""Written by hatch_build.py when this package was built; not kept in git."""\n'
        "\n"
        f"COMMIT = {commit!r}\n"
        f"BUILT = {built!r}\n"
        f"BUILDER = {builder!r}\n"
    )


class BuildInfoHook(BuildHookInterface[BuilderConfig]):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        root = Path(self.root)
        target = IN_SDIST if self.target_name == "sdist" else IN_WHEEL
        carried = root / IN_SDIST
        checkout = in_own_checkout(root)
        if not checkout and carried.is_file():
            # Building from an unpacked sdist: its record names the commit it came from.
            build_data["force_include"][str(carried)] = target
            return
        commit = git(root, "rev-parse", "HEAD") if checkout else None
        commit_epoch = git(root, "log", "-1", "--format=%ct") if checkout else None
        self._folder = tempfile.mkdtemp(prefix="odto-build-info-")
        generated = Path(self._folder) / "_build_info.py"
        generated.write_text(
            record_text(
                commit or UNKNOWN,
                built_at(os.environ.get("SOURCE_DATE_EPOCH"), commit_epoch),
                f"hatchling {hatchling_version}",
            ),
            "utf-8",
        )
        build_data["force_include"][str(generated)] = target

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        folder = getattr(self, "_folder", None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
