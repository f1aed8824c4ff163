"""Behaviour the real system cannot be made to show on demand, driven through a fake backend:
alert fetches failing while the rest works, the read model going away, the gateway
answering 400 or 500 to a submission, and a submission whose fate stays open (503)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx
from textual.widgets import Sparkline

from observatory.core.clock import FixedClock
from observatory.interfaces.submission import Sleep
from observatory.interfaces.tui.app import ObservatoryApp
from observatory.interfaces.tui.config import TuiConfig
from observatory.interfaces.tui.screens.dashboard import MAX_ALERT_FAILURES, DashboardScreen
from observatory.interfaces.tui.screens.new_task import NewTaskScreen
from tests.tui.conftest import open_with, quick_wait, screen_text, showing, wait_for
from tests.tui.fake_backend import FakeBackend, series_body


def fake_app(
    backend: FakeBackend,
    clock: FixedClock | None = None,
    retry_wait: Sleep = quick_wait,
    **config: Any,
) -> ObservatoryApp:
    settings = TuiConfig(**config)
    return ObservatoryApp(
        settings,
        clock=clock or FixedClock(),
        transport=backend.transport,
        retry_wait=retry_wait,
        env={},
        platform="linux",
    )


async def test_without_a_series_the_sparklines_stay_empty_and_the_rest_works() -> None:
    """A read model without /stats/series (404): no sparkline data and no totals, no error
    in the header, statistics and jobs as usual."""
    backend = FakeBackend(series_missing=True)
    app = fake_app(backend, refresh_seconds=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await wait_for(pilot, lambda: showing(app, DashboardScreen))
        await wait_for(pilot, lambda: screen.refresh_count >= 3)
        assert backend.count("/stats/series") >= 3
        assert screen.series is None
        assert screen.error is None
        assert not screen.query_one("#spark-throughput", Sparkline).data
        text = screen_text(app)
        assert "Total" in text
        assert " in 15m" not in text


async def test_the_sparklines_draw_the_series() -> None:
    """With the series answered, the sparklines hold its 90 steps and their totals."""
    backend = FakeBackend()
    app = fake_app(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await wait_for(pilot, lambda: showing(app, DashboardScreen))
        await wait_for(pilot, lambda: screen.series is not None)
        await pilot.pause()
        points = series_body()["points"]
        completed = [p["completed"] for p in points]
        failed = [p["failed"] for p in points]
        assert screen.query_one("#spark-throughput", Sparkline).data == completed
        assert screen.query_one("#spark-failures", Sparkline).data == failed
        text = screen_text(app)
        assert f"{sum(completed)} in 15m" in text
        assert f"{sum(failed)} in 15m" in text


async def test_alerts_back_off_after_three_failures_until_r() -> None:
    backend = FakeBackend(alerts_broken=True)
    app = fake_app(backend, refresh_seconds=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await wait_for(pilot, lambda: showing(app, DashboardScreen))
        await wait_for(pilot, lambda: screen.refresh_count >= MAX_ALERT_FAILURES + 5)
        assert backend.count("/alerts") == MAX_ALERT_FAILURES
        assert backend.count("/stats") > MAX_ALERT_FAILURES + 5  # stats keep refreshing
        text = screen_text(app)
        assert "Unavailable (Read model returned 500: boom)" in text
        assert "press R to retry" in text
        backend.alerts_broken = False
        await pilot.press("r")
        await wait_for(pilot, lambda: screen.alert_failures == 0 and screen.alerts is not None)
        assert "JobFailureRateHigh [processor]" in screen_text(app)


async def test_losing_the_read_model_shows_offline_with_the_age_of_the_data() -> None:
    backend = FakeBackend()
    clock = FixedClock()
    app = fake_app(backend, clock=clock, refresh_seconds=0.05)
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await wait_for(pilot, lambda: showing(app, DashboardScreen))
        await wait_for(pilot, lambda: "● live · updated 0s ago" in screen_text(app))
        backend.down = True
        await wait_for(pilot, lambda: screen.error is not None)
        clock.advance(42)
        await wait_for(pilot, lambda: "● offline · data 42s old" in screen_text(app))
        assert "Total   1284" in screen_text(app)  # the last data stays on screen
        backend.down = False
        await wait_for(pilot, lambda: "● live" in screen_text(app))


def rejecting(status: int, body: Mapping[str, object]) -> httpx.MockTransport:
    backend = FakeBackend()

    async def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(status, json=body)
        return await backend.handle(request)

    return httpx.MockTransport(handle)


async def submit_with(transport: httpx.MockTransport) -> str:
    app = ObservatoryApp(
        TuiConfig(),
        clock=FixedClock(),
        transport=transport,
        retry_wait=quick_wait,
        env={},
        platform="linux",
    )
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: showing(app, DashboardScreen))
        dialog = await open_with(pilot, "n", NewTaskScreen)
        await pilot.press(*"OK_TYPE", "enter")
        await wait_for(pilot, lambda: dialog.state == "failed")
        return screen_text(app)


async def test_the_gateways_validation_message_is_shown() -> None:
    body = {
        "error": "Invalid job data",
        "details": [{"path": "$.type", "message": "reserved type"}],
    }
    assert "Validation failed: $.type: reserved type" in await submit_with(rejecting(400, body))


async def test_a_server_error_is_shown_with_its_status() -> None:
    text = await submit_with(rejecting(500, {"error": "Internal error"}))
    assert "Gateway returned 500: Internal error" in text


async def test_a_busy_gateway_says_when_to_retry() -> None:
    text = await submit_with(rejecting(503, {"error": "Broker unavailable"}))
    assert "Gateway unavailable: Broker unavailable" in text


def unknown_outcome() -> httpx.Response:
    body = {"error": "bus unavailable", "outcome": "unknown"}
    return httpx.Response(503, json=body, headers={"Retry-After": "5"})


async def test_while_the_gateway_is_unsure_the_dialog_says_retrying_then_shows_the_job() -> None:
    backend = FakeBackend(gateway_script=[unknown_outcome()])
    waiting = asyncio.Event()
    go_on = asyncio.Event()

    async def held(seconds: float) -> None:
        waiting.set()
        await go_on.wait()

    app = fake_app(backend, retry_wait=held)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: showing(app, DashboardScreen))
        dialog = await open_with(pilot, "n", NewTaskScreen)
        await pilot.press(*"OK_TYPE", "enter")
        await wait_for(pilot, waiting.is_set, what="the wait before the second try")
        await wait_for(pilot, lambda: "Retrying…" in screen_text(app))
        assert dialog.state == "retrying"
        text = screen_text(app)
        assert "try 2 of 4 in 5s: 503 bus unavailable, outcome unknown" in text
        assert f"Job {backend.submitted[0]['id']}" in text
        go_on.set()
        await wait_for(pilot, lambda: dialog.state == "created")
        assert f"Job created: {dialog.job_id}" in screen_text(app)
    assert len(backend.submitted) == 2
    assert backend.submitted[0] == backend.submitted[1]  # the same job, sent again


async def test_after_the_tries_run_out_enter_sends_that_same_job_again() -> None:
    backend = FakeBackend(gateway_script=[unknown_outcome() for _ in range(8)])
    app = fake_app(backend)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: showing(app, DashboardScreen))
        dialog = await open_with(pilot, "n", NewTaskScreen)
        await pilot.press(*"OK_TYPE", "enter")
        await wait_for(pilot, lambda: dialog.state == "failed")
        first = backend.submitted[0]["id"]
        assert [b["id"] for b in backend.submitted] == [first] * 4
        text = screen_text(app)
        assert f"Job {first} was not confirmed after 4 tries" in text
        assert "Enter sends the same job again" in text

        await pilot.press("enter")  # fields unchanged: the same job, by its id
        await wait_for(pilot, lambda: dialog.state == "failed" and len(backend.submitted) == 8)
        assert {b["id"] for b in backend.submitted} == {first}

        await pilot.press("X", "enter")  # another type is another job
        await wait_for(pilot, lambda: dialog.state == "created")
    assert backend.submitted[-1]["type"] == "OK_TYPEX"
    assert backend.submitted[-1]["id"] != first
