"""Reading the deployment files the way Docker Compose and kustomize do, for the tests.

`compose(name)` loads a compose file (YAML anchors and merge keys resolved, as Compose
does); `of_kind`, `containers` and `all_images` pick apart rendered Kubernetes documents
(tests/integration/deploy/kustomize.py renders them). Pure file reading: no subprocess.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[3]
DEPLOY = REPO / "deploy"
COMPOSE_DIR = DEPLOY / "compose"
OVERLAY = Path("deploy/k8s/overlays/kind")
SERVICES = ("gateway", "processor", "metrics-engine", "read-model", "web")


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
