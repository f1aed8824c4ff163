"""Machine tools some tests need (promtool, prometheus, alertmanager, shellcheck): skip on
a laptop without them and say how to install them; with CI=true their absence fails the run."""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
INSTALL_HINT = "apt-get install -y prometheus prometheus-alertmanager"


def need_binary(*names: str, hint: str = INSTALL_HINT) -> str:
    """Path of the first of `names` on PATH; skip (laptop) or fail (CI=true) without it."""
    for name in names:
        path = shutil.which(name)
        if path:
            return path
    message = f"{' or '.join(names)} is not installed ({hint})"
    if IN_CI:
        pytest.fail(f"{message}, and CI=true requires it")
    pytest.skip(message)
