"""The Jobs view's search form (id prefix, error text, metadata, created range) on the
read model's /jobs, and bulk retry with its dry-run count and confirmation (SPEC §13)."""

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

ROWS = "#jobs-body tr[data-job-id]"


def shown(page: Any) -> set[str]:
    rows = page.locator(ROWS)
    return {rows.nth(i).get_attribute("data-job-id") for i in range(rows.count())}


def wait_rows(page: Any, ids: set[str]) -> None:
    """Until the table lists exactly `ids` (a row count alone may be the last answer's)."""
    page.wait_for_function(
        f"ids => [...document.querySelectorAll('{ROWS}')].map(r => r.dataset.jobId).sort()"
        ".join() === ids.sort().join()",
        arg=sorted(ids),
    )


def test_the_search_form_narrows_the_jobs_by_id_error_and_metadata(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    """Metadata, error text and id prefix each narrow the list to what the read model's
    search selects; the filters land in the URL; a malformed one is refused in place."""
    job_type = f"SEARCH_{uuid.uuid4().hex[:8]}"
    tier = f"gold-{uuid.uuid4().hex[:6]}"
    gold = httpx.post(
        f"{observatory.gateway_url}/jobs",
        json={"type": job_type, "metadata": {"tier": tier}},
        timeout=10,
    ).json()["jobId"]
    doomed = submit_job(observatory, job_type, {"failProbability": 1, "durationMs": 0})
    wait_for_status(observatory, gold, "COMPLETED")
    wait_for_status(observatory, doomed, "FAILED")

    open_dashboard(page, observatory, f"#/jobs?type={job_type}")
    page.wait_for_function(f"() => document.querySelectorAll('{ROWS}').length === 2")
    page.fill("#filter-meta", f"tier={tier}")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(f"**/#/jobs?type={job_type}&meta.tier={tier}")
    wait_rows(page, {gold})
    screenshot(page, "jobs-search")

    page.fill("#filter-meta", "")
    page.fill("#filter-error", "SIMULATED")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(f"**/#/jobs?type={job_type}&error=SIMULATED")
    wait_rows(page, {doomed})

    page.fill("#filter-error", "")
    page.fill("#filter-id", gold[:9])
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(f"**/#/jobs?type={job_type}&idPrefix={gold[:9]}")
    wait_rows(page, {gold})
    assert shown(page) == {gold}

    page.fill("#filter-id", "xyz")
    page.get_by_role("button", name="Apply").click()
    page.locator("#jobs-message.error").wait_for()
    assert "Id prefix" in page.locator("#jobs-message").inner_text()
    assert console.errors == []


def test_bulk_retry_counts_asks_and_retries_the_failed_jobs(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    """Retry FAILED… counts the FAILED jobs of the filter (a dry run), asks, and on
    confirmation retries them: the result is shown and each job runs again."""
    job_type = f"BULK_{uuid.uuid4().hex[:8]}"
    doomed = [
        submit_job(observatory, job_type, {"failProbability": 1, "durationMs": 0}) for _ in range(3)
    ]
    for job_id in doomed:
        wait_for_status(observatory, job_id, "FAILED")

    open_dashboard(page, observatory, f"#/jobs?type={job_type}&status=FAILED")
    page.wait_for_function(f"() => document.querySelectorAll('{ROWS}').length === 3")
    page.get_by_role("button", name="Retry FAILED…").click()
    question = page.locator("#bulk-retry-question")
    question.wait_for()
    assert question.inner_text() == f"Retry 3 FAILED jobs (type={job_type})?"
    screenshot(page, "jobs-bulk-retry-confirm")
    page.get_by_role("button", name="Retry 3 jobs").click()
    page.locator("#bulk-retry-result.success").wait_for()
    assert "Retried 3 of 3" in page.locator("#bulk-retry-result").inner_text()

    def ran_again() -> bool:
        jobs = [
            httpx.get(f"{observatory.read_model_url}/jobs/{j}", timeout=5).json() for j in doomed
        ]
        # run 2 shows from acceptance (a PENDING row): wait until it has failed again
        return all(job["run"] == 2 and job["status"] == "FAILED" for job in jobs)

    wait_until(ran_again, timeout=60, message="the three jobs to run again and fail")

    page.get_by_role("button", name="Retry FAILED…").click()
    page.locator("#bulk-retry-question").wait_for()
    page.get_by_role("button", name="Cancel").click()
    page.locator("#bulk-retry-question").wait_for(state="hidden")
    assert console.errors == []
