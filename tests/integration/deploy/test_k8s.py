"""The kind overlay as kustomize renders it: valid Kubernetes, locked down, complete."""

from __future__ import annotations

import copy
from typing import Any

import kubernetes_validate
import pytest
import yaml
from tests.unit.deploy.manifests import (
    DEPLOY,
    OVERLAY,
    REPO,
    SERVICES,
    containers,
    env_keys,
    of_kind,
)

from observatory import __version__
from observatory.core.settings import DEFAULT_PORTS
from observatory.interfaces.cli.cluster_steps import FORWARDS

Docs = list[dict[str, Any]]
NAMESPACE = "task-observatory"
KUBERNETES = "1.31"  # kind's node images of the last year; the manifests use only GA APIs
SECRET_WORDS = ("PASSWORD", "TOKEN", "SECRET", "_PASS")


def test_rendered_manifests_validate_against_the_kubernetes_schemas(rendered: Docs) -> None:
    """Every object is valid (strict: no unknown fields) for Kubernetes 1.31."""
    problems = []
    for doc in rendered:
        try:
            kubernetes_validate.validate(doc, KUBERNETES, strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    assert problems == []


def test_the_schema_check_rejects_a_misspelt_field(rendered: Docs) -> None:
    """The strict schema check can fail: a typo in a probe is an error."""
    gateway = copy.deepcopy(of_kind(rendered, "Deployment")["gateway"])
    gateway["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGt"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(gateway, KUBERNETES, strict=True)


def test_everything_lives_in_the_task_observatory_namespace(rendered: Docs) -> None:
    namespaced = [d for d in rendered if d["kind"] != "Namespace"]
    assert {d["metadata"].get("namespace") for d in namespaced} == {NAMESPACE}
    assert [d["metadata"]["name"] for d in rendered if d["kind"] == "Namespace"] == [NAMESPACE]


def test_services_have_probes_on_their_port_and_a_locked_down_context(rendered: Docs) -> None:
    """Each of the five: readiness /readyz, liveness /healthz, non-root, read-only root."""
    deployments = of_kind(rendered, "Deployment")
    for name in SERVICES:
        pod = deployments[name]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["args"] == ["serve", name]
        assert container["ports"] == [{"name": "http", "containerPort": DEFAULT_PORTS[name]}]
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] != 0
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["readOnlyRootFilesystem"] is True
        assert context["capabilities"]["drop"] == ["ALL"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["ODTO_HOST"] == "0.0.0.0"
        for url in ("RABBITMQ_URL", "POSTGRES_URL", "REDIS_URL", "EVENT_STORE_URL"):
            assert env[url], f"{name} has no {url}"


def test_every_container_has_requests_and_limits_and_runs_non_root(rendered: Docs) -> None:
    for name, workload in of_kind(rendered, "Deployment", "StatefulSet").items():
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        for container in containers(workload):
            resources = container["resources"]
            assert {"cpu", "memory"} <= resources["requests"].keys(), name
            assert {"cpu", "memory"} <= resources["limits"].keys(), name
            assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
            assert container.get("readinessProbe"), f"{name} has no readiness probe"
            assert container.get("livenessProbe"), f"{name} has no liveness probe"


def test_backends_keep_their_data_on_volume_claims(rendered: Docs) -> None:
    """PostgreSQL, MongoDB and RabbitMQ (and Redis, Prometheus) are StatefulSets with PVCs."""
    statefulsets = of_kind(rendered, "StatefulSet")
    for name in ("postgres", "mongodb", "rabbitmq", "redis", "prometheus"):
        spec = statefulsets[name]["spec"]
        claims = [c["metadata"]["name"] for c in spec["volumeClaimTemplates"]]
        mounts = [m["name"] for m in spec["template"]["spec"]["containers"][0]["volumeMounts"]]
        assert claims
        assert set(claims) <= set(mounts), name


def test_credentials_come_only_from_the_generated_secret(rendered: Docs) -> None:
    """Every secret-looking variable is a secretKeyRef into the overlay's Secret, by a key the
    example env file declares; no plain value carries a credential."""
    (secret,) = [d for d in rendered if d["kind"] == "Secret"]
    example = env_keys(REPO / OVERLAY / "secrets.env.example")
    assert set(secret["data"]) == set(example)
    for name, workload in of_kind(rendered, "Deployment", "StatefulSet").items():
        for container in containers(workload):
            for variable in container.get("env", []):
                ref = variable.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    assert ref["name"] == secret["metadata"]["name"], (name, variable)
                    assert ref["key"] in example, (name, variable)
                elif any(word in variable["name"] for word in SECRET_WORDS):
                    pytest.fail(f"{name}: {variable['name']} is a plain value, not a Secret")
                else:
                    value = variable.get("value", "")
                    assert "@" not in value or ":$(" in value, (name, variable)


def test_configmaps_carry_the_repository_files_verbatim(rendered: Docs) -> None:
    """Prometheus, Alertmanager, Grafana and pgAdmin get the very files compose mounts; no
    dashboard or rules file of the repository is left out."""
    maps = {
        d["metadata"]["name"].rsplit("-", 1)[0]: d["data"]
        for d in rendered
        if d["kind"] == "ConfigMap"
    }
    expected = {
        "prometheus-config": [DEPLOY / "prometheus/prometheus.yml"],
        "prometheus-rules": sorted((DEPLOY / "prometheus/rules").glob("*.yml")),
        "alertmanager-config": [DEPLOY / "alertmanager/alertmanager.yml"],
        "grafana-datasources": sorted((DEPLOY / "grafana/provisioning/datasources").glob("*.yml")),
        "grafana-dashboard-providers": sorted(
            (DEPLOY / "grafana/provisioning/dashboards").glob("*.yml")
        ),
        "grafana-dashboards": sorted((DEPLOY / "grafana/dashboards").glob("*.json")),
        "pgadmin-servers": [DEPLOY / "pgadmin/servers.json"],
    }
    for name, files in expected.items():
        assert files, name
        assert maps[name] == {f.name: f.read_text("utf-8") for f in files}, name


def test_mounted_configmaps_and_secrets_exist(rendered: Docs) -> None:
    names = {d["metadata"]["name"] for d in rendered if d["kind"] in {"ConfigMap", "Secret"}}
    for workload in of_kind(rendered, "Deployment", "StatefulSet").values():
        for volume in workload["spec"]["template"]["spec"].get("volumes", []):
            if "configMap" in volume:
                assert volume["configMap"]["name"] in names


def test_kind_overlay_runs_two_processors_on_the_package_image(rendered: Docs) -> None:
    deployments = of_kind(rendered, "Deployment")
    assert deployments["processor"]["spec"]["replicas"] == 2
    for name in SERVICES:
        template = deployments[name]["spec"]["template"]
        assert template["spec"]["containers"][0]["image"] == f"task-observatory:{__version__}"
        assert template["metadata"]["labels"]["app.kubernetes.io/version"] == __version__


def test_ingress_serves_the_web_dashboard(rendered: Docs) -> None:
    (ingress,) = [d for d in rendered if d["kind"] == "Ingress"]
    backends = [
        path["backend"]["service"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    ]
    assert backends == [{"name": "web", "port": {"name": "http"}}]


def test_port_forwards_of_odto_cluster_target_existing_service_ports(rendered: Docs) -> None:
    """Each registry entry `odto cluster up` forwards points at a Service port that exists."""
    services = of_kind(rendered, "Service")
    for entry, (service, port) in FORWARDS.items():
        ports = {p["port"] for p in services[service]["spec"]["ports"]}
        assert port in ports, f"{entry}: svc/{service} has no port {port}"


def test_every_grafana_dashboard_and_rules_file_is_listed_in_a_kustomization() -> None:
    """A new file under deploy/grafana/dashboards or prometheus/rules must be packed too."""
    for folder, pattern in (("grafana", "dashboards/*.json"), ("prometheus", "rules/*.yml")):
        kustomization = yaml.safe_load((DEPLOY / folder / "kustomization.yaml").read_text("utf-8"))
        listed = {f for g in kustomization["configMapGenerator"] for f in g["files"]}
        present = {str(p.relative_to(DEPLOY / folder)) for p in (DEPLOY / folder).glob(pattern)}
        assert present <= listed, present - listed
