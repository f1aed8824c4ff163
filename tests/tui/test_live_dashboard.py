"""The dashboard and its dialogs, driven with Pilot against a real read model and gateway."""

from __future__ import annotations

import uuid

import httpx
import pytest
from textual.command import CommandList, CommandPalette
from textual.widgets import DataTable, Input, OptionList, Select, Sparkline

from observatory.core.contracts.registry import load_registry
from observatory.interfaces.tui.app import ObservatoryApp
from observatory.interfaces.tui.screens.dashboard import DashboardScreen
from observatory.interfaces.tui.screens.filter import FilterScreen
from observatory.interfaces.tui.screens.help import HelpScreen
from observatory.interfaces.tui.screens.job_detail import JobDetailScreen
from observatory.interfaces.tui.screens.new_task import NewTaskScreen
from observatory.interfaces.tui.screens.ui_launcher import UiLauncherScreen
from tests.system import RunningSystem
from tests.tui.conftest import (
    Opened,
    job_rows,
    live_app,
    make_app,
    nowhere,
    open_with,
    screen_text,
    showing,
    wait_for,
)


def unique_type(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def submit_directly(system: RunningSystem, job_type: str, **simulate: object) -> str:
    body: dict[str, object] = {"type": job_type}
    if simulate:
        body["payload"] = {"simulate": simulate}
    response = httpx.post(f"{system.gateway_url}/jobs", json=body, timeout=5)
    assert response.status_code == 202, response.text
    return str(response.json()["jobId"])


def on_dashboard(app: ObservatoryApp) -> DashboardScreen | None:
    screen = app.screen
    if isinstance(screen, DashboardScreen) and screen.refresh_count:
        return screen
    return None


def row_status(app: ObservatoryApp, job_id: str) -> str | None:
    for row in job_rows(app):
        if row[0] == job_id[:8]:
            return row[2]
    return None


def palette_offers(app: ObservatoryApp, words: str) -> bool:
    """True once the open command palette has its hits listed with `words` highlighted."""
    if not isinstance(app.screen, CommandPalette):
        return False
    hits = app.screen.query_one(CommandList)
    if hits.highlighted is None:
        return False
    return words in str(hits.get_option_at_index(hits.highlighted).prompt)


async def test_the_statistics_panel_draws_sparklines_of_the_series(live: RunningSystem) -> None:
    """After jobs complete and fail, the Completed and Failed sparklines hold the read
    model's 15-min series (90 steps of 10 s) and their totals say how many."""
    done = [submit_directly(live, unique_type("SPARK_OK"), durationMs=5) for _ in range(2)]
    failed = submit_directly(live, unique_type("SPARK_FAIL"), failProbability=1)

    def ended() -> bool:
        states = [
            httpx.get(f"{live.read_model_url}/jobs/{i}", timeout=5).json().get("status")
            for i in [*done, failed]
        ]
        return states == ["COMPLETED", "COMPLETED", "FAILED"]

    app = live_app(live)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await wait_for(pilot, lambda: on_dashboard(app), what="the dashboard")
        await wait_for(pilot, ended, timeout=30, what="the jobs to end")

        def drawn() -> bool:
            throughput = list(screen.query_one("#spark-throughput", Sparkline).data or [])
            failures = list(screen.query_one("#spark-failures", Sparkline).data or [])
            return len(throughput) == 90 and sum(throughput) >= 2 and sum(failures) >= 1

        await wait_for(pilot, drawn, timeout=30, what="the sparklines to show the jobs")
        series = httpx.get(f"{live.read_model_url}/stats/series", timeout=5).json()
        completed = sum(p["completed"] for p in series["points"])
        await wait_for(
            pilot,
            lambda: sum(screen.query_one("#spark-throughput", Sparkline).data or []) == completed,
            what="the sparkline to match /stats/series",
        )
        text = screen_text(app)
        assert f"{completed} in 15m" in text


async def test_the_dashboard_shows_the_read_models_live_statistics(live: RunningSystem) -> None:
    submit_directly(live, unique_type("STATS"))
    app = live_app(live)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await wait_for(pilot, lambda: on_dashboard(app), what="the dashboard")
        expected = httpx.get(f"{live.read_model_url}/stats").json()
        await wait_for(pilot, lambda: screen.stats and screen.stats.total >= expected["totalJobs"])
        text = screen_text(app)
        assert "Total" in text
        assert "Completed" in text
        assert "In flight" in text
        assert screen.stats is not None  # the wait above saw them
        assert str(screen.stats.total) in text
        assert "● live" in text
        # Without Alertmanager the real read model says why alerts are unavailable.
        assert "Unavailable (Alertmanager is not configured" in text


async def test_new_task_creates_a_job_that_turns_completed_on_screen(live: RunningSystem) -> None:
    job_type = unique_type("TUI")
    app = live_app(live)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: on_dashboard(app), what="the dashboard")
        dialog = await open_with(pilot, "n", NewTaskScreen)
        assert dialog.query_one("#job-type", Input).value == ""  # the N was not typed as well
        await pilot.press(*job_type, "tab", "2", "0", "0", "enter")
        await wait_for(pilot, lambda: dialog.state == "created", what="the job id")
        assert dialog.job_id is not None
        assert f"Job created: {dialog.job_id}" in screen_text(app)
        await pilot.press("x")  # any key closes
        await wait_for(pilot, lambda: showing(app, DashboardScreen))
        job_id = dialog.job_id
        await wait_for(pilot, lambda: row_status(app, job_id) == "COMPLETED", what="COMPLETED row")
    detail = httpx.get(f"{live.read_model_url}/jobs/{job_id}").json()
    assert detail["type"] == job_type


