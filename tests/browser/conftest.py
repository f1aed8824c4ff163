"""Browser tests: Debian's Chromium driven by Playwright against a real running system.

One system (embedded, free ports) serves all browser tests, with a fake Alertmanager
behind ALERTMANAGER_URL; tests that need another configuration start their own.
Playwright's sync API keeps its event loop marked as running while it is open, which
would break every asyncio test after it, so its fixtures are package-scoped: they end
with the last browser test.
Without /usr/bin/chromium the tests are skipped with the reason printed (CI=true fails).
Screenshots of each main view go to test-artifacts/browser/.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser.alertmanager import FakeAlertmanager
from tests.system import RunningSystem, start_system, wait_until

CHROMIUM = Path(os.environ.get("ODTO_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


@pytest.fixture(scope="session")
def chromium() -> Any:
    """The Playwright module, once Chromium and Playwright are known to be there."""
    problem = None
    if not CHROMIUM.exists():
        problem = f"{CHROMIUM} is missing (apt-get install chromium)"
    else:
        try:
            import playwright.sync_api as sync_api
        except ImportError:
            problem = "the playwright package is not installed"
    if problem:
        if IN_CI:
            pytest.fail(f"browser tests need Chromium: {problem}, and CI=true requires them")
        pytest.skip(f"browser tests need Chromium: {problem}")
    return sync_api


@pytest.fixture(scope="package")
def browser(chromium: Any) -> Iterator[Any]:
    with chromium.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="package")
def alertmanager() -> Iterator[FakeAlertmanager]:
    fake = FakeAlertmanager().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="package")
def observatory(
    tmp_path_factory: pytest.TempPathFactory, alertmanager: FakeAlertmanager, chromium: Any
) -> Iterator[RunningSystem]:
    """The system every browser test shares (started only when Chromium is there)."""
    running = start_system(
        tmp_path_factory.mktemp("browser-system"), env={"ALERTMANAGER_URL": alertmanager.url}
    )
    try:
        yield running
    finally:
        running.stop()


class Console:
    """What the page wrote to its console as errors, and uncaught exceptions."""

    def __init__(self, page: Any) -> None:
        self.errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))

    def _on_console(self, message: Any) -> None:
        if message.type == "error":
            self.errors.append(message.text)


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 900})
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


@pytest.fixture
def console(page: Any) -> Console:
    """Console errors of `page`; most tests assert there are none."""
    return Console(page)


def screenshot(page: Any, name: str, *, full_page: bool = True) -> None:
    """Save a screenshot artefact (test-artifacts/browser/<name>.png)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)


def open_dashboard(page: Any, system: RunningSystem, route: str = "") -> None:
    """Open the dashboard and wait until the splash has given way to data."""
    page.goto(f"{system.web_url}/{route}")
    page.locator("#splash").wait_for(state="hidden")


def submit_job(system: RunningSystem, job_type: str, simulate: dict[str, Any]) -> str:
    """Submit a job straight to the gateway; returns its id."""
    response = httpx.post(
        f"{system.gateway_url}/jobs",
        json={"type": job_type, "payload": {"simulate": simulate}},
        timeout=10,
    )
    assert response.status_code == 202, response.text
    return str(response.json()["jobId"])


def wait_for_status(
    system: RunningSystem, job_id: str, status: str, *, event: str | None = None
) -> dict[str, Any]:
    """The job once it has `status` (and, with `event`, once that event is stored too: the
    job's row and its events are written by two services, so either may come first)."""

    def current() -> dict[str, Any] | None:
        response = httpx.get(f"{system.read_model_url}/jobs/{job_id}", timeout=5)
        job: dict[str, Any] | None = response.json() if response.status_code == 200 else None
        if not job or job["status"] != status:
            return None
        if event is not None and event not in {e["eventType"] for e in job["events"]}:
            return None
        return job

    found: dict[str, Any] = wait_until(current, timeout=30, message=f"job {job_id} {status}")
    return found
