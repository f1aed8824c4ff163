"""The TUI's job detail names the job's trace and links to it (ODTO_TRACE_URL)."""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

from observatory.interfaces.tui.models import JobDetail
from observatory.interfaces.tui.screens.job_detail import JobDetailScreen
from tests.tui.conftest import showing
from tests.tui.fake_backend import FakeBackend, job_detail
from tests.tui.test_snapshots import dashboard_ready, frozen_app, until

TEMPLATE = "http://traces.example/trace/{traceId}"


async def summary_of(backend: FakeBackend) -> tuple[JobDetail, Text]:
    app = frozen_app(backend)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: dashboard_ready(app))
        await pilot.press("down", "down", "enter")
        await until(pilot, lambda: (screen := showing(app, JobDetailScreen)) and screen.detail)
        screen = showing(app, JobDetailScreen)
        assert screen is not None
        assert screen.detail is not None
        content: Any = screen.query_one("#job-summary", Static).content
        assert isinstance(content, Text)
        return screen.detail, content


async def test_a_traced_jobs_detail_shows_its_trace_link() -> None:
    detail, text = await summary_of(FakeBackend(trace_url=TEMPLATE))
    url = TEMPLATE.replace("{traceId}", detail.trace_id)
    assert len(detail.trace_id) == 32
    assert detail.trace_url == url
    assert f"Trace     {url}" in text.plain
    linked = [span for span in text.spans if f"link {url}" in str(span.style)]
    assert linked, text.spans  # a terminal with OSC 8 links opens it on a click


async def test_an_untraced_jobs_detail_has_no_trace_line() -> None:
    detail, text = await summary_of(FakeBackend())
    assert (detail.trace_id, detail.trace_url) == ("", "")
    assert "Trace" not in text.plain


def test_only_http_links_are_taken_from_the_api() -> None:
    body = {**job_detail(0, TEMPLATE), "traceUrl": "javascript:alert(1)"}
    detail = JobDetail.parse(body)
    assert detail.trace_id == f"{1:032x}"
    assert detail.trace_url == ""