async def test_new_task_checks_the_type_before_sending_and_keys_go_to_the_field(
    live: RunningSystem,
) -> None:
    app = live_app(live)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: on_dashboard(app))
        dialog = await open_with(pilot, "N", NewTaskScreen)
        await pilot.press("q", "u", "r", "space", "x", "enter")  # Q and U are typed, not obeyed
        assert isinstance(app.screen, NewTaskScreen)
        assert dialog.query_one("#job-type", Input).value == "qur x"
        assert dialog.state == "failed"
        assert "may contain only letters A-Z, digits" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)
        assert dialog.job_id is None


async def test_new_task_reports_connection_refused(live: RunningSystem) -> None:
    app = make_app(nowhere(), live.read_model_url)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: on_dashboard(app))
        dialog = await open_with(pilot, "n", NewTaskScreen)
        await pilot.press(*"REFUSED", "enter")
        await wait_for(pilot, lambda: dialog.state == "failed", what="the error")
        assert "Cannot connect to the gateway at 127.0.0.1:" in screen_text(app)


async def test_new_task_reports_a_gateway_timeout_without_freezing(
    live: RunningSystem, hanging_url: str
) -> None:
    app = make_app(hanging_url, live.read_model_url, submit_timeout=0.5)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: on_dashboard(app))
        dialog = await open_with(pilot, "n", NewTaskScreen)
        await pilot.press(*"SLOW", "enter")
        assert dialog.state == "submitting"
        assert "Submitting" in screen_text(app)
        await pilot.press("escape")  # the UI still answers while the request hangs
        assert isinstance(app.screen, DashboardScreen)
        dialog = await open_with(pilot, "n", NewTaskScreen)
        await pilot.press(*"SLOW", "enter")
        await wait_for(pilot, lambda: dialog.state == "failed", what="the timeout")
        assert "Gateway timeout (0.5s)" in screen_text(app)


async def test_ctrl_c_quits_even_while_typing(live: RunningSystem) -> None:
    app = live_app(live)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: on_dashboard(app))
        await pilot.press("n", "a")
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: not app.is_running, what="the app to exit")


@pytest.mark.parametrize("key", ["q", "Q"])
async def test_q_quits_from_the_dashboard(live: RunningSystem, key: str) -> None:
    app = live_app(live)
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: on_dashboard(app))
        await pilot.press(key)
        await wait_for(pilot, lambda: not app.is_running, what="the app to exit")


