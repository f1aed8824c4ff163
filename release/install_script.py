"""Running install.sh against a release folder, and making a tampered copy of one.

`install` runs the script with pip into a virtualenv made by `artifacts.fresh_venv`, with
`PIP_NO_INDEX=1`: the wheel's dependencies are already visible there, so nothing is
fetched and the user's home is never touched.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from pathlib import Path

from release.artifacts import ROOT, clean_env

SCRIPT = ROOT / "install.sh"


def install(
    url: str, venv: Path, overrides: Mapping[str, str] | None = None, *, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    """install.sh's result for the release at `url`, installing into `venv` with pip;
    `overrides` adds to or replaces its environment (ODTO_VERSION, PATH, ...)."""
    env = clean_env(
        ODTO_RELEASE_URL=url,
        ODTO_INSTALL_DIR=str(venv),
        ODTO_INSTALLER="pip",
        PIP_NO_INDEX="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    env.update(overrides or {})
    return subprocess.run(  # noqa: S603 — our own script, fixed arguments
        ["/bin/sh", str(SCRIPT)],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def tampered_copy(release: Path, into: Path) -> Path:
    """A copy of `release` whose wheel has one byte changed (SHA256SUMS left as it was)."""
    shutil.copytree(release, into)
    (wheel,) = into.glob("*.whl")
    data = bytearray(wheel.read_bytes())
    middle = len(data) // 2
    data[middle] ^= 0x01
    wheel.write_bytes(bytes(data))
    return into
