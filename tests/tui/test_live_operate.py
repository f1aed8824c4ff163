"""Operating the queue from the TUI against a running system (Pilot): C C cancels a job
that waits, and a running one answers with its status; D lists dead letters, S filters
them by state and P P replays one (a refused replay says why); F filters them by reason
and B replays the new ones of the filter after a dry-run count and a confirmation, then
shows the counts and the letters refused again; A shows the audit, naming the TUI's
actor."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import httpx
from textual.widgets import Select

from observatory.core.actor import cli_actor
from observatory.core.stores.records import Pending
from observatory.core.stores.sqlite_jobs import SqliteJobStore
from observatory.interfaces.tui.screens.confirm import ConfirmScreen
from observatory.interfaces.tui.screens.job_detail import JobDetailScreen
from observatory.interfaces.tui.screens.letter_filter import LetterFilterScreen
from observatory.interfaces.tui.screens.operate import AuditScreen, DeadLettersScreen
from tests.browser.test_dead_letters import publish_raw
from tests.system import RunningSystem
from tests.tui.conftest import job_rows, live_app, open_with, screen_text, showing, wait_for
from tests.tui.test_live_dashboard import on_dashboard, submit_directly, unique_type
from tests.waiting import wait_until_async


async def waiting_job(system: RunningSystem) -> str:
    """A PENDING row never delivered, so no processor takes it while the test looks."""
    job_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    store = SqliteJobStore(system.data_dir / "jobs.sqlite3")
    await store.open()
    try:
        await store.accept(
            [Pending(job_id, "WAITING", {}, {}, now, 1, str(uuid.uuid4()), "c", now)]
        )
    finally:
        await store.close()
    return job_id


async def test_c_twice_cancels_a_waiting_job_and_a_running_one_says_why_not(
    live: RunningSystem,
) -> None:
    waiting = await waiting_job(live)
    running = submit_directly(live, unique_type("LONG"), durationMs=60000)
    app = live_app(live)
    async with app.run_test(size=(110, 36)) as pilot:
        await wait_for(pilot, lambda: on_dashboard(app))
        app.push_screen(JobDetailScreen(waiting))
        detail = await wait_for(pilot, lambda: showing(app, JobDetailScreen))
        await wait_for(pilot, lambda: detail.detail)
        await pilot.press("c")
        assert "Press C again" in screen_text(app)
        await pilot.press("c")
        await wait_for(pilot, lambda: "it will not run" in screen_text(app), what="cancelled")
        await wait_for(
            pilot,
            lambda: detail.detail is not None and detail.detail.summary.status == "CANCELLED",
        )
        await pilot.press("escape")

        app.push_screen(JobDetailScreen(running))
        other = await wait_for(pilot, lambda: showing(app, JobDetailScreen))
        await wait_for(
            pilot,
            lambda: other.detail is not None and other.detail.summary.status == "EXECUTING",
            timeout=30,
        )
        await pilot.press("c", "c")
        await wait_for(pilot, lambda: "Not cancelled" in screen_text(app), what="a refusal")
        assert "EXECUTING" in screen_text(app)
        await pilot.press("escape")

        await wait_for(pilot, lambda: on_dashboard(app))
        await open_with(pilot, "a", AuditScreen)
        await wait_for(
            pilot,
            lambda: any(
                r[1] == "cancel" and r[2] == cli_actor() for r in job_rows(app, "#operate-table")
            ),
            what="the cancel in the audit",
        )


async def _stored(system: RunningSystem, marker: str) -> bool:
    async with httpx.AsyncClient(timeout=5) as client:
        found = await client.get(f"{system.read_model_url}/dead-letters", params={"limit": 200})
    return any(marker in str(d.get("original_event")) for d in found.json())


async def test_dead_letters_are_filtered_and_a_refused_replay_says_why(
    live: RunningSystem,
) -> None:
    marker = uuid.uuid4().hex[:12]
    await asyncio.to_thread(publish_raw, live, f"garbage {marker}".encode())
    # the screen loads once when opened (R reloads): open it once the letter is stored
    await wait_until_async(
        lambda: _stored(live, marker), timeout=30, message="the dead letter stored"
    )
    app = live_app(live)
    async with app.run_test(size=(140, 36)) as pilot:
        await wait_for(pilot, lambda: on_dashboard(app))
        screen = await open_with(pilot, "d", DeadLettersScreen)

        def letters() -> list[list[str]]:
            return job_rows(app, "#operate-table")

        await wait_for(pilot, lambda: any("not JSON" in r[4] for r in letters()), timeout=30)
        await pilot.press("s")  # new only
        await wait_for(pilot, lambda: screen.state == "new" and letters())
        assert {r[3] for r in letters()} == {"new"}
        await pilot.press("p")
        assert "Press P again" in screen_text(app)
        await pilot.press("p")
        await wait_for(pilot, lambda: "refused" in screen_text(app), what="the refusal")
        assert "not JSON" in screen_text(app)
        await pilot.press("s", "s")  # replay_failed
        await wait_for(
            pilot, lambda: screen.state == "replay_failed" and letters(), what="replay_failed"
        )
        assert {r[3] for r in letters()} == {"replay_failed"}
        response = httpx.get(f"{live.read_model_url}/audit", timeout=5).json()
        assert any(e["action"] == "replay" and e["actor"] == cli_actor() for e in response["items"])


def refused_envelope(marker: str, n: int) -> bytes:
    """JSON that fails validation with `marker` in the reason (its event type)."""
    return (
        b'{"contractVersion": "1.0.0", "eventType": "zz-%s-%d", "eventId": "x",'
        b' "occurredAt": "x", "producer": {}, "correlationId": "c", "idempotencyKey": "k",'
        b' "payload": {}}' % (marker.encode(), n)
    )


async def test_b_replays_the_new_letters_of_the_filter_after_counting_and_asking(
    live: RunningSystem,
) -> None:
    marker = uuid.uuid4().hex[:12]
    for n in (1, 2):
        await asyncio.to_thread(publish_raw, live, refused_envelope(marker, n))

    async def stored() -> bool:
        async with httpx.AsyncClient(timeout=5) as client:
            found = await client.get(
                f"{live.read_model_url}/dead-letters", params={"reason": f"zz-{marker}"}
            )
        return len(found.json()) == 4  # each refused by the processor and the metrics engine

    await wait_until_async(stored, timeout=30, message="the four letters stored")
    app = live_app(live)
    async with app.run_test(size=(140, 36)) as pilot:
        await wait_for(pilot, lambda: on_dashboard(app))
        screen = await open_with(pilot, "d", DeadLettersScreen)

        def letters() -> list[list[str]]:
            return job_rows(app, "#operate-table")

        asking = await open_with(pilot, "f", LetterFilterScreen)
        await pilot.press(*f"zz-{marker}")
        asking.query_one("#letter-queue", Select).value = "jobs.created"  # the processor's
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, DeadLettersScreen))
        assert (screen.letter_filter.reason, screen.letter_filter.queue) == (
            f"zz-{marker}",
            "jobs.created",
        )
        await wait_for(pilot, lambda: len(letters()) == 2, what="the two letters listed")
        assert {(r[2], r[3]) for r in letters()} == {("jobs.created", "new")}

        await open_with(pilot, "b", ConfirmScreen)
        question = f"Replay 2 new dead letters (reason=zz-{marker} queue=jobs.created)"
        assert question in screen_text(app)
        await pilot.press("n")  # changed their mind: nothing is sent
        await wait_for(pilot, lambda: "nothing was sent" in screen_text(app))
        assert {r[3] for r in letters()} == {"new"}

        await open_with(pilot, "b", ConfirmScreen)
        await pilot.press("y")

        def shown_outcome() -> str | None:
            text = screen_text(app)
            return text if "Bulk replay: replayed" in text else None

        outcome = await wait_for(pilot, shown_outcome, what="the outcome")
        assert "replayed 0 of 2 matched; 2 refused again (replay_failed)" in outcome
        await wait_for(pilot, lambda: {r[3] for r in letters()} == {"replay_failed"})
        for letter_id in (r[0] for r in letters()):
            assert letter_id in outcome  # the refused letters are named

    audit = httpx.get(f"{live.read_model_url}/audit", timeout=5).json()["items"]
    mine = [e for e in audit if e["action"] == "bulk-replay" and marker in str(e["filter"])]
    assert all(e["filter"] == {"reason": f"zz-{marker}", "queue": "jobs.created"} for e in mine)
    assert [(e["actor"], e["result"]["dryRun"]) for e in mine] == [
        (cli_actor(), False),
        (cli_actor(), True),
        (cli_actor(), True),
    ]
