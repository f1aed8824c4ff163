"""The Active Alerts panel in its three states: alerts, none, unavailable."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.alertmanager import FakeAlertmanager, alert
from tests.browser.conftest import Console, open_dashboard, screenshot
from tests.system import RunningSystem


@pytest.fixture
def firing(alertmanager: FakeAlertmanager) -> Iterator[FakeAlertmanager]:
    yield alertmanager
    alertmanager.alerts = []


def test_firing_alerts_are_listed_with_their_severity(
    page: Any, console: Console, observatory: RunningSystem, firing: FakeAlertmanager
) -> None:
    """Each alert shows its name, severity and service; the card counts them."""
    firing.alerts = [
        alert("QueueBacklogGrowing", "warning", "processor", "Backlog grows"),
        alert("JobFailureRateHigh", "critical", "processor", "Too many failures <b>now</b>"),
    ]
    open_dashboard(page, observatory)
    panel = page.locator("#alerts[data-state='alerts']")
    panel.wait_for()
    items = panel.locator("li.alert")
    assert items.count() == 2
    critical = items.nth(0)  # the read model puts critical first
    assert "severity-critical" in (critical.get_attribute("class") or "")
    assert critical.locator(".alert-name").inner_text() == "JobFailureRateHigh"
    assert critical.locator(".alert-summary").inner_text() == "Too many failures <b>now</b>"
    assert "Service: processor" in critical.inner_text()
    assert "severity-warning" in (items.nth(1).get_attribute("class") or "")
    assert page.locator("#stat-alerts").inner_text() == "2"
    screenshot(page, "alerts-firing")
    assert console.errors == []


def test_no_alerts_is_said_plainly(
    page: Any, console: Console, observatory: RunningSystem, firing: FakeAlertmanager
) -> None:
    firing.alerts = []
    open_dashboard(page, observatory)
    page.locator("#alerts[data-state='none']").wait_for()
    assert page.locator("#alerts").inner_text() == "✓ No active alerts"
    assert page.locator("#stat-alerts").inner_text() == "0"
    assert console.errors == []


def test_without_alertmanager_the_panel_says_unavailable_and_why(
    page: Any, console: Console, system: RunningSystem, chromium: Any
) -> None:
    """No ALERTMANAGER_URL: a distinct 'unavailable' state with the read model's reason."""
    open_dashboard(page, system)
    page.locator("#alerts[data-state='unavailable']").wait_for()
    text = page.locator("#alerts").inner_text()
    assert "Alerts unavailable" in text
    assert "ALERTMANAGER_URL" in text
    assert page.locator("#stat-alerts").inner_text() == "–"
    screenshot(page, "alerts-unavailable")
    assert console.errors == []
