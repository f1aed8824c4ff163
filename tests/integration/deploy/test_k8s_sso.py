"""The single sign-on overlay (deploy/k8s/overlays/sso) as kustomize renders it: valid,
oauth2-proxy beside the web service reaching it over loopback (the only address trusted),
the Service pointing at the proxy, and every service knowing the sign-on tokens."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from tests.integration.deploy.kustomize import render_overlay
from tests.unit.deploy.manifests import SERVICES, of_kind

Docs = list[dict[str, Any]]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Docs:
    return render_overlay(tmp_path_factory.mktemp("sso"), Path("deploy/k8s/overlays/sso"))


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {item["name"]: item for item in container.get("env", [])}


def test_the_overlay_is_valid_kubernetes(rendered: Docs) -> None:
    problems = []
    for doc in rendered:
        try:
            kubernetes_validate.validate(doc, "1.31", strict=True)
        except kubernetes_validate.ValidationError as exc:
            problems.append(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message}")
    assert problems == []


def test_oauth2_proxy_sits_beside_the_web_service_which_trusts_only_loopback(
    rendered: Docs,
) -> None:
    web = of_kind(rendered, "Deployment")["web"]["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in web["containers"]}
    assert set(containers) == {"observatory", "oauth2-proxy"}
    proxy = containers["oauth2-proxy"]
    assert "--upstream=http://127.0.0.1:8081/" in proxy["args"]
    assert proxy["resources"]["limits"]
    assert proxy["securityContext"]["allowPrivilegeEscalation"] is False
    settings = env_of(containers["observatory"])
    assert settings["ODTO_SSO_TRUSTED_PROXIES"]["value"] == "127.0.0.1/32"
    assert settings["ODTO_SSO_GROUPS_HEADER"]["value"] == "X-Forwarded-Groups"
    [port] = of_kind(rendered, "Service")["web"]["spec"]["ports"]
    assert port["targetPort"] == "sso"
    assert {p["name"] for p in proxy["ports"]} == {"sso"}


def test_every_service_knows_the_sign_on_tokens_from_the_secret(rendered: Docs) -> None:
    deployments = of_kind(rendered, "Deployment")
    for name in SERVICES:
        [observatory] = [
            c
            for c in deployments[name]["spec"]["template"]["spec"]["containers"]
            if c["name"] == "observatory"
        ]
        env = env_of(observatory)
        names = list(env)
        assert names.index("ODTO_SSO_VIEWER_PASSWORD") < names.index("ODTO_TOKENS"), name
        assert env["ODTO_TOKENS"]["value"].startswith("sso-viewer:viewer:$(")
        assert "valueFrom" not in env["ODTO_TOKENS"]  # the base's Secret reference replaced
        assert env["ODTO_SSO_VIEWER_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"].startswith(
            "observatory-sso"
        )
