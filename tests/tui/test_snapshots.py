"""SVG snapshots of every screen at 80x24 and 160x48, with the clock fixed, animations frozen
and a deterministic fake backend. Regenerate with `pytest tests/tui --snapshot-update` and
review the SVGs in the diff."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot

from observatory.core.clock import FixedClock
from observatory.interfaces.tui.app import ObservatoryApp
from observatory.interfaces.tui.config import TuiConfig
from observatory.interfaces.tui.screens.dashboard import DashboardScreen
from observatory.interfaces.tui.screens.job_detail import JobDetailScreen
from observatory.interfaces.tui.screens.launcher import LauncherScreen
from observatory.interfaces.tui.screens.new_task import NewTaskScreen
from observatory.interfaces.tui.screens.setup import SetupScreen
from observatory.interfaces.tui.screens.splash import SplashScreen
from observatory.interfaces.tui.screens.ui_launcher import UiLauncherScreen
from tests.tui.conftest import fake_odto, open_with, showing, wait_for
from tests.tui.fake_backend import FakeBackend

REGISTRY = Path(__file__).parent.parent / "fixtures" / "tui-ui-registry.json"
"""A frozen copy of the packaged registry, so registry edits don't change the pictures."""
SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]


def frozen_app(backend: FakeBackend, **config: Any) -> ObservatoryApp:
    config.setdefault("registry_path", REGISTRY)
    return ObservatoryApp(
        TuiConfig(**config),
        clock=FixedClock(),
        frozen=True,
        transport=backend.transport,
        env={**os.environ, "DISPLAY": ":0"},
        platform="linux",
    )


async def until(pilot: Pilot[Any], predicate: Callable[[], object], timeout: float = 20) -> None:
    """Wait for the state to snapshot, then let the screen take one more refresh."""
    await wait_for(pilot, predicate, timeout=timeout, what="the state to snapshot")
    await pilot.pause()


def dashboard_ready(app: ObservatoryApp) -> bool:
    screen = app.screen
    return isinstance(screen, DashboardScreen) and screen.refresh_count > 0


@pytest.mark.parametrize("size", SIZES)
def test_splash(snap_compare: Any, size: tuple[int, int]) -> None:
    app = frozen_app(FakeBackend(hang=True))

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: showing(app, SplashScreen))

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_launcher(snap_compare: Any, size: tuple[int, int]) -> None:
    app = frozen_app(FakeBackend(down=True))

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: showing(app, LauncherScreen))

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_setup_failure(snap_compare: Any, size: tuple[int, int]) -> None:
    app = frozen_app(FakeBackend(down=True), launch_command=fake_odto("port-in-use"))

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: showing(app, LauncherScreen))
        await pilot.press("l")
        await until(
            pilot,
            lambda: (
                isinstance(app.screen, SetupScreen)
                and app.screen.system.progress.exit_code is not None
            ),
        )

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_dashboard(snap_compare: Any, size: tuple[int, int]) -> None:
    app = frozen_app(FakeBackend())

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: dashboard_ready(app))

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_new_task_created(snap_compare: Any, size: tuple[int, int]) -> None:
    app = frozen_app(FakeBackend())

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: dashboard_ready(app))
        await open_with(pilot, "n", NewTaskScreen)
        await pilot.press(*"REPORT_EXPORT", "tab", *"1500", "enter")
        await until(pilot, lambda: (screen := showing(app, NewTaskScreen)) and screen.job_id)

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_ui_launcher(snap_compare: Any, size: tuple[int, int]) -> None:
    app = frozen_app(FakeBackend())

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: dashboard_ready(app))
        await open_with(pilot, "u", UiLauncherScreen)
        await pilot.press("down")

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_job_detail(snap_compare: Any, size: tuple[int, int]) -> None:
    app = frozen_app(FakeBackend())

    async def run_before(pilot: Pilot[Any]) -> None:
        await until(pilot, lambda: dashboard_ready(app))
        await pilot.press("down", "down", "enter")
        await until(pilot, lambda: (screen := showing(app, JobDetailScreen)) and screen.detail)

    assert snap_compare(app, terminal_size=size, run_before=run_before)
