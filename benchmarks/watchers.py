"""Who watches the screens: the web dashboard in Debian's Chromium (Playwright, headless)
and the TUI's Textual app run headless in this process. Each records, per job id, the
wall-clock time (ms since the epoch, this machine's clock) at which the job first showed
as COMPLETED.

Dashboard: a MutationObserver installed before the page's own scripts notes
`performance.timeOrigin + performance.now()` when a Recent Jobs row with a COMPLETED pill,
or a Raw Events row of the job's job.completed event, first enters the DOM (before the
browser paints it: at most a frame earlier than the eye could see it).

TUI: the moment the dashboard screen has filled its jobs table with the job as COMPLETED
(Textual paints the terminal on its next refresh, at most a frame later).

Stream: what both screens are fed, the read model's `/stream` itself; the moment its
job.completed event's SSE frame arrives (what the push costs before any screen draws).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

CHROMIUM = Path(os.environ.get("ODTO_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [  # the browser tests' flags (tests/browser/conftest.py)
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
OBSERVER_JS = """
(() => {
  const seen = { jobs: {}, events: {} };
  window.__odtoBench = seen;
  const scan = () => {
    const now = performance.timeOrigin + performance.now();
    for (const row of document.querySelectorAll("#recent-jobs-body tr[data-job-id]")) {
      const id = row.dataset.jobId;
      if (!(id in seen.jobs) && row.querySelector('[data-status="COMPLETED"]')) seen.jobs[id] = now;
    }
    for (const row of document.querySelectorAll("#raw-events-body tr[data-event-id]")) {
      const id = row.querySelector("a[data-job-id]")?.dataset.jobId;
      const type = row.querySelector(".event-type")?.textContent;
      if (id && type === "job.completed" && !(id in seen.events)) seen.events[id] = now;
    }
  };
  new MutationObserver(scan).observe(document, { childList: true, subtree: true });
})();
"""
READY_S = 30.0


def unavailable() -> str | None:
    """Why the dashboard cannot be watched here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.async_api  # noqa: F401 — imported only to learn whether it is installed
    except ImportError:
        return "the playwright package is not installed"
    return None


class DashboardWatch:
    """The dashboard's overview page, open in headless Chromium and live (SSE)."""

    def __init__(self, page: Any) -> None:
        self.page = page

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, web_url: str) -> AsyncIterator[DashboardWatch]:
        from playwright.async_api import async_playwright

        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS
            )
            try:
                page = await browser.new_page(viewport={"width": 1400, "height": 900})
                await page.add_init_script(script=OBSERVER_JS)
                await page.goto(web_url.rstrip("/") + "/")
                await page.wait_for_selector(
                    '#live-indicator[data-state="live"]', timeout=READY_S * 1000
                )
                yield cls(page)
            finally:
                await browser.close()

    async def seen(self) -> dict[str, tuple[float, str]]:
        """job id -> (first time shown as completed, where: "recentJobs" | "rawEvents")."""
        raw = await self.page.evaluate("window.__odtoBench")
        found: dict[str, tuple[float, str]] = {}
        for where, key in (("recentJobs", "jobs"), ("rawEvents", "events")):
            for job_id, at in raw[key].items():
                if job_id not in found or at < found[job_id][0]:
                    found[job_id] = (float(at), where)
        return found


class _FirstSeen:
    """When each job was first seen COMPLETED (epoch ms), and where (`WHERE`)."""

    WHERE = ""

    def __init__(self) -> None:
        self.first: dict[str, float] = {}

    async def seen(self) -> dict[str, tuple[float, str]]:
        return {job_id: (at, self.WHERE) for job_id, at in self.first.items()}


class TuiWatch(_FirstSeen):
    """`odd-dashboard`'s app on its dashboard screen, run headless in this event loop."""

    WHERE = "jobsTable"

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, gateway_url: str, read_model_url: str) -> AsyncIterator[TuiWatch]:
        from observatory.interfaces.tui.app import ObservatoryApp
        from observatory.interfaces.tui.config import TuiConfig
        from observatory.interfaces.tui.screens.dashboard import DashboardScreen

        watch = cls()
        config = TuiConfig(gateway_url=gateway_url, read_model_url=read_model_url)
        app = ObservatoryApp(config, env={}, platform="linux", opener=lambda _url: True)
        async with app.run_test(size=(120, 40)):
            deadline = time.monotonic() + READY_S
            while True:
                screen = app.screen
                if (
                    isinstance(screen, DashboardScreen)
                    and screen.refresh_count
                    and screen.stream_events
                ):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("the TUI did not reach its live dashboard")
                await asyncio.sleep(0.05)
            watch._hook(screen)
            yield watch

    def _hook(self, screen: Any) -> None:
        """Textual has no "rows changed" event: wrap the one method that fills the jobs
        table, so the moment is exact and nothing polls."""
        draw = screen._draw_jobs

        def draw_and_note() -> None:
            draw()
            now = time.time() * 1000
            for job in screen.jobs:
                if job.status == "COMPLETED" and job.id not in self.first:
                    self.first[job.id] = now

        screen._draw_jobs = draw_and_note


class StreamWatch(_FirstSeen):
    """An SSE client on the read model's `/stream`, in this event loop."""

    WHERE = "stream"

    @classmethod
    @contextlib.asynccontextmanager
    async def open(cls, read_model_url: str) -> AsyncIterator[StreamWatch]:
        import httpx
        import orjson

        watch = cls()
        connected = asyncio.Event()

        async def listen() -> None:
            async with (
                httpx.AsyncClient(timeout=httpx.Timeout(None, connect=READY_S)) as client,
                client.stream("GET", read_model_url.rstrip("/") + "/stream") as answer,
            ):
                connected.set()
                kind = ""
                async for line in answer.aiter_lines():
                    if line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: ") and kind == "job-event":
                        event = orjson.loads(line[6:])
                        job_id = (event.get("payload") or {}).get("id")
                        if event.get("eventType") == "job.completed" and job_id:
                            watch.first.setdefault(job_id, time.time() * 1000)

        task = asyncio.create_task(listen())
        ready = asyncio.create_task(connected.wait())
        try:
            await asyncio.wait([task, ready], timeout=READY_S, return_when=asyncio.FIRST_COMPLETED)
            if task.done():
                task.result()  # raises what stopped it
                raise RuntimeError("the read model's /stream ended at once")
            if not ready.done():
                raise RuntimeError("the read model's /stream did not answer")
            yield watch
        finally:
            for running in (task, ready):
                running.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await running
