"""When the UI launcher may open a browser, and what it tells the user when it can't."""

from __future__ import annotations

import webbrowser

import pytest

from observatory.interfaces.tui.browser import Outcome, open_url, restriction, system_opener
from tests.tui.conftest import Opened

URL = "http://localhost:8081/"
DESKTOP = {"DISPLAY": ":0"}


@pytest.mark.parametrize("var", ["SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY"])
def test_ssh_sessions_never_launch_a_browser_and_show_the_url(var: str) -> None:
    opened = Opened()
    result = open_url(
        URL,
        env={**DESKTOP, var: "10.0.0.1 5000 10.0.0.2 22"},
        platform="linux",
        opener=opened,
    )
    assert result.outcome is Outcome.RESTRICTED
    assert "SSH session" in result.message
    assert URL in result.message
    assert opened == []


def test_linux_without_a_display_shows_the_url() -> None:
    assert restriction({}, "linux") is not None
    assert restriction({"WAYLAND_DISPLAY": "wayland-0"}, "linux") is None
    result = open_url(URL, env={}, platform="linux", opener=lambda url: True)
    assert result.outcome is Outcome.RESTRICTED
    assert "No display" in result.message


def test_macos_and_windows_need_no_display_variable() -> None:
    assert restriction({}, "darwin") is None
    assert restriction({}, "win32") is None


def test_a_desktop_session_opens_the_url() -> None:
    opened = Opened()
    result = open_url(URL, env=DESKTOP, platform="linux", opener=opened)
    assert result.opened
    assert opened == [URL]


def test_no_browser_and_launch_failures_are_reported_with_the_url() -> None:
    unavailable = open_url(URL, env=DESKTOP, platform="linux", opener=lambda url: False)
    assert unavailable.outcome is Outcome.UNAVAILABLE
    assert unavailable.message == f"No browser available: {URL}"

    def broken(url: str) -> bool:
        raise PermissionError("xdg-open: permission denied")

    failed = open_url(URL, env=DESKTOP, platform="linux", opener=broken)
    assert failed.outcome is Outcome.FAILED
    assert "Launch failed (xdg-open: permission denied)" in failed.message
    assert URL in failed.message


def test_a_terminal_only_browser_counts_as_no_browser(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webbrowser, "get", lambda using=None: webbrowser.GenericBrowser("lynx"))
    result = open_url(URL, env=DESKTOP, platform="linux", opener=system_opener)
    assert result.outcome is Outcome.UNAVAILABLE
    assert "lynx" in result.message
