"""Fixtures for the TUI tests: a real system shared by a module, apps wired to it, polling.

Behaviour tests drive `ObservatoryApp` with Textual's Pilot against a real read model and
gateway (`odto up` on free ports, embedded backends). Snapshot tests use the deterministic
FakeBackend instead, with a fixed clock and animations frozen.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from textual.app import App
from textual.pilot import Pilot
from textual.widgets import DataTable, Static

from observatory.core.clock import Clock
from observatory.interfaces.tui.app import ObservatoryApp
from observatory.interfaces.tui.browser import Opener
from observatory.interfaces.tui.config import TuiConfig
from tests.system import RunningSystem, free_port, start_system
from tests.waiting import Falsy, wait_until_async

FAKE_ODTO = Path(__file__).parent.parent / "fixtures" / "fake_odto.py"
T = TypeVar("T")


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSystem]:
    """One real system shared by the TUI tests (each test uses its own job types)."""
    running = start_system(tmp_path_factory.mktemp("system"))
    try:
        yield running
    finally:
        running.stop()


def fake_odto(scenario: str) -> tuple[str, ...]:
    """The launch command that runs tests/fixtures/fake_odto.py with `scenario`."""
    return (sys.executable, str(FAKE_ODTO), scenario)


def nowhere() -> str:
    """A loopback URL where nothing listens (connection refused)."""
    return f"http://127.0.0.1:{free_port()}"


async def quick_wait(seconds: float) -> None:
    """The wait between a submission's tries, cut short: tests see the retries, not the delay."""
    await asyncio.sleep(min(seconds, 0.01))


class Opened(list[str]):
    """A browser opener that records URLs instead of opening them."""

    def __call__(self, url: str) -> bool:
        self.append(url)
        return True


def make_app(
    gateway_url: str,
    read_model_url: str,
    *,
    env: dict[str, str] | None = None,
    clock: Clock | None = None,
    opener: Opener | None = None,
    **config: Any,
) -> ObservatoryApp:
    settings = TuiConfig(gateway_url=gateway_url, read_model_url=read_model_url, **config)
    return ObservatoryApp(
        settings,
        clock=clock,
        env=env if env is not None else {"DISPLAY": ":0"},
        platform="linux",
        opener=opener if opener is not None else Opened(),
        retry_wait=quick_wait,
    )


def live_app(system: RunningSystem, **kwargs: Any) -> ObservatoryApp:
    return make_app(system.gateway_url, system.read_model_url, **kwargs)


async def wait_for(
    pilot: Pilot[Any],
    predicate: Callable[[], T | Falsy],
    *,
    timeout: float = 45.0,
    what: str = "condition",
) -> T:
    """Let the app run until `predicate()` is truthy; fail after `timeout` seconds."""
    return await wait_until_async(
        predicate, timeout, interval=0.05, message=what, pause=pilot.pause
    )


def screen_text(app: ObservatoryApp) -> str:
    """Everything the current screen shows, as plain text (for assertions)."""
    parts = []
    for widget in app.screen.query(Static):
        parts.append(str(widget.render()))
    return "\n".join(parts)


def fake_urls(system: RunningSystem) -> str:
    return json.dumps({"gateway": system.gateway_url, "readModel": system.read_model_url})


Step = Callable[[Pilot[Any]], Awaitable[None]]


def job_rows(app: ObservatoryApp, selector: str = "#jobs") -> list[list[str]]:
    """The rows of a DataTable on the current screen, as plain strings."""
    table: DataTable[Any] = app.screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(i)] for i in range(table.row_count)]


@pytest.fixture
def hanging_url() -> Iterator[str]:
    """A loopback URL that accepts connections and never answers (a hung service)."""
    import socket
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        server.close()


S = TypeVar("S")


def showing(app: App[Any], kind: type[S]) -> S | None:
    """The current screen when it is a `kind` and has finished mounting, else None."""
    screen = app.screen
    if isinstance(screen, kind) and screen.is_mounted:
        return screen
    return None


async def open_with(pilot: Pilot[Any], key: str, kind: type[S]) -> S:
    """Press `key` and wait until the `kind` screen it opens is mounted (and focused)."""
    await pilot.press(key)
    screen = await wait_for(pilot, lambda: showing(pilot.app, kind), what=kind.__name__)
    await pilot.pause()
    return screen
