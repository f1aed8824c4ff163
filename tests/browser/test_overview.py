"""The overview: splash until data, then stats, jobs and events, kept live."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from tests.browser.conftest import Console, open_dashboard, screenshot, submit_job
from tests.system import RunningSystem, wait_until

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
MESSAGES = {"Connecting to services", "Fetching statistics", "Loading job data", "Checking alerts"}


def test_splash_spins_until_the_first_data_then_shows_the_stats(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    """While the stats are on their way the splash spins; when they arrive it shows them."""
    held: list[Any] = []
    page.route("**/api/stats", lambda route: held.append(route))
    page.goto(observatory.web_url + "/")

    splash = page.locator("#splash")
    splash.wait_for(state="visible")
    assert page.locator("#splash-spinner").inner_text() in SPINNER
    assert page.locator("#splash-message").inner_text() in MESSAGES
    first = page.locator("#splash-spinner").inner_text()
    page.wait_for_function(
        "first => document.getElementById('splash-spinner').textContent !== first", arg=first
    )
    assert held, "the dashboard asked for the stats"

    for route in held:
        route.continue_()
    page.unroute("**/api/stats")
    splash.wait_for(state="hidden")

    def total_matches() -> bool:
        stats: dict[str, Any] = httpx.get(f"{observatory.read_model_url}/stats", timeout=5).json()
        shown: str = page.locator("#stat-total").inner_text()
        return shown == f"{stats['totalJobs']:,}"

    wait_until(total_matches, timeout=15, message="the Total Jobs card to show /stats")
    assert re.fullmatch(r"v\d+\.\d+\.\d+.*", page.locator("#footer-version").inner_text())
    assert page.locator("#last-updated").inner_text() != "-"
    assert console.errors == []


def test_splash_turns_into_an_error_with_retry_when_nothing_answers(
    page: Any, observatory: RunningSystem
) -> None:
    """With the read model unreachable the splash says so; Retry recovers once it is back."""
    page.route(
        "**/api/**",
        lambda route: route.fulfill(
            status=502, content_type="application/json", body='{"error": "Read model unavailable"}'
        ),
    )
    page.goto(observatory.web_url + "/")
    error = page.locator("#splash-error")
    error.wait_for(state="visible", timeout=20_000)
    assert "Read model unavailable" in page.locator("#splash-error-detail").inner_text()
    assert page.locator("#splash-loading").is_hidden()
    assert page.evaluate("document.activeElement.id") == "splash-retry"
    screenshot(page, "splash-error", full_page=False)

    page.unroute("**/api/**")
    page.keyboard.press("Enter")  # Retry has the focus
    page.locator("#splash").wait_for(state="hidden")
    assert page.locator("#stat-total").inner_text() != "-"


def test_new_jobs_appear_live_and_pause_stops_the_stream(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    """Jobs submitted elsewhere show up without a reload; Pause shows and stops it."""
    open_dashboard(page, observatory)
    page.locator("#live-indicator[data-state='live']").wait_for()
    page.evaluate("window.__sameDocument = true")

    job_id = submit_job(observatory, "LIVE_" + uuid.uuid4().hex[:8], {"durationMs": 50})
    row = page.locator(f"#recent-jobs-body tr[data-job-id='{job_id}']")
    row.locator(".pill[data-status='COMPLETED']").wait_for()
    page.locator(f"#raw-events-body a[data-job-id='{job_id}']").first.wait_for()
    screenshot(page, "overview")

    toggle = page.locator("#pause-toggle")
    toggle.click()
    assert page.locator("#live-label").inner_text() == "Paused"
    assert toggle.get_attribute("aria-pressed") == "true"
    toggle.click()
    page.locator("#live-indicator[data-state='live']").wait_for()
    assert toggle.get_attribute("aria-pressed") == "false"
    assert page.evaluate("window.__sameDocument") is True
    assert console.errors == []


def test_without_the_stream_the_dashboard_polls(page: Any, observatory: RunningSystem) -> None:
    """If /api/stream cannot be opened the page says "Polling" and still updates."""
    page.route("**/api/stream", lambda route: route.abort())
    open_dashboard(page, observatory)
    page.locator("#live-indicator[data-state='polling']").wait_for()
    job_id = submit_job(observatory, "POLL_" + uuid.uuid4().hex[:8], {"durationMs": 0})
    page.locator(f"#recent-jobs-body tr[data-job-id='{job_id}']").wait_for(timeout=20_000)
