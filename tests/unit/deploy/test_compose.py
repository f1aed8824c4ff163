"""The compose stack and its demo variant: valid, complete, healthy-ordered, no secrets."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from tests.unit.deploy.manifests import COMPOSE_DIR, REPO, SERVICES, compose, env_keys

from observatory import __version__
from observatory.core.contracts.registry import load_registry
from observatory.interfaces.cli.cluster_steps import FORWARDS

SCHEMA = REPO / "tests/fixtures/schemas/compose-spec.json"
FILES = ("compose.yml", "compose.demo.yml")
OPTIONAL_VARIABLES = {"ODTO_API_TOKEN", "ODTO_TOKENS"}  # `${VAR:-}`: empty = no auth
DATA = {
    "postgres": "/var/lib/postgresql/data",
    "mongodb": "/data/db",
    "rabbitmq": "/var/lib/rabbitmq",
    "redis": "/data",
    "prometheus": "/prometheus",
    "grafana": "/var/lib/grafana",
}


@pytest.mark.parametrize("name", FILES)
def test_compose_file_validates_against_the_compose_specification(name: str) -> None:
    """Both files are valid Compose documents (schema vendored from check-jsonschema)."""
    schema = json.loads(SCHEMA.read_text("utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(compose(name))]
    assert errors == []


def test_the_schema_check_rejects_a_broken_file() -> None:
    """The schema check can fail: an unknown service key and a bad port list are errors."""
    broken = copy.deepcopy(compose("compose.yml"))
    broken["services"]["gateway"]["prots"] = ["3000:3000"]
    broken["services"]["web"]["ports"] = "8081"
    schema = json.loads(SCHEMA.read_text("utf-8"))
    assert len(list(jsonschema.Draft202012Validator(schema).iter_errors(broken))) >= 2


@pytest.mark.parametrize("name", FILES)
def test_every_variable_is_required_and_listed_in_the_env_example(name: str) -> None:
    """Credentials have no defaults: each `${VAR}` is `${VAR:?...}`, and .env.example lists it."""
    lines = (COMPOSE_DIR / name).read_text("utf-8").splitlines()
    text = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    references = re.findall(r"\$\{([A-Z0-9_]+)(:?[?-])?([^}]*)\}", text)
    example = env_keys(COMPOSE_DIR / ".env.example")
    for variable, operator, _ in references:
        if variable in OPTIONAL_VARIABLES:
            assert operator == ":-", variable
        else:
            assert operator == ":?", f"${{{variable}}} must be required (`:?`), not defaulted"
        assert variable in example, f"{variable} is missing from deploy/compose/.env.example"
    assert {v for v, _, _ in references} == set(example)


def test_env_example_holds_no_password() -> None:
    """The committed example leaves every password empty (make_env.py fills them)."""
    example = env_keys(COMPOSE_DIR / ".env.example")
    secrets = {k: v for k, v in example.items() if k.endswith(("_PASSWORD", "_TOKEN"))}
    assert secrets
    assert all(value.strip() == "" for value in secrets.values())


def test_host_ports_are_the_registry_ports_on_loopback() -> None:
    """Each UI of the registry is published on its standard port, bound to 127.0.0.1."""
    services = compose("compose.yml")["services"]
    published = {
        (name, int(container)): (host_ip, int(host))
        for name, service in services.items()
        for host_ip, host, container in (p.split(":") for p in service.get("ports", []))
    }
    registry = {entry.id: entry.port for entry in load_registry().entries}
    expected = {FORWARDS[entry]: ("127.0.0.1", port) for entry, port in registry.items()}
    assert published == expected


def demo_of(main: dict[str, Any]) -> dict[str, Any]:
    """What compose.demo.yml must be: the main stack, ports +10000, names odto-demo-."""
    demo = copy.deepcopy(main)
    demo["name"] = "odto-demo"
    for service in demo["services"].values():
        service["ports"] = [
            f"{ip}:{int(host) + 10000}:{container}"
            for ip, host, container in (p.split(":") for p in service.get("ports", []))
        ] or service.get("ports")
        if service.get("ports") is None:
            service.pop("ports")
        env = service.get("environment", {})
        if "ODTO_CORS_ORIGINS" in env:
            env["ODTO_CORS_ORIGINS"] = "http://localhost:18081,http://127.0.0.1:18081"
        if "ODTO_TRACE_URL" in env:
            env["ODTO_TRACE_URL"] = "http://localhost:26686/trace/{traceId}"
    demo["networks"] = {"default": {"name": "odto-demo-net"}}
    demo["volumes"] = {name: {"name": f"odto-demo-{name}"} for name in main["volumes"]}
    return demo


def test_demo_is_the_same_stack_on_ports_13000_plus_with_prefixed_names() -> None:
    """The demo differs from the main file only by its ports and its odto-demo- names."""
    demo = compose("compose.demo.yml")
    assert demo == demo_of(compose("compose.yml"))
    ports = [int(p.split(":")[1]) for s in demo["services"].values() for p in s.get("ports", [])]
    assert ports
    assert min(ports) >= 13000
    assert all(v["name"].startswith("odto-demo-") for v in demo["volumes"].values())


@pytest.mark.parametrize("name", FILES)
def test_every_container_has_a_healthcheck_and_waits_for_healthy_dependencies(name: str) -> None:
    """depends_on always means 'healthy', and every dependency can become healthy."""
    services = compose(name)["services"]
    for service_name, service in services.items():
        assert service.get("healthcheck", {}).get("test"), f"{service_name} has no healthcheck"
        for dependency, condition in service.get("depends_on", {}).items():
            assert condition == {"condition": "service_healthy"}, (service_name, dependency)
            assert dependency in services


def test_data_lives_in_named_volumes_and_configuration_comes_from_the_repo() -> None:
    """Stateful containers keep data in declared named volumes; bind mounts exist in deploy/."""
    stack = compose("compose.yml")
    for service, path in DATA.items():
        targets = {v.split(":")[1]: v.split(":")[0] for v in stack["services"][service]["volumes"]}
        assert targets.get(path) in stack["volumes"], f"{service} keeps {path} off a named volume"
    for service in stack["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (COMPOSE_DIR / source).resolve().exists(), volume
                assert volume.endswith(":ro"), f"config mounts are read-only: {volume}"
            else:
                assert source in stack["volumes"], volume


def test_the_five_services_run_the_one_image_with_odto_serve() -> None:
    """gateway..web share the repository's image at the package version, one per command."""
    services = compose("compose.yml")["services"]
    for name in SERVICES:
        service = services[name]
        assert service["image"] == f"task-observatory:{__version__}"
        assert service["build"]["dockerfile"] == "deploy/docker/Dockerfile"
        assert (COMPOSE_DIR / service["build"]["context"]).resolve() == REPO
        assert service["command"] == ["serve", name]
        assert service["environment"]["ODTO_HOST"] == "0.0.0.0"
        assert service["read_only"] is True


