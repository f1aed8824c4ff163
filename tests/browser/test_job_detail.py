"""Job detail (by row or URL) with Retry, and the Jobs view's filters and paging."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.browser.conftest import (
    Console,
    open_dashboard,
    screenshot,
    submit_job,
    wait_for_status,
)
from tests.system import RunningSystem, wait_until

ROWS_ARE = "n => document.querySelectorAll('#jobs-body tr[data-job-id]').length === n"


def test_failed_job_is_retried_from_its_detail_view(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    """A FAILED job opened by URL shows its error and attempts; Retry runs it again, live."""
    job_id = submit_job(observatory, "DOOMED", {"failProbability": 1, "durationMs": 0})
    failed = wait_for_status(observatory, job_id, "FAILED")
    first_run = len(failed["attemptHistory"])

    open_dashboard(page, observatory, f"#/jobs/{job_id}")
    page.locator("#job-status .pill[data-status='FAILED']").wait_for()
    assert job_id in page.locator("#job-title").inner_text()
    assert page.locator("#job-summary .error-text").inner_text() == failed["error"]
    assert page.locator("#job-attempts-body tr").count() == first_run
    page.locator("#job-timeline [data-event-type='job.failed']").wait_for()
    screenshot(page, "job-detail-failed")

    retry = page.get_by_role("button", name="Retry job")
    retry.click()
    page.locator("#job-action-result.success").wait_for()
    assert "Retry accepted" in page.locator("#job-action-result").inner_text()

    # Every attempt fails, so the second run ends FAILED again, with its attempts added.
    page.wait_for_function(
        "n => document.querySelectorAll('#job-attempts-body tr').length > n",
        arg=first_run,
        timeout=30_000,
    )
    again = wait_until(
        lambda: (
            job
            if (job := httpx.get(f"{observatory.read_model_url}/jobs/{job_id}").json())["status"]
            == "FAILED"
            and len(job["attemptHistory"]) > first_run
            else None
        ),
        timeout=30,
        message="the retried job to fail again",
    )
    page.wait_for_function(
        "n => document.querySelectorAll('#job-attempts-body tr').length === n",
        arg=len(again["attemptHistory"]),
    )
    page.locator("#job-status .pill[data-status='FAILED']").wait_for()
    assert console.errors == []


def test_rows_open_the_detail_and_unknown_ids_say_so(page: Any, observatory: RunningSystem) -> None:
    """Clicking anywhere on a job row opens it; an unknown id in the URL is reported."""
    job_id = submit_job(observatory, "ROWCLICK", {"durationMs": 0})
    wait_for_status(observatory, job_id, "COMPLETED")
    open_dashboard(page, observatory)
    page.locator(f"#recent-jobs-body tr[data-job-id='{job_id}'] td.type").click()
    page.wait_for_url(f"**/#/jobs/{job_id}")
    page.locator("#job-status .pill[data-status='COMPLETED']").wait_for()

    missing = str(uuid.uuid4())
    page.goto(f"{observatory.web_url}/#/jobs/{missing}")
    page.locator("#job-action-result.error").wait_for()
    assert page.locator("#job-action-result").inner_text() == f"Job not found: {missing}"


def test_jobs_view_filters_by_type_and_status_and_pages(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    """30 jobs of one type: 25 on page one, 5 on page two; a status filter narrows them."""
    job_type = "PAGE_" + uuid.uuid4().hex[:8]
    ids = [submit_job(observatory, job_type, {"durationMs": 0}) for _ in range(30)]
    wait_until(
        lambda: (
            httpx.get(
                f"{observatory.read_model_url}/jobs",
                params={"type": job_type, "status": "COMPLETED", "limit": 100},
            )
            .json()["items"]
            .__len__()
            == len(ids)
        ),
        timeout=60,
        message="30 completed jobs",
    )

    open_dashboard(page, observatory, f"#/jobs?type={job_type}")
    rows = page.locator("#jobs-body tr[data-job-id]")
    page.wait_for_function(
        "() => document.querySelectorAll('#jobs-body tr[data-job-id]').length === 25"
    )
    assert page.input_value("#filter-type") == job_type
    screenshot(page, "jobs")
    page.get_by_role("button", name="Next →").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#jobs-body tr[data-job-id]').length === 5"
    )
    assert page.locator("#jobs-page").inner_text() == "Page 2"
    assert page.locator("#jobs-next").is_disabled()
    shown = {rows.nth(i).get_attribute("data-job-id") for i in range(5)}
    page.get_by_role("button", name="← Previous").click()
    page.wait_for_function(
        "() => document.querySelectorAll('#jobs-body tr[data-job-id]').length === 25"
    )
    shown |= {rows.nth(i).get_attribute("data-job-id") for i in range(25)}
    assert shown == set(ids)

    page.select_option("#filter-status", "FAILED")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(f"**/#/jobs?status=FAILED&type={job_type}")
    page.get_by_text("No jobs match these filters").wait_for()
    assert console.errors == []