async def test_r_refreshes_at_once(live: RunningSystem) -> None:
    app = live_app(live, refresh_seconds=3600, stream=False)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await wait_for(pilot, lambda: on_dashboard(app))
        job_id = submit_directly(live, unique_type("REFRESH"))
        # The row is written after the 202 (by the processor, or the gateway's batch of
        # PENDING rows): press R only once the read model has it, as a user would see it.
        await wait_for(
            pilot,
            lambda: httpx.get(f"{live.read_model_url}/jobs/{job_id}").status_code == 200,
            what="the job's row in the read model",
        )
        before = screen.refresh_count
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.refresh_count > before)
        await wait_for(pilot, lambda: row_status(app, job_id) is not None, what="the job after R")


async def test_the_stream_brings_new_jobs_and_stats_without_polling(live: RunningSystem) -> None:
    app = live_app(live, refresh_seconds=3600)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await wait_for(pilot, lambda: on_dashboard(app))
        await wait_for(pilot, lambda: screen.stream_events > 0, what="the first stream event")
        polls = screen.refresh_count
        total = screen.stats.total if screen.stats else 0
        job_id = submit_directly(live, unique_type("STREAM"))
        await wait_for(pilot, lambda: row_status(app, job_id) is not None, what="the streamed job")
        await wait_for(pilot, lambda: screen.stats is not None and screen.stats.total > total)
        await wait_for(  # and it refreshed because of the job event, not by polling
            pilot, lambda: screen.refresh_count > polls, what="a refresh after the job event"
        )


async def test_streamed_events_show_before_any_refresh(live: RunningSystem) -> None:
    """A job event on the stream is drawn at once from its payload: the job appears (and
    turns COMPLETED) even when neither polling nor the coalesced refresh has run."""
    app = live_app(live, refresh_seconds=3600)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await wait_for(pilot, lambda: on_dashboard(app))
        await wait_for(pilot, lambda: screen.stream_events > 0, what="the first stream event")
        screen._stream_refresh = lambda: None  # type: ignore[method-assign]  # switch off the refresh a stream event would trigger
        screen.jobs_refresh_pending = True  # and no coalesced refresh either
        polls = screen.refresh_count
        job_id = submit_directly(live, unique_type("PUSHED"))
        await wait_for(
            pilot, lambda: row_status(app, job_id) == "COMPLETED", what="the pushed job, COMPLETED"
        )
        assert screen.refresh_count == polls


async def test_enter_on_a_job_opens_its_detail_with_the_event_timeline(live: RunningSystem) -> None:
    job_id = submit_directly(live, unique_type("DETAIL"))
    app = live_app(live)
    async with app.run_test(size=(100, 36)) as pilot:
        await wait_for(pilot, lambda: on_dashboard(app))
        await wait_for(pilot, lambda: row_status(app, job_id) == "COMPLETED")
        table = app.screen.query_one("#jobs", DataTable)
        table.move_cursor(row=table.get_row_index(job_id))
        table.focus()
        await pilot.press("enter")
        detail = await wait_for(pilot, lambda: showing(app, JobDetailScreen))
        await wait_for(pilot, lambda: detail.detail is not None)
        text = screen_text(app)
        assert "COMPLETED" in text
        assert "Attempts" in text
        # The jobs table can show COMPLETED before the metrics engine has stored
        # job.completed; the detail screen catches up on its next reload.
        await wait_for(
            pilot,
            lambda: [row[1] for row in job_rows(app, "#job-events")][-1:] == ["job.completed"],
            what="job.completed in the timeline",
        )
        events = [row[1] for row in job_rows(app, "#job-events")]
        assert events[0] == "job.created"
        assert events[-1] == "job.completed"
        assert [row[3] for row in job_rows(app, "#job-attempts")] == ["completed"]
        await pilot.press("t")
        assert "Only FAILED jobs can be retried" in screen_text(app)
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_retry_on_a_failed_job_runs_it_again(live: RunningSystem) -> None:
    job_id = submit_directly(live, unique_type("RETRY"), failProbability=1, durationMs=0)
    app = live_app(live)
    async with app.run_test(size=(100, 36)) as pilot:
        await wait_for(pilot, lambda: on_dashboard(app))
        await wait_for(pilot, lambda: row_status(app, job_id) == "FAILED", timeout=60)
        table = app.screen.query_one("#jobs", DataTable)
        table.move_cursor(row=table.get_row_index(job_id))
        table.focus()
        await pilot.press("enter")
        detail = await wait_for(pilot, lambda: showing(app, JobDetailScreen))
        loaded = await wait_for(pilot, lambda: detail.detail)
        assert loaded.summary.error
        await pilot.press("T")
        await wait_for(pilot, lambda: "Retry accepted" in screen_text(app), what="retry accepted")
        await wait_for(pilot, lambda: detail.detail is not None and detail.detail.run == 2)


