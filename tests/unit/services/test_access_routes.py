"""Every route of the gateway and the read model, for every role, through HTTP on the
embedded stores (SPEC §13 "Access"). The cases come from the apps' own route lists, so a
route without an access rule fails here (and is refused by the middleware until it has
one)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import structlog
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import SecretStr
from tests.unit.services.embedded import Embedded, embedded

from observatory.core.access import Role
from observatory.core.access_http import COMMON_RULES, OPEN_PATHS
from observatory.core.settings import HttpSettings
from observatory.services.gateway.app import create_app as create_gateway
from observatory.services.gateway.roles import ROUTE_ROLES as GATEWAY_ROLES
from observatory.services.gateway.settings import GatewaySettings
from observatory.services.read_model.app import create_app as create_read_model
from observatory.services.read_model.roles import ROUTE_ROLES as READ_MODEL_ROLES
from observatory.services.read_model.settings import ReadModelSettings

__all__ = ["embedded"]  # the fixture, imported to be found

TOKENS = {Role.VIEWER: "viewer-token-1", Role.OPERATOR: "operator-token-2", Role.ADMIN: "admin-3"}
HTTP = HttpSettings(
    tokens=SecretStr(
        ",".join(f"{role.label}-user:{role.label}:{token}" for role, token in TOKENS.items())
    ),
    api_token=SecretStr("hook-token"),
)
JSON_HEADERS = {"Content-Type": "application/json"}
UUID = "00000000-0000-4000-8000-000000000001"


def gateway_app(embedded: Embedded, http: HttpSettings = HTTP) -> Any:
    return create_gateway(
        GatewaySettings(),
        http,
        bus=embedded.bus,
        jobs=embedded.jobs,
        events=embedded.events,
        owned=False,
        clock=embedded.clock,
    )


def read_model_app(embedded: Embedded, http: HttpSettings = HTTP) -> FastAPI:
    return create_read_model(
        ReadModelSettings(),
        http,
        jobs=embedded.jobs,
        counters=embedded.counters,
        events=embedded.events,
        owned=False,
        clock=embedded.clock,
    )


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    return sorted(
        (method, route.path)
        for route in app.state.access_routes()
        if isinstance(route, APIRoute) and route.path not in OPEN_PATHS
        for method in route.methods or ()
    )


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", UUID, path)


SERVICES = {
    "gateway": (gateway_app, {**COMMON_RULES, **GATEWAY_ROLES}),
    "read-model": (read_model_app, {**COMMON_RULES, **READ_MODEL_ROLES}),
}
CASES = [
    (service, method, path, role)
    for service, (_, rules) in SERVICES.items()
    for (method, path), role in rules.items()
]


@pytest.fixture
async def clients(embedded: Embedded) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    gateway = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=gateway_app(embedded)), base_url="http://gw"
    )
    read_model = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=read_model_app(embedded)), base_url="http://rm"
    )
    async with gateway, read_model:
        yield {"gateway": gateway, "read-model": read_model}


@pytest.mark.parametrize("service", SERVICES)
async def test_every_route_has_an_access_rule(embedded: Embedded, service: str) -> None:
    make, rules = SERVICES[service]
    app = make(embedded)
    routes = api_routes(app)
    missing = [route for route in routes if route not in rules]
    assert not missing, f"routes without an access rule in {service}'s roles.py: {missing}"
    assert set(rules) <= set(routes), "rules for routes that do not exist"


async def call(
    client: httpx.AsyncClient, method: str, path: str, token: str | None, **extra: str
) -> httpx.Response:
    headers = {**JSON_HEADERS, **extra}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    content = b'{"type": "ACCESS"}' if method == "POST" else None
    return await client.request(method, concrete(path), headers=headers, content=content)


@pytest.mark.parametrize(("service", "method", "path", "required"), CASES)
async def test_each_route_answers_each_role_as_its_rule_says(
    clients: dict[str, httpx.AsyncClient],
    service: str,
    method: str,
    path: str,
    required: Role | None,
) -> None:
    client = clients[service]
    if required is None:  # the webhook: its own token, not a role
        assert (await call(client, method, path, TOKENS[Role.ADMIN])).status_code == 401
        return
    for token in (None, "not-a-token", "Bearer-less"):
        answer = await call(client, method, path, token)
        assert answer.status_code == 401, (token, answer.text)
        assert answer.json() == {
            "error": "A valid bearer token is required (set ODTO_TOKEN or sign in)"
        }
        assert "x-correlation-id" in answer.headers
    for role, token in TOKENS.items():
        if path == "/stream" and role >= required:
            continue  # an endless stream; its refusals are above, its admission in e2e
        answer = await call(client, method, path, token)
        if role < required:
            assert answer.status_code == 403, (role, answer.text)
            assert answer.json()["requiredRole"] == required.label
        else:
            assert answer.status_code not in (401, 403), (role, answer.text)


@pytest.mark.parametrize("origin", [{}, {"Origin": "http://localhost:8081"}])
async def test_submit_needs_an_operator_in_the_lane_and_the_framework_alike(
    clients: dict[str, httpx.AsyncClient], embedded: Embedded, origin: dict[str, str]
) -> None:
    gateway = clients["gateway"]
    assert (await call(gateway, "POST", "/jobs", None, **origin)).status_code == 401
    viewer = await call(gateway, "POST", "/jobs", TOKENS[Role.VIEWER], **origin)
    assert viewer.status_code == 403
    assert viewer.json()["requiredRole"] == "operator"
    operator = await call(gateway, "POST", "/jobs", TOKENS[Role.OPERATOR], **origin)
    assert operator.status_code == 202, operator.text


async def test_audit_entries_name_the_token_not_the_declared_actor(
    clients: dict[str, httpx.AsyncClient], embedded: Embedded
) -> None:
    gateway = clients["gateway"]
    answer = await gateway.post(
        "/jobs/retry",
        json={"filter": {"type": "NONE"}},
        headers={"Authorization": f"Bearer {TOKENS[Role.OPERATOR]}", "X-Odto-Actor": "cli:eve"},
    )
    assert answer.status_code == 200, answer.text
    [entry] = (await embedded.events.audit(10, None)).items
    assert entry["actor"] == "operator-user"


async def test_whoami_names_the_token_and_its_role(
    clients: dict[str, httpx.AsyncClient], embedded: Embedded
) -> None:
    answer = await call(clients["read-model"], "GET", "/auth/whoami", TOKENS[Role.OPERATOR])
    assert answer.json() == {"name": "operator-user", "role": "operator", "access": "tokens"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=read_model_app(embedded, HttpSettings())),
        base_url="http://rm",
    ) as open_model:
        opened = await open_model.get("/auth/whoami")
    assert opened.json() == {"name": "anonymous", "role": "admin", "access": "open"}


async def test_probes_stay_open(clients: dict[str, httpx.AsyncClient]) -> None:
    for client in clients.values():
        for path in sorted(OPEN_PATHS):
            assert (await client.get(path)).status_code in (200, 503), path


async def test_without_tokens_every_route_stays_open(embedded: Embedded) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=gateway_app(embedded, HttpSettings())),
        base_url="http://gw",
    ) as gateway:
        answer = await call(gateway, "POST", "/jobs", None)
        assert answer.status_code == 202


async def test_tokens_never_reach_the_logs_nor_the_audit(
    clients: dict[str, httpx.AsyncClient], embedded: Embedded, capsys: pytest.CaptureFixture[str]
) -> None:
    with structlog.testing.capture_logs() as logs:
        for client in clients.values():
            for token in (*TOKENS.values(), "wrong-token-xyz"):
                await call(client, "GET", "/auth/whoami", token)
                await call(client, "POST", "/jobs", token)
    await clients["gateway"].post(
        "/jobs/retry",
        json={"filter": {"type": "NONE"}},
        headers={"Authorization": f"Bearer {TOKENS[Role.ADMIN]}"},
    )
    audit = (await embedded.events.audit(100, None)).items
    assert {entry["actor"] for entry in audit} == {"operator-user", "admin-user"}
    printed = capsys.readouterr()
    text = repr(logs) + repr(audit) + printed.out + printed.err
    for token in (*TOKENS.values(), "wrong-token-xyz"):
        assert token not in text


def test_every_write_needs_an_operator_and_every_read_a_viewer() -> None:
    for service, (_, rules) in SERVICES.items():
        for (method, path), role in rules.items():
            if (method, path) == ("POST", "/webhook/alerts"):
                assert role is None  # Alertmanager's own token
            elif method == "GET":
                assert role is Role.VIEWER, (service, path)
            else:
                assert role is not None, (service, path)
                assert role >= Role.OPERATOR, (service, path)
