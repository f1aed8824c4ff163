"""The overview's live charts (throughput, failures, latency): drawn with data after jobs
run, fed by the stream while the page stays open, window buttons, values on hover, and
readable at 375 px. Screenshots go to test-artifacts/browser/charts-*.png (the ones in
docs/images/ were taken by this test)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import (
    ARTIFACTS,
    Console,
    open_dashboard,
    screenshot,
    submit_job,
    wait_for_status,
)
from tests.system import RunningSystem, wait_until

OVERFLOW = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def _artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"


def figure(page: Any, chart: str, key: str) -> int:
    return int(page.locator(f"#chart-{chart}").get_attribute(f"data-{key}") or -1)


def series_totals(system: RunningSystem, window: str = "15m") -> dict[str, int]:
    body = httpx.get(
        f"{system.read_model_url}/stats/series", params={"window": window}, timeout=5
    ).json()
    keys = ("created", "completed", "failed", "cancelled")
    return {k: sum(p[k] for p in body["points"]) for k in keys}


def ran(system: RunningSystem) -> None:
    """Three jobs completed and two failed, counted by the series."""
    before = series_totals(system)
    done = [submit_job(system, "CHART-OK", {"durationMs": 30}) for _ in range(3)]
    failed = [submit_job(system, "CHART-FAIL", {"failProbability": 1}) for _ in range(2)]
    for job_id in done:
        wait_for_status(system, job_id, "COMPLETED")
    for job_id in failed:
        wait_for_status(system, job_id, "FAILED")
    wait_until(
        lambda: (
            series_totals(system)["completed"] >= before["completed"] + 3
            and series_totals(system)["failed"] >= before["failed"] + 2
        ),
        message="the series to count the jobs",
    )


def test_charts_are_drawn_with_the_jobs_that_ran(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    """After jobs complete and fail, each chart has a canvas and its figures agree with
    /stats/series: at least the 3 completed and 2 failed, latency percentiles shown."""
    ran(observatory)
    open_dashboard(page, observatory)
    page.wait_for_function(
        "() => Number(document.querySelector('#chart-throughput').dataset.completed) >= 3"
        " && Number(document.querySelector('#chart-failures').dataset.failed) >= 2"
    )
    for chart in ("throughput", "failures", "latency"):
        canvas = page.locator(f"#chart-{chart} canvas")
        box = canvas.bounding_box()
        assert box is not None
        assert box["width"] > 200
        assert box["height"] > 100
        assert figure(page, chart, "points") == 90  # 15 min at 10 s
    totals = series_totals(observatory)
    assert figure(page, "throughput", "completed") <= totals["completed"]
    summary = page.locator("#chart-latency .chart-summary").text_content() or ""
    assert summary.startswith("Last 15 minutes: p50 up to ")
    assert "p99 up to – ms" not in summary
    screenshot(page, "charts-dashboard", full_page=False)
    page.locator("#charts").screenshot(path=str(_artifact("charts-overview")))
    assert console.errors == []


def test_charts_follow_the_stream_while_the_page_is_open(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    """A job completing after the page opened shows up without a reload."""
    open_dashboard(page, observatory)
    page.wait_for_function("() => document.querySelector('#chart-throughput').dataset.points")
    before = figure(page, "throughput", "completed")
    job_id = submit_job(observatory, "CHART-LIVE", {"durationMs": 10})
    wait_for_status(observatory, job_id, "COMPLETED")
    page.wait_for_function(
        f"() => Number(document.querySelector('#chart-throughput').dataset.completed) > {before}"
    )
    assert console.errors == []


def test_window_buttons_change_the_window_and_hover_shows_values(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    """1h draws 120 points of 30 s, 24h 144 of 10 min, 15m 90 again; the pressed button
    says which. Hovering the latest step fills the legend with its time and values."""
    ran(observatory)
    open_dashboard(page, observatory)
    page.wait_for_function("() => document.querySelector('#chart-throughput').dataset.points")
    for window, points in (("1h", 120), ("24h", 144), ("15m", 90)):
        page.locator(f"#chart-windows button[data-window='{window}']").click()
        page.wait_for_function(
            f"() => document.querySelector('#chart-throughput').dataset.window === '{window}'"
        )
        assert figure(page, "throughput", "points") == points
        pressed = page.locator("#chart-windows button[aria-pressed='true']")
        assert pressed.text_content() == window
        assert figure(page, "throughput", "completed") >= 3
    over = page.locator("#chart-throughput .u-over")
    box = over.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] - 3, box["y"] + box["height"] / 2)
    legend = page.locator("#chart-throughput .u-legend")
    values = legend.locator(".u-value")
    wait_until(lambda: (values.first.text_content() or "–") != "–", message="a hovered time")
    assert all((v or "").strip().isdigit() for v in values.all_text_contents()[1:])
    screenshot(page, "charts-hover", full_page=False)
    assert console.errors == []


def test_charts_fit_375px(browser: Any, observatory: RunningSystem) -> None:
    """At 375 px the three charts stack, each as wide as the screen allows, without a
    sideways scroll; the window buttons stay on screen."""
    ran(observatory)
    context = browser.new_context(viewport={"width": 375, "height": 740}, is_mobile=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    console = Console(page)
    try:
        open_dashboard(page, observatory)
        page.wait_for_function("() => document.querySelector('#chart-latency').dataset.points")
        assert page.evaluate(OVERFLOW) <= 0
        for chart in ("throughput", "failures", "latency"):
            box = page.locator(f"#chart-{chart} canvas").bounding_box()
            assert box is not None
            assert 250 <= box["width"] <= 375
            assert box["x"] >= 0
        buttons = page.locator("#chart-windows button[data-window='24h']").bounding_box()
        assert buttons is not None
        assert buttons["x"] + buttons["width"] <= 375
        page.locator("#charts").scroll_into_view_if_needed()
        page.locator("#charts").screenshot(path=str(_artifact("charts-375")))
        assert console.errors == []
    finally:
        context.close()
