"""The terminal UI of an installed release starts: headless, with no system running, it
goes from the splash to the launcher ("System not detected"), and Q quits it.

Run with the Python of the virtualenv that holds the release, from the checkout root (for
`release`; `observatory` then comes from the installed wheel): `python -m
release.tui_smoke`. The release workflow runs it on every platform, Windows included;
`make release-check` runs it too. Exit 0 when the launcher appeared, 1 otherwise.
"""

from __future__ import annotations

import asyncio
import sys
import time

from observatory.interfaces.cli.servers import pick_free_port
from observatory.interfaces.tui.app import ObservatoryApp
from observatory.interfaces.tui.config import TuiConfig
from observatory.interfaces.tui.screens.launcher import LauncherScreen

LAUNCHER_SECONDS = 60.0  # a refused connection takes seconds on Windows (SYN retries)


async def reaches_the_launcher() -> str:
    """The launcher's screen class name once it shows; AssertionError if it never does."""
    nowhere = f"http://127.0.0.1:{pick_free_port()}"  # nothing listens: no system found
    app = ObservatoryApp(TuiConfig(gateway_url=nowhere, read_model_url=nowhere, stream=False))
    async with app.run_test() as pilot:
        deadline = time.monotonic() + LAUNCHER_SECONDS
        while not isinstance(app.screen, LauncherScreen):
            if time.monotonic() > deadline:
                raise AssertionError(f"no launcher after {LAUNCHER_SECONDS:.0f} s: {app.screen}")
            await pilot.pause(0.1)
        shown = type(app.screen).__name__
        await pilot.press("q")
        await pilot.pause()
    return shown


def main() -> int:
    try:
        shown = asyncio.run(reaches_the_launcher())
    except AssertionError as failure:
        print(f"[FAIL] odd-dashboard: {failure}", file=sys.stderr)
        return 1
    print(f"[PASS] odd-dashboard starts headless and shows the {shown} without a system")
    return 0


if __name__ == "__main__":
    sys.exit(main())
