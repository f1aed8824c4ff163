"""The bootstrap page redirects only on-site or to a UI registry URL: /launcher (and
/launcher.html) refuse any other ?dashboard= before the page is served."""

from __future__ import annotations

import httpx
import pytest

from observatory.core.contracts.registry import load_registry
from observatory.services.web.launch import allowed_dashboard

OWN = "http://dashboard.test/launcher?dashboard=x"
ALLOWED = [
    "/",
    "/#/jobs",
    "/some/path?x=1",
    "http://dashboard.test/",
    "http://dashboard.test:80/#/jobs",
    "http://localhost:8081/",  # registry: the dashboard
    "http://localhost:3000/docs",  # registry: gateway docs
]
REFUSED = [
    "https://evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    "\\\\evil.example",
    "/\t/evil.example",
    " https://evil.example/",
    "javascript:alert(1)",
    "data:text/html,hi",
    "https://dashboard.test/",  # another scheme is another origin
    "http://dashboard.test:8081/",  # another port too
    "http://dashboard.test.evil.example/",
    "http://localhost:8081/elsewhere",  # a registry host, but not a registry URL
    "http://localhost:99999/",
    "evil.example",
    "",
]


@pytest.mark.parametrize("target", ALLOWED)
def test_same_origin_and_registry_targets_are_allowed(target: str) -> None:
    assert allowed_dashboard(target, own_url=OWN, registry=load_registry())


@pytest.mark.parametrize("target", REFUSED)
def test_off_site_and_ambiguous_targets_are_refused(target: str) -> None:
    assert not allowed_dashboard(target, own_url=OWN, registry=load_registry())


@pytest.mark.parametrize("page", ["/launcher", "/launcher.html"])
async def test_the_page_is_not_served_with_an_off_site_dashboard(
    client: httpx.AsyncClient, page: str
) -> None:
    """400 JSON, no redirect, no page; an allowed target gets the page as before."""
    refused = await client.get(page, params={"dashboard": "https://evil.example/"})
    assert refused.status_code == 400
    assert "location" not in refused.headers
    assert "registry" in refused.json()["error"]
    for target in ("/", "http://localhost:8081/"):
        served = await client.get(page, params={"dashboard": target})
        assert served.status_code == 200
        assert "System not detected" in served.text
