"""The job detail's trace: the link to the trace backend (ODTO_TRACE_URL) and the job's
own waterfall, drawn from its timeline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import Console, open_dashboard, screenshot, submit_job, wait_for_status
from tests.system import RunningSystem, start_system

TEMPLATE = "http://traces.example/trace/{traceId}"


@pytest.fixture
def traced_system(tmp_path: Path, chromium: Any) -> Iterator[RunningSystem]:
    """A system that traces to a file and links jobs to a trace backend's UI."""
    running = start_system(
        tmp_path,
        env={"ODTO_TRACE_FILE": str(tmp_path / "traces.jsonl"), "ODTO_TRACE_URL": TEMPLATE},
    )
    try:
        yield running
    finally:
        running.stop()


def bar_widths(page: Any) -> dict[str, float]:
    """Each waterfall row's bar width in pixels, by label."""
    widths: dict[str, float] = page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#job-waterfall li')].map(
            (row) => [row.querySelector('.waterfall-label').textContent,
                      row.querySelector('.waterfall-bar').getBoundingClientRect().width]))"""
    )
    return widths


def test_a_traced_job_links_to_its_trace_and_draws_its_waterfall(
    page: Any, console: Console, traced_system: RunningSystem
) -> None:
    """A job whose first attempt fails: the link opens its trace, the waterfall shows the
    wait, both attempts (failed, then completed, one after the other) and its events."""
    job_id = submit_job(traced_system, "TRACED", {"failAttempts": 1, "durationMs": 300})
    job = wait_for_status(traced_system, job_id, "COMPLETED", event="job.completed")
    assert len(job["traceId"]) == 32

    open_dashboard(page, traced_system, f"#/jobs/{job_id}")
    link = page.locator("#job-trace-link")
    link.wait_for()
    assert link.get_attribute("href") == TEMPLATE.replace("{traceId}", job["traceId"])
    assert link.get_attribute("rel") == "noopener noreferrer"
    page.locator("#job-waterfall li[data-kind='completed']").wait_for()
    kinds = page.locator("#job-waterfall li").evaluate_all("rows => rows.map(r => r.dataset.kind)")
    assert kinds[:3] == ["queued", "failed", "completed"]
    assert kinds.count("event") == len(job["events"])
    widths = bar_widths(page)
    assert widths["attempt 1"] > 10  # 300 ms of simulated work, drawn to scale
    assert widths["attempt 2"] > 10
    lefts = page.locator("#job-waterfall .waterfall-bar").evaluate_all(
        "bars => bars.map(b => b.getBoundingClientRect().left)"
    )
    assert lefts[2] > lefts[1]  # the second attempt starts after the first
    screenshot(page, "job-detail-trace")
    assert console.errors == []


def test_an_untraced_job_has_its_waterfall_and_no_link(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    job_id = submit_job(observatory, "UNTRACED", {"durationMs": 0})
    job = wait_for_status(observatory, job_id, "COMPLETED")
    assert "traceId" not in job

    open_dashboard(page, observatory, f"#/jobs/{job_id}")
    page.locator("#job-waterfall li[data-kind='completed']").wait_for()
    assert page.locator("#job-trace-link").count() == 0
    assert console.errors == []