def test_env_file_and_secrets_are_git_ignored() -> None:
    """deploy/compose/.env and the overlay's secrets.env can never be committed."""
    ignore = (REPO / "deploy/.gitignore").read_text("utf-8").splitlines()
    assert "/compose/.env" in ignore
    assert "/k8s/overlays/*/secrets.env" in ignore
    assert Path(REPO / "deploy/compose/.env.example").exists()


@pytest.mark.parametrize("name", FILES)
def test_the_services_send_their_traces_to_the_stacks_jaeger(name: str) -> None:
    """Jaeger v2, pinned by version, takes OTLP inside the network (4318 is what the
    services' exporter speaks); its UI is the registry's `jaeger` entry, and the
    services' trace links point at it."""
    services = compose(name)["services"]
    jaeger = services["jaeger"]
    assert re.fullmatch(r"jaegertracing/jaeger:2\.\d+\.\d+", jaeger["image"])
    ui = load_registry().get("jaeger").port + (10000 if name == "compose.demo.yml" else 0)
    assert jaeger["ports"] == [f"127.0.0.1:{ui}:16686"]
    for service in SERVICES:
        env = services[service]["environment"]
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://jaeger:4318"
        assert env["ODTO_TRACE_URL"] == f"http://localhost:{ui}/trace/{{traceId}}"