async def test_slash_filters_jobs_by_type_and_status(live: RunningSystem) -> None:
    job_type = unique_type("FILTER")
    wanted = submit_directly(live, job_type)
    submit_directly(live, unique_type("OTHER"))
    app = live_app(live)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await wait_for(pilot, lambda: on_dashboard(app))
        dialog = await open_with(pilot, "slash", FilterScreen)
        await pilot.press(*job_type, "enter")
        await wait_for(pilot, lambda: showing(app, DashboardScreen))
        await wait_for(
            pilot, lambda: [r[0] for r in job_rows(app)] == [wanted[:8]], what="filtered"
        )
        assert f"type={job_type}" in str(app.screen.query_one("#jobs").border_title)
        dialog = await open_with(pilot, "slash", FilterScreen)
        dialog.query_one("#filter-status", Select).value = "FAILED"
        await pilot.click("#apply")
        await wait_for(pilot, lambda: screen.job_filter.status == "FAILED")
        await wait_for(pilot, lambda: row_status(app, wanted) is None and screen.refresh_count)
        assert all(row[2] == "FAILED" for row in job_rows(app))


async def test_u_lists_every_registry_entry_and_enter_opens_the_chosen_one(
    live: RunningSystem,
) -> None:
    opened = Opened()
    app = live_app(live, opener=opened)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: on_dashboard(app))
        dialog = await open_with(pilot, "u", UiLauncherScreen)
        registry = load_registry()
        options = dialog.query_one("#ui-entries", OptionList)
        assert options.option_count == len(registry.entries)
        assert [options.get_option_at_index(i).id for i in range(options.option_count)] == [
            e.id for e in registry.entries
        ]
        await pilot.press("down", "down", "up")
        assert registry.entries[1].url() in screen_text(app)
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, DashboardScreen), what="close on open")
        assert opened == [registry.entries[1].url()]


async def test_over_ssh_the_ui_launcher_shows_the_url_instead(live: RunningSystem) -> None:
    opened = Opened()
    ssh = {"DISPLAY": ":0", "SSH_CONNECTION": "10.0.0.1 50000 10.0.0.2 22"}
    app = live_app(live, env=ssh, opener=opened)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: on_dashboard(app))
        dialog = await open_with(pilot, "u", UiLauncherScreen)
        await pilot.press("enter")
        await wait_for(pilot, lambda: dialog.result is not None)
        text = screen_text(app)
        assert "SSH session detected; open this URL yourself: http://localhost:8081/" in text
        assert opened == []
        await pilot.press("c")
        assert app.clipboard == "http://localhost:8081/"
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_browser_launch_errors_are_shown(live: RunningSystem) -> None:
    def broken(url: str) -> bool:
        raise OSError("xdg-open exited with status 3")

    app = live_app(live, opener=broken)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: on_dashboard(app))
        dialog = await open_with(pilot, "u", UiLauncherScreen)
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: dialog.result is not None)
        assert "Launch failed (xdg-open exited with status 3): http://localhost:3000/docs" in (
            screen_text(app)
        )


async def test_question_mark_lists_every_key(live: RunningSystem) -> None:
    app = live_app(live)
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: on_dashboard(app))
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for key in (
            "Q",
            "R",
            "N",
            "U",
            "/",
            "?",
            "Ctrl+P",
            "Ctrl+C",
            "Enter",
            "Esc",
            "T",
            "L",
            "K",
        ):
            assert f"{key} " in text or f"{key}\n" in text or f" {key}" in text, key
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_the_command_palette_runs_dashboard_commands(live: RunningSystem) -> None:
    app = live_app(live)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: on_dashboard(app))
        await pilot.press("ctrl+p")
        await pilot.press(*"New task")
        await wait_for(pilot, lambda: palette_offers(app, "New task"), what="the palette's hit")
        await pilot.press("enter")
        await wait_for(pilot, lambda: showing(app, NewTaskScreen), what="New Task")
