"""Opening a URL in the user's browser, or saying why we can't and showing the URL instead.

Over SSH, or on Linux without a display, a browser would open on the wrong machine or not
at all, so we never try: the URL is shown to copy. A terminal-only browser (lynx, w3m...)
would take over the terminal the TUI is drawing on, so it counts as "no browser".
"""

from __future__ import annotations

import sys
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

CONSOLE_BROWSERS = frozenset({"www-browser", "links", "elinks", "lynx", "w3m"})


class Outcome(Enum):
    OPENED = "opened"
    RESTRICTED = "restricted"
    UNAVAILABLE = "unavailable"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class BrowserResult:
    """What happened when we tried to open `url`; `message` is for the user."""

    outcome: Outcome
    url: str
    message: str

    @property
    def opened(self) -> bool:
        return self.outcome is Outcome.OPENED


def restriction(env: Mapping[str, str], platform: str = sys.platform) -> str | None:
    """Why a browser must not be launched in this environment, or None when it may be."""
    if env.get("SSH_CONNECTION") or env.get("SSH_CLIENT") or env.get("SSH_TTY"):
        return "SSH session detected"
    if platform.startswith("linux") and not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        return "No display (DISPLAY and WAYLAND_DISPLAY are unset)"
    return None


Opener = Callable[[str], bool]
"""Opens a URL; True when a browser took it. Raises on launch errors."""


def system_opener(url: str) -> bool:
    """The platform's default browser through `webbrowser`, refusing console browsers."""
    try:
        browser = webbrowser.get()
    except webbrowser.Error as exc:
        raise FileNotFoundError(f"no runnable browser: {exc}") from exc
    name = getattr(browser, "name", "")
    if isinstance(browser, webbrowser.GenericBrowser) and name in CONSOLE_BROWSERS:
        raise FileNotFoundError(f"only a terminal browser ({name}) was found")
    return browser.open(url, new=2)


def open_url(
    url: str,
    *,
    env: Mapping[str, str],
    platform: str = sys.platform,
    opener: Opener = system_opener,
) -> BrowserResult:
    """Try to open `url` (blocking: call it from a worker thread) and report the outcome."""
    reason = restriction(env, platform)
    if reason is not None:
        return BrowserResult(Outcome.RESTRICTED, url, f"{reason}; open this URL yourself: {url}")
    try:
        opened = opener(url)
    except FileNotFoundError as exc:
        return BrowserResult(Outcome.UNAVAILABLE, url, f"No browser available ({exc}): {url}")
    except (OSError, webbrowser.Error) as exc:
        return BrowserResult(Outcome.FAILED, url, f"Launch failed ({exc}): {url}")
    if not opened:
        return BrowserResult(Outcome.UNAVAILABLE, url, f"No browser available: {url}")
    return BrowserResult(Outcome.OPENED, url, f"Opened {url} in the browser")
