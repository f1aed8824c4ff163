"""The New Task form: the gateway's rule checked before sending, the job followed to the end."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.browser.conftest import UUID, Console, open_dashboard, screenshot
from tests.system import RunningSystem


def test_submitted_job_is_shown_completed_without_a_reload(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    """Submit from the form, see the job id, then COMPLETED in Recent Jobs and its timeline."""
    open_dashboard(page, observatory)
    page.evaluate("window.__sameDocument = true")
    job_type = "ui_" + uuid.uuid4().hex[:8]

    page.get_by_role("button", name="New Task").click()
    dialog = page.locator("#new-task-dialog")
    assert dialog.is_visible()
    assert page.evaluate("document.activeElement.id") == "task-type"
    page.keyboard.type(job_type)
    page.fill("#task-duration", "150")
    page.fill("#task-failure", "0")
    screenshot(page, "new-task", full_page=False)
    page.keyboard.press("Enter")

    created = page.locator("#task-result code[data-job-id]")
    created.wait_for()
    job_id = created.get_attribute("data-job-id")
    assert UUID.fullmatch(job_id or "")
    assert "Job created" in page.locator("#task-result").inner_text()

    page.keyboard.press("Escape")
    assert dialog.is_hidden()
    row = page.locator(f"#recent-jobs-body tr[data-job-id='{job_id}']")
    row.locator(".pill[data-status='COMPLETED']").wait_for(timeout=20_000)
    assert row.locator("td.type").inner_text() == job_type.upper()

    job = httpx.get(f"{observatory.read_model_url}/jobs/{job_id}", timeout=5).json()
    assert job["payload"] == {"simulate": {"durationMs": 150, "failProbability": 0}}

    row.locator("a.job-link").click()  # the timeline is one click away
    page.locator("#job-status .pill[data-status='COMPLETED']").wait_for()
    timeline = page.locator("#job-timeline")
    timeline.locator("[data-event-type='job.created']").wait_for()
    timeline.locator("[data-event-type='job.completed']").wait_for()
    assert page.evaluate("window.__sameDocument") is True
    assert console.errors == []


def test_bad_job_types_are_refused_before_sending(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    """The form applies the server's rule itself: nothing is sent for a bad type."""
    open_dashboard(page, observatory)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.get_by_role("button", name="New Task").click()

    cases = {
        "bad type!": "Job type must be alphanumeric (underscores/hyphens allowed)",
        "x" * 51: "Job type too long (max 50 chars)",
        "   ": "Job type cannot be empty",
        "Ünïcode": "Job type must be alphanumeric (underscores/hyphens allowed)",
    }
    for value, message in cases.items():
        page.fill("#task-type", value)
        page.click("#task-submit")
        result = page.locator("#task-result.error")
        result.wait_for()
        assert result.inner_text() == f"✗ {message}"
        assert page.get_attribute("#task-type", "aria-invalid") == "true"

    page.fill("#task-type", "OK_TYPE")
    page.fill("#task-failure", "1.5")
    page.click("#task-submit")
    assert "Failure probability" in page.locator("#task-result.error").inner_text()
    assert posts == []
    screenshot(page, "new-task-validation", full_page=False)
    assert console.errors == []
