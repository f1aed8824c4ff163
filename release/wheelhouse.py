"""A wheelhouse of the runtime lock: every package `requirements-runtime.lock` pins, as
wheels in one folder, for installers that must not reach an index.

Made once (the only step that talks to the package index; pip's own cache makes a second
run cheap), then uv, uvx and pipx install the built wheel from it with `--no-index`
`--find-links`, so they resolve exactly the locked versions and nothing else. `pip` is in
it too: pipx's pip backend upgrades its shared pip first. The wheels are for the running
interpreter, which the installers are told to use.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from release.artifacts import ROOT, run

RUNTIME_LOCK = ROOT / "requirements-runtime.lock"
DEFAULT_INDEX = "https://pypi.org/simple/"


def make_wheelhouse(folder: Path) -> Path:
    """`folder` filled with the runtime lock's wheels and pip's; AssertionError (with pip's
    output) when pip cannot get them."""
    folder.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip"]
    run([*pip, "wheel", "-q", "-r", RUNTIME_LOCK, "-w", folder], timeout=600)
    run([*pip, "download", "-q", "--no-deps", "-d", folder, "pip"], timeout=300)
    return folder


def index_reachable(timeout: float = 10) -> tuple[bool, str]:
    """Whether pip's index answers at all (PIP_INDEX_URL, else PyPI); (answer, detail)."""
    url = os.environ.get("PIP_INDEX_URL") or DEFAULT_INDEX
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 — pip's index
            return True, f"{url} -> {response.status}"
    except urllib.error.HTTPError as error:
        return True, f"{url} -> {error.code}"  # it answered
    except (OSError, ValueError) as error:
        return False, f"{url}: {error}"
