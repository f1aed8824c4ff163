"""The kind-rabbitmq-cluster overlay as kustomize renders it: the kind deployment with a
three-node RabbitMQ cluster (classic-config peer discovery over a headless Service, the
Erlang cookie from the Secret) and the services on quorum queues with every node's URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from tests.integration.deploy import test_k8s
from tests.integration.deploy.kustomize import render_overlay
from tests.unit.deploy.manifests import SERVICES, containers, of_kind
from yarl import URL

from observatory.core.bus.amqp_wire import nodes_of

Docs = list[dict[str, Any]]
CLUSTER_OVERLAY = Path("deploy/k8s/overlays/kind-rabbitmq-cluster")
NODES = [f"rabbitmq-{i}" for i in range(3)]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Docs:
    return render_overlay(tmp_path_factory.mktemp("kustomize-cluster"), CLUSTER_OVERLAY)


def env_of(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {variable["name"]: variable for variable in container.get("env", [])}


def test_the_cluster_overlay_validates_and_keeps_the_kind_rules(cluster: Docs) -> None:
    """Strict Kubernetes schemas, one namespace, credentials only from the Secret, data on
    volume claims: the kind overlay's own checks hold for this one too."""
    test_k8s.test_rendered_manifests_validate_against_the_kubernetes_schemas(cluster)
    test_k8s.test_everything_lives_in_the_task_observatory_namespace(cluster)
    test_k8s.test_credentials_come_only_from_the_generated_secret(cluster)
    test_k8s.test_mounted_configmaps_and_secrets_exist(cluster)
    test_k8s.test_every_container_has_requests_and_limits_and_runs_non_root(cluster)


def test_rabbitmq_is_three_nodes_named_under_a_headless_service(cluster: Docs) -> None:
    rabbit = of_kind(cluster, "StatefulSet")["rabbitmq"]
    assert rabbit["spec"]["replicas"] == 3
    headless = of_kind(cluster, "Service")[rabbit["spec"]["serviceName"]]
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True
    assert {p["port"] for p in headless["spec"]["ports"]} >= {4369, 25672, 5672}
    (container,) = containers(rabbit)
    env = env_of(container)
    # rabbit@<hostname -f>, the pod's name under the headless Service
    assert env["RABBITMQ_USE_LONGNAME"]["value"] == "true"
    assert "RABBITMQ_NODENAME" not in env
    domain = f"{headless['metadata']['name']}.task-observatory.svc.cluster.local"
    (secret,) = of_kind(cluster, "Secret").values()
    assert env["RABBITMQ_ERLANG_COOKIE"]["valueFrom"]["secretKeyRef"] == {
        "name": secret["metadata"]["name"],
        "key": "RABBITMQ_ERLANG_COOKIE",
    }
    assert secret["data"]["RABBITMQ_ERLANG_COOKIE"]  # generated, never empty

    config = of_kind(cluster, "ConfigMap")["rabbitmq-cluster-config"]["data"]["cluster.conf"]
    assert "cluster_formation.peer_discovery_backend = classic_config" in config
    for index, node in enumerate(NODES, start=1):
        assert f"classic_config.nodes.{index} = rabbit@{node}.{domain}" in config
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["cluster-config"].startswith("/etc/rabbitmq/conf.d/")


def test_every_service_uses_quorum_queues_on_all_three_nodes(cluster: Docs) -> None:
    deployments = of_kind(cluster, "Deployment")
    for name in SERVICES:
        (container,) = [c for c in containers(deployments[name]) if c["name"] == "observatory"]
        env = env_of(container)
        assert env["ODTO_QUEUE_TYPE"]["value"] == "quorum", name
        url = env["RABBITMQ_URL"]["value"]
        first, nodes = nodes_of(url)  # what the services parse it with
        assert [host for host, _ in nodes] == [f"{n}.rabbitmq-nodes" for n in NODES], name
        assert URL(str(first)).password == "$(RABBITMQ_PASSWORD)", name
        names = list(env)
        assert names.index("RABBITMQ_PASSWORD") < names.index("RABBITMQ_URL"), name
