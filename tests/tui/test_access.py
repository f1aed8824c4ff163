"""The TUI on a system with tokens (SPEC §13 "Access"): without a token it says what to
set; with one, the header shows the token's role; --token-file and ODTO_TOKEN are read."""

from __future__ import annotations

from pathlib import Path

import pytest

from observatory.interfaces.tui import main as tui_main
from observatory.interfaces.tui.config import TuiConfig
from observatory.interfaces.tui.screens.dashboard import DashboardScreen
from tests.tui.conftest import screen_text, showing, wait_for
from tests.tui.fake_backend import FakeBackend
from tests.tui.test_fake_backend import fake_app

TOKENS = {"viewer-token-1": ("vera", "viewer"), "operator-token-2": ("otto", "operator")}


async def test_without_a_token_the_dashboard_says_to_set_odto_token() -> None:
    app = fake_app(FakeBackend(tokens=TOKENS), refresh_seconds=0.05)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: showing(app, DashboardScreen))
        await wait_for(pilot, lambda: "ODTO_TOKEN" in screen_text(app), what="the 401 hint")
        assert "needs a token (401)" in screen_text(app)
        assert "role:" not in screen_text(app)


async def test_the_header_shows_the_token_s_role() -> None:
    app = fake_app(FakeBackend(tokens=TOKENS), api_token="viewer-token-1", refresh_seconds=0.05)
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: showing(app, DashboardScreen))
        await wait_for(pilot, lambda: "role: viewer (vera)" in screen_text(app), what="role")


def test_odto_token_is_read_and_odto_api_token_still_works() -> None:
    assert TuiConfig.from_env({"ODTO_TOKEN": "a", "ODTO_API_TOKEN": "b"}).api_token == "a"
    assert TuiConfig.from_env({"ODTO_API_TOKEN": "b"}).api_token == "b"


def test_token_file_is_read_into_the_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "token"
    path.write_text("operator-token-2\n")
    seen: list[TuiConfig] = []

    class Recording:
        system = None

        def __init__(self, config: TuiConfig) -> None:
            seen.append(config)

        def run(self) -> None:
            pass

    monkeypatch.setattr("observatory.interfaces.tui.app.ObservatoryApp", Recording)
    assert tui_main.main(["--token-file", str(path)]) == 0
    assert seen[0].api_token == "operator-token-2"
    assert tui_main.main(["--token-file", str(tmp_path / "absent")]) == 2
