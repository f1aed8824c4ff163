"""The UI launcher modal follows the registry; the bootstrap page finds a starting system."""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import Console, open_dashboard, screenshot
from tests.system import SERVICES, RunningSystem, free_port, start_system

LAUNCHER = Path(
    str(resources.files("observatory.services.web").joinpath("static", "launcher.html"))
)


def registry_urls(system: RunningSystem) -> dict[str, str]:
    registry = httpx.get(f"{system.read_model_url}/registry", timeout=5).json()
    base = registry["baseUrl"].rstrip("/")
    return {e["id"]: f"{base}:{e['port']}{e['path']}" for e in registry["entries"]}


def test_launcher_modal_lists_every_registry_entry_with_its_url(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    """Each registry entry is a card whose link is exactly the registry's URL."""
    expected = registry_urls(observatory)
    registry = httpx.get(f"{observatory.read_model_url}/registry", timeout=5).json()
    open_dashboard(page, observatory)

    header = page.locator("#tool-links a")
    assert {a.get_attribute("data-entry-id"): a.get_attribute("href") for a in header.all()} == {
        key: expected[key] for key in ("grafana", "prometheus", "rabbitmq")
    }

    page.get_by_role("button", name="UIs").click()
    dialog = page.locator("#launcher-dialog")
    assert dialog.is_visible()
    cards = dialog.locator("a.launch-card")
    shown = {c.get_attribute("data-entry-id"): c.get_attribute("href") for c in cards.all()}
    assert shown == expected
    for entry in registry["entries"]:
        card = dialog.locator(f"a.launch-card[data-entry-id='{entry['id']}']")
        assert card.locator(".launch-name").inner_text() == entry["name"]
        assert card.locator(".launch-description").inner_text() == entry["description"]
        assert card.locator(".launch-emoji").inner_text() == entry["emoji"]
        assert card.get_attribute("target") == "_blank"
    screenshot(page, "launcher-modal", full_page=False)
    page.keyboard.press("Escape")
    assert dialog.is_hidden()
    assert console.errors == []


def test_bootstrap_page_redirects_once_the_system_answers(browser: Any, tmp_path: Path) -> None:
    """Opened from disk it says "System not detected" with the start commands; when the
    system comes up it says so and goes to the dashboard."""
    ports = {name: free_port() for name in SERVICES}
    read_model = f"http://127.0.0.1:{ports['read-model']}"
    dashboard = f"http://127.0.0.1:{ports['web']}/"
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    context.set_default_timeout(30_000)
    page = context.new_page()
    try:
        page.goto(f"{LAUNCHER.as_uri()}?readModel={read_model}&dashboard={dashboard}&interval=500")
        page.get_by_text("System not detected").wait_for()
        commands = [c.inner_text() for c in page.locator("#offline code").all()]
        assert commands == [
            "make up",
            "odd-dashboard",
            "docker compose -f deploy/compose/compose.yml --env-file deploy/compose/.env up -d",
            "odto cluster up",
        ]
        assert page.locator("#offline button.copy").count() == len(commands)
        page.locator("#offline button.copy").first.click()
        page.locator("#offline button.copy", has_text="Copied").wait_for()
        screenshot(page, "bootstrap-not-detected")

        started: dict[str, RunningSystem] = {}
        starter = threading.Thread(
            target=lambda: started.update(system=start_system(tmp_path, ports=ports))
        )
        starter.start()
        try:
            page.get_by_text("System is running!").wait_for(timeout=60_000)
            page.wait_for_url(dashboard, timeout=30_000)
            page.locator("#splash").wait_for(state="hidden")
        finally:
            starter.join(90)
            if "system" in started:
                started["system"].stop()
    finally:
        context.close()


def test_launcher_is_served_by_the_web_service(page: Any, observatory: RunningSystem) -> None:
    """At /launcher it checks through the web service's own proxy and links back to it."""
    page.goto(f"{observatory.web_url}/launcher?interval=500")
    page.wait_for_url(f"{observatory.web_url}/", timeout=30_000)
    page.locator("#splash").wait_for(state="hidden")
    assert page.locator("#stat-total").inner_text() != "-"
