"""The web service serves the packaged dashboard, its own health, readiness and metrics."""

from __future__ import annotations

import json
import re
from importlib import resources

import httpx
from tests.unit.web.upstreams import Upstreams

from observatory import __version__


async def test_dashboard_index_is_served_from_the_package_with_a_strict_policy(
    client: httpx.AsyncClient,
) -> None:
    """Opening / gives the dashboard, which may only run its own scripts."""
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "Distributed Task Observatory" in response.text
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_every_asset_the_page_references_is_local_and_served(
    client: httpx.AsyncClient,
) -> None:
    """No CDN: each script, stylesheet and icon the page and its modules load answers 200."""
    index = (await client.get("/")).text
    assert "//" not in " ".join(re.findall(r'(?:src|href)="([^"#]+)"', index))
    pending = re.findall(r'(?:src|href)="([^"#]+)"', index)
    seen: set[str] = set()
    while pending:
        path = pending.pop()
        if path in seen:
            continue
        seen.add(path)
        response = await client.get("/" + path.lstrip("./"))
        assert response.status_code == 200, path
        if path.endswith(".js"):
            assert "javascript" in response.headers["content-type"]
            base = path.rsplit("/", 1)[0]
            for ref in re.findall(r'from "(\.{1,2}/[^"]+)"', response.text):
                parts = [*base.split("/"), *ref.split("/")]
                resolved: list[str] = []
                for part in parts:
                    if part == "..":
                        resolved.pop()
                    elif part not in {".", ""}:
                        resolved.append(part)
                pending.append("/".join(resolved))
    assert {"css/dashboard.css", "js/main.js", "js/views/job-detail.js"} <= seen


async def test_no_script_builds_html_from_strings(client: httpx.AsyncClient) -> None:
    """Server strings can only become text: the scripts never parse HTML."""
    static = resources.files("observatory.services.web").joinpath("static", "js")
    sources = [p.read_text() for p in static.iterdir() if p.name.endswith(".js")]
    sources += [p.read_text() for p in static.joinpath("views").iterdir()]
    for source in sources:
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write"):
            assert sink not in source


async def test_launcher_page_is_served_with_its_inline_code_allowed(
    client: httpx.AsyncClient,
) -> None:
    """/launcher is the stand-alone bootstrap page; its inline script is allowed, nothing else."""
    response = await client.get("/launcher")
    assert response.status_code == 200
    assert "System not detected" in response.text
    assert "script-src 'unsafe-inline'" in response.headers["content-security-policy"]


async def test_unknown_static_path_is_404(client: httpx.AsyncClient) -> None:
    """A missing file is a plain 404, not the dashboard."""
    assert (await client.get("/nope.js")).status_code == 404


async def test_packaged_registry_is_available_as_a_fallback(client: httpx.AsyncClient) -> None:
    """The launcher modal can list the UIs from the web service when the read model is down."""
    response = await client.get("/ui-registry.json")
    packaged = resources.files("observatory.core.contracts").joinpath("ui-registry.json")
    assert response.json() == json.loads(packaged.read_text())


async def test_healthz_reports_the_package_version(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz")
    assert response.json() == {"status": "ok", "version": __version__}


async def test_readyz_is_ready_only_when_both_upstreams_answer(
    client: httpx.AsyncClient, upstreams: Upstreams
) -> None:
    """Ready needs the read model and the gateway; the body says which one is missing."""
    upstreams.handlers["read-model.test"] = lambda r: httpx.Response(200, json={"status": "ok"})
    not_ready = await client.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["checks"]["readModel"] == "ok"
    assert not_ready.json()["checks"]["gateway"].startswith("unreachable")

    upstreams.handlers["gateway.test"] = lambda r: httpx.Response(200, json={"status": "ok"})
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"readModel": "ok", "gateway": "ok"}}


async def test_metrics_count_requests_by_bounded_route(
    client: httpx.AsyncClient, upstreams: Upstreams
) -> None:
    """Proxied requests show up in the duration histogram under their route, not their path."""
    upstreams.handlers["read-model.test"] = lambda r: httpx.Response(200, json={})
    await client.get("/api/jobs/0c5e0f1e-0000-4000-8000-000000000000")
    await client.get("/api/stats")
    await client.post("/gateway/jobs", json={"type": "X"})  # gateway is down: 502
    text = (await client.get("/metrics")).text
    assert (
        'web_http_request_duration_seconds_count{method="GET",route="/api",status="200"} 2.0'
        in text
    )
    assert 'web_upstream_errors_total{route="/gateway",status="502"} 1.0' in text
    assert "0c5e0f1e" not in text


async def test_metrics_carry_build_info_and_dependency_gauges(
    client: httpx.AsyncClient, upstreams: Upstreams
) -> None:
    """Like every service, the web service exports odto_build_info and sets
    odto_dependency_up for each upstream its /readyz checks."""
    upstreams.handlers["read-model.test"] = lambda r: httpx.Response(200, json={})
    await client.get("/readyz")  # the gateway is down: 502
    text = (await client.get("/metrics")).text
    assert 'odto_build_info{service="web"' in text
    assert 'odto_dependency_up{dependency="readModel"} 1.0' in text
    assert 'odto_dependency_up{dependency="gateway"} 0.0' in text
