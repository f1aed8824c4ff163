"""Start-up without a system: splash, launcher, and the setup progress of L and K.

The launch command is tests/fixtures/fake_odto.py (success and failure sequences of
`odto up --json`); on success it reports the URLs of a real running system, so the
dashboard the TUI continues to is live. One test launches the real `odto up`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from observatory.interfaces.tui.app import ObservatoryApp
from observatory.interfaces.tui.screens.dashboard import DashboardScreen
from observatory.interfaces.tui.screens.launcher import LauncherScreen
from observatory.interfaces.tui.screens.setup import SetupScreen
from observatory.interfaces.tui.screens.splash import SplashScreen
from tests.system import RunningSystem, free_port
from tests.tui.conftest import (
    fake_odto,
    fake_urls,
    make_app,
    nowhere,
    screen_text,
    showing,
    wait_for,
)
from tests.waiting import wait_until

POLL_SECONDS = 0.05  # pause between checks while waiting on a condition


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def child_pid(pidfile: Path) -> int:
    def written() -> str:
        return pidfile.read_text() if pidfile.exists() else ""

    return int(wait_until(written, 20, POLL_SECONDS, message="the launch command to start"))


def offline_app(tmp_path: Path, scenario: str, urls: str = "{}", **config: Any) -> ObservatoryApp:
    env = {
        **os.environ,
        "DISPLAY": ":0",
        "FAKE_ODTO_PIDFILE": str(tmp_path / "child.pid"),
        "FAKE_ODTO_URLS": urls,
    }
    return make_app(
        nowhere(),
        nowhere(),
        env=env,
        launch_command=fake_odto(scenario),
        **config,
    )


async def test_a_slow_read_model_keeps_the_splash_then_shows_the_launcher(hanging_url: str) -> None:
    app = make_app(nowhere(), hanging_url, read_timeout=1.0)
    async with app.run_test() as pilot:
        await wait_for(
            pilot, lambda: "Connecting to the read model" in screen_text(app), what="the splash"
        )
        assert isinstance(app.screen, SplashScreen)
        first = screen_text(app)
        assert "Connecting to the read model" in first
        await wait_for(
            pilot,
            lambda: isinstance(app.screen, SplashScreen) and screen_text(app) != first,
            what="the spinner to move",
        )
        assert screen_text(app) != first  # the spinner and dots move
        await wait_for(pilot, lambda: showing(app, LauncherScreen), what="the launcher")


async def test_with_nothing_running_the_launcher_offers_l_k_and_q(tmp_path: Path) -> None:
    app = offline_app(tmp_path, "hold")
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: showing(app, LauncherScreen))
        text = screen_text(app)
        assert "System not detected" in text
        assert f"No read model answered at {app.client.read_model_url}" in text
        for words in (
            "L to launch the system here",
            "K to launch it on a kind cluster",
            "Q to quit",
        ):
            assert words in text
        await pilot.press("r")
        await wait_for(pilot, lambda: "Still no read model" in screen_text(app))
        await pilot.press("Q")
        await wait_for(pilot, lambda: not app.is_running)


async def test_l_follows_the_setup_and_continues_to_the_live_dashboard(
    tmp_path: Path, live: RunningSystem
) -> None:
    app = offline_app(tmp_path, "success", urls=fake_urls(live))
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: showing(app, LauncherScreen))
        await pilot.press("l")
        setup = await wait_for(pilot, lambda: showing(app, SetupScreen))
        pid = child_pid(tmp_path / "child.pid")
        await wait_for(pilot, lambda: setup.system.progress.ready, what="ready")
        text = screen_text(app)
        assert "The system is ready" in text
        assert "Press any key to continue to the dashboard" in text
        assert "⏱ 00:0" in text
        await pilot.press("space")
        dashboard = await wait_for(pilot, lambda: showing(app, DashboardScreen))
        await wait_for(pilot, lambda: dashboard.stats is not None, what="live stats")
        assert app.client.read_model_url == live.read_model_url
        assert alive(pid)  # `odto up` keeps serving while the dashboard shows
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running)
    assert not alive(pid), "quitting must stop the system the TUI started"


@pytest.mark.parametrize(
    ("scenario", "error", "hint"),
    [
        ("docker-down", "Docker is not running", "Docker is not running"),
        ("port-in-use", "port 3000 is already in use", "A required port is already in use"),
        ("crash", "Setup failed with exit code 3: RuntimeError: embedded bus", "An error occurred"),
    ],
)
async def test_a_failed_setup_shows_the_error_a_hint_and_returns_to_the_launcher(
    tmp_path: Path, scenario: str, error: str, hint: str
) -> None:
    app = offline_app(tmp_path, scenario)
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: showing(app, LauncherScreen))
        await pilot.press("L")
        setup = await wait_for(pilot, lambda: showing(app, SetupScreen))
        await wait_for(pilot, lambda: setup.system.progress.exit_code is not None, what="exit")
        text = screen_text(app)
        assert "Setup failed" in text
        assert error in text
        assert hint in text
        assert "To fix this:" in text
        assert "Press any key to return to the launcher" in text
        await pilot.press("x")
        await wait_for(pilot, lambda: showing(app, LauncherScreen))


async def test_esc_cancels_a_running_setup_and_stops_the_child(tmp_path: Path) -> None:
    app = offline_app(tmp_path, "hold")
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: showing(app, LauncherScreen))
        await pilot.press("l")
        pid = child_pid(tmp_path / "child.pid")
        setup = await wait_for(pilot, lambda: showing(app, SetupScreen))
        await wait_for(pilot, lambda: setup.system.progress.step == "config")
        assert "[config] Reading configuration" in screen_text(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: showing(app, LauncherScreen))
        assert not alive(pid)


@pytest.mark.parametrize("key", ["q", "ctrl+c"])
async def test_quitting_during_setup_stops_the_child(tmp_path: Path, key: str) -> None:
    app = offline_app(tmp_path, "hold")
    async with app.run_test() as pilot:
        await wait_for(pilot, lambda: showing(app, LauncherScreen))
        await pilot.press("l")
        pid = child_pid(tmp_path / "child.pid")
        await pilot.press(key)
        await wait_for(pilot, lambda: not app.is_running)
    assert not alive(pid)


async def test_k_runs_the_cluster_command(tmp_path: Path) -> None:
    app = offline_app(tmp_path, "hold", cluster_command=fake_odto("docker-down"))
    async with app.run_test(size=(100, 40)) as pilot:
        await wait_for(pilot, lambda: showing(app, LauncherScreen))
        await pilot.press("k")
        setup = await wait_for(pilot, lambda: showing(app, SetupScreen))
        assert setup.system.argv == fake_odto("docker-down")
        await wait_for(pilot, lambda: setup.system.progress.complete)
        assert "Starting the kind cluster" in str(app.screen.query_one("#setup-box").border_title)
        assert "Docker is not running" in screen_text(app)


@pytest.mark.slow
async def test_l_brings_up_the_real_system_and_q_stops_it(tmp_path: Path) -> None:
    ports = {
        name: free_port()
        for name in ("GATEWAY", "PROCESSOR", "READ_MODEL", "WEB", "METRICS_ENGINE")
    }
    env = {k: v for k, v in os.environ.items() if not k.endswith("_URL")}
    env.update({f"{name}_PORT": str(port) for name, port in ports.items()})
    env.update({"ODTO_DATA_DIR": str(tmp_path / "data"), "DISPLAY": ":0"})
    gateway = f"http://127.0.0.1:{ports['GATEWAY']}"
    read_model = f"http://127.0.0.1:{ports['READ_MODEL']}"
    app = make_app(gateway, read_model, env=env)
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_for(pilot, lambda: showing(app, LauncherScreen))
        await pilot.press("l")
        setup = await wait_for(pilot, lambda: showing(app, SetupScreen))
        assert setup.system.argv[-2:] == ("up", "--json")
        await wait_for(pilot, lambda: setup.system.progress.complete, timeout=90, what="odto up")
        assert setup.system.progress.ready, list(setup.system.progress.log)
        await pilot.press("enter")
        dashboard = await wait_for(pilot, lambda: showing(app, DashboardScreen))
        await wait_for(pilot, lambda: dashboard.stats is not None and dashboard.error is None)
        await pilot.press("q")
        await wait_for(pilot, lambda: not app.is_running, timeout=30)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{read_model}/healthz", timeout=2)
    assert sys.executable  # the child ran under this interpreter's odto
