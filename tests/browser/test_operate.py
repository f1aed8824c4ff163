"""Operating the queue in the dashboard (SPEC §13): Cancel in a job's detail (a waiting
job is cancelled, a running one answers with its status), dead letters filtered by state
and replayed (a refused replay shows why and turns replay_failed), bulk replay behind a
confirmation, and the Audit view listing what was done."""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from observatory.core.stores.records import Pending
from observatory.core.stores.sqlite_jobs import SqliteJobStore
from tests.browser.conftest import Console, open_dashboard, screenshot, submit_job
from tests.browser.test_dead_letters import publish_raw
from tests.system import RunningSystem


def waiting_job(system: RunningSystem) -> str:
    """A job accepted but never delivered: its PENDING row, written straight to the store,
    so no processor takes it while the test looks at it."""
    job_id = str(uuid.uuid4())
    now = datetime.now(UTC)

    async def write() -> None:
        store = SqliteJobStore(system.data_dir / "jobs.sqlite3")
        await store.open()
        try:
            pending = Pending(
                job_id, "WAITING", {}, {}, now, 1, str(uuid.uuid4()), str(uuid.uuid4()), now
            )
            await store.accept([pending])
        finally:
            await store.close()

    with ThreadPoolExecutor(1) as pool:  # Playwright's sync API owns this thread's loop
        pool.submit(asyncio.run, write()).result(timeout=30)
    return job_id


def test_a_waiting_job_is_cancelled_and_a_running_one_says_why_not(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    waiting = waiting_job(observatory)
    open_dashboard(page, observatory, f"#/jobs/{waiting}")
    page.locator("#job-status .pill[data-status='PENDING']").wait_for()
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel job").click()
    page.locator("#job-action-result.success").wait_for()
    page.locator("#job-status .pill[data-status='CANCELLED']").wait_for()
    assert page.get_by_role("button", name="Cancel job").is_hidden()
    screenshot(page, "job-cancelled")

    running = submit_job(observatory, "LONG", {"durationMs": 60000})
    open_dashboard(page, observatory, f"#/jobs/{running}")
    page.locator("#job-status .pill[data-status='EXECUTING']").wait_for(timeout=20_000)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel job").click()
    page.locator("#job-action-result.error").wait_for()
    assert "job is EXECUTING" in page.locator("#job-action-result").inner_text()

    open_dashboard(page, observatory, "#/audit")
    cancel_rows = page.locator("#audit-body tr[data-audit-action='cancel']")
    cancel_rows.first.wait_for()
    assert cancel_rows.count() >= 2
    assert "jobStatus=CANCELLED" in page.locator("#audit-body").inner_text()
    screenshot(page, "audit")
    # the browser logs the refused request itself; nothing else may go wrong
    assert [e for e in console.errors if "409 (Conflict)" not in e] == []


def test_a_dead_letter_replay_that_is_refused_shows_why(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    marker = uuid.uuid4().hex[:12]
    publish_raw(observatory, f"broken {marker}".encode())
    open_dashboard(page, observatory, "#/dead-letters")
    page.locator("#dead-letters-state").select_option("new")
    row = page.locator("#dead-letters-body tr[data-state='new']", has_text=marker).first
    row.wait_for(timeout=20_000)
    row.get_by_role("button").click()
    page.locator("#dead-letters-result.error").wait_for()
    assert "not JSON" in page.locator("#dead-letters-result").inner_text()

    page.locator("#dead-letters-state").select_option("replay_failed")
    page.locator(
        "#dead-letters-body tr[data-state='replay_failed']", has_text=marker
    ).first.wait_for()
    screenshot(page, "dead-letters-replay-failed")

    # Bulk: counted first, confirmed, then sent (each remaining copy of the message is
    # refused again, so the result names the refusals).
    page.locator("#dead-letters-state").select_option("")
    page.locator("#dead-letters-reason").fill("not JSON")
    page.locator("#dead-letters-reason").dispatch_event("change")
    asked: list[str] = []

    def confirm(dialog: Any) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.on("dialog", confirm)
    page.get_by_role("button", name="Replay all new matching").click()
    page.wait_for_function(
        "() => /Replayed|No new/.test(document.querySelector('#dead-letters-result').textContent)"
    )
    result = page.locator("#dead-letters-result").inner_text()
    assert ("Replay" in asked[0] and "Replayed" in result) if asked else "No new" in result
    assert [e for e in console.errors if "422 (Unprocessable" not in e] == []
