"""The single sign-on recipe for compose (deploy/compose/compose.sso.yml over compose.yml):
valid Compose, oauth2-proxy on the `sso` network only at the one address the web service
trusts, every service knowing the sign-on tokens, and no credential in the files."""

from __future__ import annotations

import ipaddress
import json
import re
from typing import Any

import jsonschema
from tests.unit.deploy.manifests import COMPOSE_DIR, REPO, compose, env_keys

from observatory.services.web.signin import parse_group_roles, parse_networks

SCHEMA = REPO / "tests/fixtures/schemas/compose-spec.json"


def sso() -> dict[str, Any]:
    return compose("compose.sso.yml")


def test_the_sso_file_is_valid_compose() -> None:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(sso()))
    assert [e.message for e in errors] == []


def test_oauth2_proxy_is_the_only_address_the_web_service_trusts() -> None:
    services = sso()["services"]
    proxy = services["oauth2-proxy"]
    assert list(proxy["networks"]) == ["sso"]  # on no other network: one source address
    address = ipaddress.ip_address(proxy["networks"]["sso"]["ipv4_address"])
    [subnet] = sso()["networks"]["sso"]["ipam"]["config"]
    assert address in ipaddress.ip_network(subnet["subnet"])
    web = services["web"]["environment"]
    trusted = parse_networks(web["ODTO_SSO_TRUSTED_PROXIES"])
    assert [address in network for network in trusted] == [True]
    assert ipaddress.ip_network(trusted[0]).num_addresses == 1
    assert "--upstream=http://web:8081/" in proxy["command"]
    assert "--pass-user-headers=true" in proxy["command"]
    assert web["ODTO_SSO_GROUPS_HEADER"] == "X-Forwarded-Groups"
    assert set(services["web"]["networks"]) == {"default", "sso"}


def test_every_api_service_knows_the_sign_on_tokens() -> None:
    services = sso()["services"]
    tokens = {
        name: services[name]["environment"]["ODTO_TOKENS"]
        for name in services
        if name != "oauth2-proxy"
    }
    assert set(tokens) == {"gateway", "read-model", "web"}
    assert len(set(tokens.values())) == 1
    names = [entry.split(":")[0] for entry in next(iter(tokens.values())).split(",")]
    assert names == ["sso-viewer", "sso-operator"]  # what the web service looks up


def test_every_variable_is_required_and_in_the_example_without_a_secret() -> None:
    text = (COMPOSE_DIR / "compose.sso.yml").read_text("utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    references = re.findall(r"\$\{([A-Z0-9_]+)(:?[?-])?([^}]*)\}", body)
    example = env_keys(COMPOSE_DIR / "sso.env.example")
    assert {name for name, _, _ in references} == set(example)
    assert all(operator == ":?" for _, operator, _ in references)
    assert all(example[k] == "" for k in example if k.endswith(("_PASSWORD", "_SECRET")))
    assert parse_group_roles(example["ODTO_SSO_GROUP_ROLES"])  # the example maps groups
