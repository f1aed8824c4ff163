"""Compose and Kubernetes describe the same system with the same pinned images."""

from __future__ import annotations

import re
from typing import Any

from tests.unit.deploy.manifests import REPO, all_images, compose, of_kind

from observatory import __version__

Docs = list[dict[str, Any]]
PINNED = re.compile(r"^(?P<repo>[a-z0-9./_-]+):(?P<tag>[A-Za-z0-9._-]*\d[A-Za-z0-9._-]*)$")


def test_compose_and_kubernetes_declare_the_same_services(rendered: Docs) -> None:
    """Every compose service is a Deployment/StatefulSet and a Service of the same name."""
    services = set(compose("compose.yml")["services"])
    workloads = set(of_kind(rendered, "Deployment", "StatefulSet"))
    assert services == workloads
    assert services == set(of_kind(rendered, "Service"))
    assert set(compose("compose.demo.yml")["services"]) == services


def test_every_image_is_pinned_to_a_version_tag(rendered: Docs) -> None:
    """No `latest`, no tagless image, anywhere: compose, demo, Kubernetes, Dockerfile."""
    images = [s["image"] for s in compose("compose.yml")["services"].values()]
    images += [s["image"] for s in compose("compose.demo.yml")["services"].values()]
    images += list(all_images(rendered).values())
    dockerfile = (REPO / "deploy/docker/Dockerfile").read_text("utf-8")
    images += re.findall(r"^ARG PYTHON_IMAGE=(\S+)$", dockerfile, re.MULTILINE)
    assert len(images) > 30
    unpinned = [i for i in images if not PINNED.match(i) or i.endswith(":latest")]
    assert unpinned == []


def test_compose_and_kubernetes_run_the_same_image_versions(rendered: Docs) -> None:
    """An upgrade happens in both places or the test says which one lags."""
    in_compose = {name: s["image"] for name, s in compose("compose.yml")["services"].items()}
    assert in_compose == all_images(rendered)
    assert in_compose["gateway"] == f"task-observatory:{__version__}"


def test_the_pinned_check_rejects_floating_tags() -> None:
    for floating in ("redis", "redis:latest", "grafana/grafana:main", "mongo:"):
        assert not PINNED.match(floating)
    assert PINNED.match("redis:7.2.6")
