"""Every health route the deployments probe exists and answers 200 on a running system."""

from __future__ import annotations

import httpx
import pytest
import yaml
from tests.system import RunningSystem
from tests.unit.deploy.manifests import DEPLOY, SERVICES, compose
from tests.unit.deploy.test_healthcheck import healthcheck


def kubernetes_probes() -> set[tuple[str, str]]:
    """(service, path) of every HTTP probe of the five Deployments in the base."""
    probes = set()
    for name in SERVICES:
        for doc in yaml.safe_load_all((DEPLOY / f"k8s/base/services/{name}.yaml").read_text()):
            if doc["kind"] != "Deployment":
                continue
            for container in doc["spec"]["template"]["spec"]["containers"]:
                for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                    if probe in container:
                        probes.add((name, container[probe]["httpGet"]["path"]))
    return probes


def compose_probes() -> set[tuple[str, str]]:
    probes = set()
    for name in SERVICES:
        test = compose("compose.yml")["services"][name]["healthcheck"]["test"]
        probes.add((name, test[test.index("--path") + 1] if "--path" in test else "/healthz"))
    return probes


def test_every_probed_route_answers_200(system: RunningSystem) -> None:
    """Kubernetes probes, compose health checks and `odto cluster` verify all hit live routes."""
    probes = (
        kubernetes_probes()
        | compose_probes()
        | {("gateway", "/healthz"), ("read-model", "/health")}
    )
    assert len(probes) >= 10
    with httpx.Client(timeout=10) as client:
        for service, path in sorted(probes):
            response = client.get(system.url(service) + path)
            assert response.status_code == 200, f"{service} {path}: {response.status_code}"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_the_image_health_check_passes_against_each_service(
    system: RunningSystem, path: str
) -> None:
    """odto-healthcheck, pointed at each running service by name and port, reports healthy."""
    module = healthcheck()
    for service in SERVICES:
        env = {
            "ODTO_SERVICE": service,
            f"{service.upper().replace('-', '_')}_PORT": str(system.ports[service]),
        }
        assert module.main(["--path", path], env=env) == 0, service
