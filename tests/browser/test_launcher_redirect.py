"""The bootstrap page's redirect stays on-site: an off-site ?dashboard= is replaced by the
default dashboard even when the page is opened from disk (where no server checks it), and
a UI registry URL is still followed."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from tests.system import RunningSystem

LAUNCHER = Path(
    str(resources.files("observatory.services.web").joinpath("static", "launcher.html"))
)
EVIL = "https://evil.example/"


def test_off_site_dashboard_is_never_the_redirect_but_registry_urls_are(
    browser: Any, observatory: RunningSystem
) -> None:
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    context.set_default_timeout(30_000)
    requested: list[str] = []

    def answer(route: Any) -> None:
        requested.append(route.request.url)
        route.fulfill(status=200, content_type="text/html", body="<title>landed</title>")

    # Stand-ins for the places the page may go, so no test depends on what listens there.
    context.route("https://evil.example/**", answer)
    context.route("http://localhost:8081/**", answer)
    context.route("http://localhost:3000/**", answer)
    page = context.new_page()
    try:
        query = urlencode(
            {"readModel": observatory.read_model_url, "dashboard": EVIL, "interval": 500}
        )
        page.goto(f"{LAUNCHER.as_uri()}?{query}")
        assert page.locator("#open-dashboard").get_attribute("href") == "http://localhost:8081/"
        page.wait_for_url("http://localhost:8081/")
        assert not [url for url in requested if "evil.example" in url]

        registry_url = "http://localhost:3000/docs"  # the registry's gateway-docs entry
        query = urlencode({"dashboard": registry_url, "interval": 500})
        page.goto(f"{observatory.web_url}/launcher?{query}")
        page.wait_for_url(registry_url)
        assert not [url for url in requested if "evil.example" in url]
    finally:
        context.close()
