"""Roles through HTTP on a whole system (SPEC §13 "Access"), on the embedded profile and
the real backends: reads need a viewer, writes an operator, 401 for a missing or unknown
token (one answer), 403 naming the role; the audit names the token; the web service signs
in with a cookie that also carries the live stream; a malformed entry stops start-up."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.e2e.conftest import drop_namespace, real_env
from tests.sweep import new_namespace
from tests.system import RunningSystem, start_system
from tests.waiting import wait_until

TOKENS = "vera:viewer:viewer-e2e-token,otto:operator:operator-e2e-token"
VIEWER = {"Authorization": "Bearer viewer-e2e-token"}
OPERATOR = {"Authorization": "Bearer operator-e2e-token"}
ADMIN = {"Authorization": "Bearer admin-e2e-token"}


@pytest.fixture(scope="module", params=["embedded", "real"])
def guarded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningSystem]:
    namespace = new_namespace(request.node.nodeid)
    env = real_env(namespace) if request.param == "real" else {}
    access = {"ODTO_TOKENS": TOKENS, "ODTO_API_TOKEN": "admin-e2e-token"}
    running = start_system(tmp_path_factory.mktemp("access"), {**env, **access})
    try:
        yield running
    finally:
        running.stop()
        if env:
            asyncio.run(drop_namespace(namespace))


def test_reads_need_a_viewer_and_writes_an_operator(guarded: RunningSystem) -> None:
    with httpx.Client(timeout=10) as client:
        stats = f"{guarded.read_model_url}/stats"
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}):
            refused = client.get(stats, headers=headers)
            assert refused.status_code == 401
            assert refused.json()["error"].startswith("A valid bearer token is required")
        assert client.get(stats, headers=VIEWER).status_code == 200
        jobs = f"{guarded.gateway_url}/jobs"
        viewer = client.post(jobs, json={"type": "ACCESS"}, headers=VIEWER)
        assert viewer.status_code == 403
        assert viewer.json()["requiredRole"] == "operator"
        accepted = client.post(jobs, json={"type": "ACCESS"}, headers=OPERATOR)
        assert accepted.status_code == 202
        job_id = accepted.json()["jobId"]
        cancel = f"{guarded.gateway_url}/jobs/{job_id}/cancel"
        assert client.post(cancel, headers=VIEWER).status_code == 403
        assert client.post(cancel, headers=ADMIN).status_code in (200, 409)

        def audited() -> list[str]:
            page = client.get(f"{guarded.read_model_url}/audit", headers=VIEWER).json()
            return [e["actor"] for e in page["items"] if e["target"] == job_id]

        actors = wait_until(lambda: len(audited()) >= 2 and audited(), 30, message="audit")
        assert set(actors) == {"otto", "api-token"}
        for path in ("/healthz", "/readyz", "/metrics"):
            assert client.get(f"{guarded.gateway_url}{path}").status_code == 200


def test_the_web_cookie_signs_in_and_carries_the_live_stream(guarded: RunningSystem) -> None:
    with httpx.Client(timeout=10, base_url=guarded.web_url) as client:
        assert client.get("/").status_code == 303
        signed = client.post(
            "/signin",
            data={"token": "viewer-e2e-token"},
            headers={"Origin": guarded.web_url},
        )
        assert signed.status_code == 303
        assert "HttpOnly" in signed.headers["set-cookie"]
        assert client.get("/").status_code == 200
        assert client.get("/api/stats").status_code == 200
        with client.stream("GET", "/api/stream") as stream:
            assert stream.status_code == 200
            for line in stream.iter_lines():
                if line.startswith("event:"):
                    break
        refused = client.post(
            "/gateway/jobs", json={"type": "X"}, headers={"Origin": guarded.web_url}
        )
        assert refused.status_code == 403
        assert refused.json()["requiredRole"] == "operator"


def test_a_malformed_token_entry_stops_start_up_naming_it(tmp_path: Path) -> None:
    env = {
        "ODTO_TOKENS": "ann:viewer:fine-token,bob:chief:TOPSECRET",
        "ODTO_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "observatory.interfaces.cli.main", "serve", "gateway"],
        env={**_base_env(), **env, "GATEWAY_PORT": "0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert (
        "ODTO_TOKENS entry 2 (bob): the role must be one of viewer, operator, admin" in done.stderr
    )
    assert "TOPSECRET" not in done.stdout + done.stderr


def _base_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("ODTO_")}
