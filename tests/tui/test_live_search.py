"""The dashboard's `/` filter on the read model's search and `B` bulk retry with its
dry-run count and confirmation, driven with Pilot against a real system (SPEC §13)."""

from __future__ import annotations

import uuid

import httpx

from observatory.interfaces.tui.app import ObservatoryApp
from observatory.interfaces.tui.screens.confirm import ConfirmScreen
from observatory.interfaces.tui.screens.dashboard import DashboardScreen
from observatory.interfaces.tui.screens.filter import FilterScreen
from tests.system import RunningSystem
from tests.tui.conftest import job_rows, live_app, open_with, showing, wait_for
from tests.waiting import wait_until


def submit(system: RunningSystem, job_type: str, **body: object) -> str:
    response = httpx.post(f"{system.gateway_url}/jobs", json={"type": job_type, **body}, timeout=5)
    assert response.status_code == 202, response.text
    return str(response.json()["jobId"])


def job(system: RunningSystem, job_id: str) -> dict[str, object]:
    answer = httpx.get(f"{system.read_model_url}/jobs/{job_id}", timeout=5)
    return dict(answer.json()) if answer.status_code == 200 else {}


def notified(app: ObservatoryApp, words: str) -> bool:
    return any(words in str(n.message) for n in app._notifications)


async def test_slash_searches_by_id_error_and_metadata(live: RunningSystem) -> None:
    """The filter dialog's id prefix, error text and metadata fields narrow the table to
    the jobs the read model's search selects."""
    job_type = f"SEARCH_{uuid.uuid4().hex[:8]}"
    tier = f"gold-{uuid.uuid4().hex[:6]}"
    gold = submit(live, job_type, metadata={"tier": tier})
    plain = submit(live, job_type)
    wait_until(lambda: job(live, gold).get("status") == "COMPLETED" and job(live, plain))
    app = live_app(live)
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_for(pilot, lambda: showing(app, DashboardScreen))
        await open_with(pilot, "slash", FilterScreen)
        await pilot.press(*job_type, "tab", *gold[:6], "tab", "tab", *f"tier={tier}", "enter")
        screen = await wait_for(pilot, lambda: showing(app, DashboardScreen))
        await wait_for(pilot, lambda: [r[0] for r in job_rows(app)] == [gold[:8]], what="gold")
        assert screen.job_filter.meta == (("tier", tier),)
        assert f"tier={tier}" in str(app.screen.query_one("#jobs").border_title)

        dialog = await open_with(pilot, "slash", FilterScreen)
        await pilot.press("tab", *"xyz", "enter")
        assert showing(app, FilterScreen) is dialog  # a bad id prefix keeps the dialog open
        assert "id must be the start of a UUID" in str(dialog.query_one("#filter-message").render())


async def test_b_counts_asks_and_retries_the_failed_jobs_of_the_filter(
    live: RunningSystem,
) -> None:
    """B counts the FAILED jobs of the filter's type (dry run), asks, and on Y retries
    them: the answer is shown and each job runs again (run 2)."""
    job_type = f"BULK_{uuid.uuid4().hex[:8]}"
    failing = [
        submit(live, job_type, payload={"simulate": {"failProbability": 1}}) for _ in range(2)
    ]
    wait_until(
        lambda: all(job(live, j).get("status") == "FAILED" for j in failing),
        timeout=30,
        message="both jobs FAILED",
    )
    app = live_app(live)
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_for(pilot, lambda: showing(app, DashboardScreen))
        await open_with(pilot, "slash", FilterScreen)
        await pilot.press(*job_type, "enter")
        await wait_for(pilot, lambda: len(job_rows(app)) == 2, what="the two failed jobs")

        confirm = await open_with(pilot, "b", ConfirmScreen)
        assert f"Retry 2 FAILED jobs (type={job_type})?" in str(
            confirm.query_one("#confirm-question").render()
        )
        await pilot.press("y")
        await wait_for(pilot, lambda: notified(app, "retried 2 of 2 matched"), what="result")
    wait_until(lambda: all(job(live, j).get("run") == 2 for j in failing), message="both ran again")
