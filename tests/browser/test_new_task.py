"""The New Task form: the gateway's rule checked before sending, the job followed to the end."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import UUID, Console, open_dashboard, screenshot
from tests.system import RunningSystem, start_system


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


def test_gateway_refusal_is_shown_and_a_token_gets_the_job_through(
    page: Any, console: Console, tmp_path: Path
) -> None:
    """With ODTO_API_TOKEN set, the server's 401 message is shown, a token field appears,
    and with the token the job is accepted (the proxy forwards Authorization)."""
    system = start_system(tmp_path, env={"ODTO_API_TOKEN": "s3cret-token"})
    try:
        open_dashboard(page, system)
        page.get_by_role("button", name="New Task").click()
        page.fill("#task-type", "GUARDED")
        page.click("#task-submit")
        page.locator("#task-result.error").wait_for()
        assert page.locator("#task-result").inner_text() == "✗ A valid bearer token is required"
        token = page.locator("#task-token")
        assert token.is_visible()
        assert page.evaluate("document.activeElement.id") == "task-token"

        token.fill("s3cret-token")
        page.click("#task-submit")
        created = page.locator("#task-result code[data-job-id]")
        created.wait_for()
        assert UUID.fullmatch(created.get_attribute("data-job-id") or "")
        # Only the refused POST may have logged an error (the browser reports every 401).
        assert [e for e in console.errors if "401" not in e] == []
    finally:
        system.stop()
