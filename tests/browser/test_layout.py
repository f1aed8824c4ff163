"""Narrow phones and wide screens: no horizontal scrolling, everything reachable."""

from __future__ import annotations

from typing import Any

from tests.browser.conftest import Console, screenshot, submit_job, wait_for_status
from tests.system import RunningSystem

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"
DEAD_LETTERS_LOADED = "#dead-letters-body tr:not(:has-text('Loading'))"
# Tables may not hide columns behind a sideways scroll either.
TABLES_FIT = (
    "[...document.querySelectorAll('.view:not([hidden]) .table-wrap')]"
    ".every(w => w.scrollWidth <= w.clientWidth)"
)


def test_375px_wide_has_no_horizontal_scroll_in_any_view(
    browser: Any, observatory: RunningSystem
) -> None:
    """At 375 px every view (and the New Task dialog) fits the width."""
    job_id = submit_job(observatory, "NARROW-" + "X" * 40, {"failProbability": 1})
    wait_for_status(observatory, job_id, "FAILED")
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    console = Console(page)
    try:
        page.goto(observatory.web_url + "/")
        page.locator("#splash").wait_for(state="hidden")
        for route, loaded, name in [
            ("#/", f"#recent-jobs-body tr[data-job-id='{job_id}']", "overview-375"),
            ("#/jobs", f"#jobs-body tr[data-job-id='{job_id}']", "jobs-375"),
            (f"#/jobs/{job_id}", "#job-timeline [data-event-type='job.failed']", "job-detail-375"),
            (
                "#/dead-letters",
                "#dead-letters-body tr:not(:has-text('Loading'))",
                "dead-letters-375",
            ),
            ("#/audit", "#audit-body tr:not(:has-text('Loading'))", "audit-375"),
        ]:
            page.goto(f"{observatory.web_url}/{route}")
            page.locator(loaded).first.wait_for()
            assert page.evaluate(OVERFLOW) <= 0, f"{route} scrolls sideways"
            assert page.evaluate(TABLES_FIT), f"a table in {route} scrolls sideways"
            screenshot(page, name)
        page.goto(observatory.web_url + "/#/")
        page.get_by_role("button", name="New Task").click()
        assert page.evaluate(OVERFLOW) <= 0
        screenshot(page, "new-task-375", full_page=False)
        assert console.errors == []
    finally:
        context.close()


def test_keyboard_alone_opens_a_job_from_the_overview(
    page: Any, observatory: RunningSystem
) -> None:
    """Tab reaches the job links; Enter opens the job and moves focus to its heading."""
    job_id = submit_job(observatory, "KEYBOARD", {"durationMs": 0})
    wait_for_status(observatory, job_id, "COMPLETED")
    page.goto(observatory.web_url + "/")
    page.locator("#splash").wait_for(state="hidden")
    page.locator(f"#recent-jobs-body a[data-job-id='{job_id}']").wait_for()
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.dataset.jobId") == job_id:
            break
    else:
        raise AssertionError("the job link is not reachable with Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/#/jobs/{job_id}")
    page.wait_for_function("() => document.activeElement.id === 'job-title'")
