"""Behaviour the real system cannot be made to show on demand, driven through a fake backend:
alert fetches failing while the rest works, the read model going away, and the gateway
answering 400 or 500 to a submission."""

from __future__ import annotations

import httpx

from observatory.core.clock import FixedClock
from observatory.interfaces.tui.app import ObservatoryApp
from observatory.interfaces.tui.config import TuiConfig
from observatory.interfaces.tui.screens.dashboard import MAX_ALERT_FAILURES, DashboardScreen
from observatory.interfaces.tui.screens.new_task import NewTaskScreen
from tests.tui.conftest import open_with, screen_text, showing, wait_for
from tests.tui.fake_backend import FakeBackend


def fake_app(
    backend: FakeBackend, clock: FixedClock | None = None, **config: object
) -> ObservatoryApp:
    settings = TuiConfig(**config)  # type: ignore[arg-type]
    return ObservatoryApp(
        settings, clock=clock or FixedClock(), transport=backend.transport, env={}, platform="linux"
    )


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


def rejecting(status: int, body: dict[str, object]) -> httpx.MockTransport:
    backend = FakeBackend()

    async def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(status, json=body)
        return await backend.handle(request)

    return httpx.MockTransport(handle)


async def submit_with(transport: httpx.MockTransport) -> str:
    app = ObservatoryApp(
        TuiConfig(), clock=FixedClock(), transport=transport, env={}, platform="linux"
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
