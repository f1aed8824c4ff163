"""Edge limits and tokens through HTTP (SPEC §12), on a system with ODTO_API_TOKEN set:
bad timestamps and deep nesting are 400s with a path on both POST /jobs paths (the plain
ASGI lane and, with an Origin header, the FastAPI route); the alert webhook needs the token,
JSON and a sane depth, directly and through the web proxy, and its history never breaks;
the launcher never redirects off-site."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from tests.e2e.conftest import drop_namespace, real_env
from tests.sweep import new_namespace
from tests.system import RunningSystem, start_system

TOKEN = "edge-limits-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# The lane answers POST /jobs unless an Origin header sends the request through FastAPI.
PATHS = {"lane": {}, "fastapi": {"Origin": "http://localhost:8081"}}
BAD_CREATED_AT = (
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-23:59",
    "1969-12-31T23:59:59Z",
)


@pytest.fixture(scope="module", params=["embedded", "real"])
def guarded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningSystem]:
    """One system with a token per profile, shared by this module's tests."""
    namespace = new_namespace(request.node.nodeid)
    env = real_env(namespace) if request.param == "real" else {}
    running = start_system(tmp_path_factory.mktemp("edge-limits"), {**env, "ODTO_API_TOKEN": TOKEN})
    try:
        yield running
    finally:
        running.stop()
        if env:
            asyncio.run(drop_namespace(namespace))


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10, follow_redirects=False) as c:
        yield c


def nested(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels - 1):
        value = {"a": value}
    return value


def post_job(
    client: httpx.Client, system: RunningSystem, path: str, raw: bytes, auth: str = ""
) -> httpx.Response:
    headers = {
        "Content-Type": "application/json",
        "Authorization": auth or AUTH["Authorization"],
        **PATHS[path],
    }
    return client.post(f"{system.gateway_url}/jobs", content=raw, headers=headers)


def paths_of(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"].startswith("application/json")
    return [d["path"] for d in response.json()["details"]]


def unique_type() -> str:
    return f"EDGE_{uuid.uuid4().hex[:12]}"


def jobs_of_type(client: httpx.Client, system: RunningSystem, job_type: str) -> list[Any]:
    page = client.get(
        f"{system.read_model_url}/jobs", params={"type": job_type}, headers=AUTH
    ).json()
    return list(page["items"])


@pytest.mark.parametrize("path", PATHS)
def test_created_at_outside_1970_to_9999_in_utc_is_400_at_its_path(
    guarded: RunningSystem, client: httpx.Client, path: str
) -> None:
    job_type = unique_type()
    for created in BAD_CREATED_AT:
        raw = json.dumps({"type": job_type, "createdAt": created}).encode()
        response = post_job(client, guarded, path, raw)
        assert response.status_code == 400, (created, response.text)
        assert paths_of(response) == ["$.createdAt"], created
    assert jobs_of_type(client, guarded, job_type) == []


@pytest.mark.parametrize("path", PATHS)
def test_deep_nesting_is_400_with_the_path_never_500(
    guarded: RunningSystem, client: httpx.Client, path: str
) -> None:
    """Metadata 300 deep (which orjson parses but cannot write) and a payload 30,000 deep
    (which it cannot parse) both name the place past 32 levels."""
    job_type = unique_type()
    raw = json.dumps({"type": job_type, "metadata": nested(300)}).encode()
    response = post_job(client, guarded, path, raw)
    assert response.status_code == 400, response.text
    assert paths_of(response) == ["$.metadata" + ".a" * 32]

    raw = f'{{"type": "{job_type}", "payload": '.encode() + b"[" * 30_000 + b"]" * 30_000 + b"}"
    response = post_job(client, guarded, path, raw)
    assert response.status_code == 400, response.text
    assert paths_of(response) == ["$.payload" + "[0]" * 32]
    assert jobs_of_type(client, guarded, job_type) == []


@pytest.mark.parametrize("path", PATHS)
def test_simulated_duration_is_capped_at_one_minute(
    guarded: RunningSystem, client: httpx.Client, path: str
) -> None:
    raw = json.dumps({"type": "EDGE", "payload": {"simulate": {"durationMs": 60_001}}}).encode()
    response = post_job(client, guarded, path, raw)
    assert response.status_code == 400
    assert paths_of(response) == ["$.payload.simulate.durationMs"]


@pytest.mark.parametrize("path", PATHS)
def test_the_bearer_scheme_is_case_insensitive_on_submit(
    guarded: RunningSystem, client: httpx.Client, path: str
) -> None:
    raw = json.dumps({"type": "EDGE_OK"}).encode()
    for scheme in ("bearer", "BEARER"):
        response = post_job(client, guarded, path, raw, auth=f"{scheme} {TOKEN}")
        assert response.status_code == 202, response.text
    assert post_job(client, guarded, path, raw, auth="bearer wrong").status_code == 401


NOTE = {
    "status": "firing",
    "groupLabels": {"alertname": "EdgeLimits"},
    "alerts": [{"labels": {"alertname": "EdgeLimits"}, "status": "firing"}],
}


@pytest.mark.parametrize("through", ["read-model", "web proxy"])
def test_webhook_needs_the_token_json_and_a_sane_depth(
    guarded: RunningSystem, client: httpx.Client, through: str
) -> None:
    """Without (or with a wrong) token 401; `bearer` in lower case works; text/plain 415;
    too deep 400 with the path; > 64 KiB 413; the history still answers afterwards."""
    base = guarded.read_model_url if through == "read-model" else f"{guarded.web_url}/api"
    url = f"{base}/webhook/alerts"
    body = json.dumps(NOTE).encode()
    json_type = {"Content-Type": "application/json"}

    for auth in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        denied = client.post(url, content=body, headers={**json_type, **auth})
        assert denied.status_code == 401, auth
        assert denied.headers["www-authenticate"] == "Bearer"
        assert denied.json()["error"] == "A valid bearer token is required"

    ok = client.post(url, content=body, headers={**json_type, "Authorization": f"bearer {TOKEN}"})
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"received": 1}

    plain = client.post(url, content=body, headers={"Content-Type": "text/plain", **AUTH})
    assert plain.status_code == 415

    deepest = b"[" * 30_000 + b"]" * 30_000
    response = client.post(url, content=deepest, headers={**json_type, **AUTH})
    assert response.status_code == 400, response.text
    assert paths_of(response) == ["$" + "[0]" * 32]

    poison = json.dumps({**NOTE, "groupLabels": nested(300)}).encode()
    response = client.post(url, content=poison, headers={**json_type, **AUTH})
    assert response.status_code == 400, response.text
    assert paths_of(response) == ["$.groupLabels" + ".a" * 31]

    huge = json.dumps({**NOTE, "pad": "x" * 70_000}).encode()
    assert client.post(url, content=huge, headers={**json_type, **AUTH}).status_code == 413

    history = client.get(f"{base}/alerts/history", headers=AUTH)  # a read: needs a token
    assert history.status_code == 200
    assert history.json()[0]["groupLabels"] == {"alertname": "EdgeLimits"}


def test_launcher_never_redirects_off_site(guarded: RunningSystem, client: httpx.Client) -> None:
    """An off-site ?dashboard= is refused (no page, no Location); the default still serves."""
    for page in ("/launcher", "/launcher.html"):
        response = client.get(
            f"{guarded.web_url}{page}",
            params={"dashboard": "https://evil.example/"},
            headers=AUTH,
        )
        assert response.status_code == 400
        assert "location" not in response.headers
        assert "evil.example" not in response.text
    assert client.get(f"{guarded.web_url}/launcher", headers=AUTH).status_code == 200
