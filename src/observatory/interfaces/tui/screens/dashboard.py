"""The live dashboard: statistics, alerts, recent jobs, refreshed every 2 s in a worker.

A refresh asks the read model for /stats, the jobs (filtered when `/` set a filter),
/stats/series (the statistics panel's sparklines: jobs completed and runs failed per
step over the last SERIES_WINDOW) and /alerts at once. Alerts back off: after
MAX_ALERT_FAILURES failed fetches in a row they are no longer asked for until the user
presses R.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Sparkline, Static
from textual.worker import Worker

from observatory.__about__ import __version__
from observatory.core.contracts.vocabulary import EventType
from observatory.interfaces.tui import art
from observatory.interfaces.tui.client import RequestError
from observatory.interfaces.tui.models import Alerts, JobFilter, JobSummary, Series, Stats
from observatory.interfaces.tui.render import (
    alerts_text,
    indicator,
    key_bar,
    short_time,
    spark_total,
    stats_text,
    status_text,
)
from observatory.interfaces.tui.screens.confirm import ConfirmScreen
from observatory.interfaces.tui.screens.filter import FilterScreen
from observatory.interfaces.tui.screens.job_detail import JobDetailScreen
from observatory.interfaces.tui.screens.new_task import NewTaskScreen
from observatory.interfaces.tui.screens.operate import AuditScreen, DeadLettersScreen
from observatory.interfaces.tui.screens.ui_launcher import UiLauncherScreen

if TYPE_CHECKING:
    from observatory.interfaces.tui.app import ObservatoryApp

MAX_ALERT_FAILURES = 3
SERIES_WINDOW = "15m"
BULK_CAP = 1000  # POST /jobs/retry's cap per request
BULK_FILTER_NOTE = "Bulk retry filters by type and error text only: clear id and metadata first"
STREAM_COALESCE_SECONDS = 0.1
"""Job events arrive in bursts; one jobs refresh per burst is enough."""
DASHBOARD_KEYS = (
    ("Q", "Quit"),
    ("R", "Refresh"),
    ("N", "New task"),
    ("U", "UIs"),
    ("/", "Filter"),
    ("B", "Bulk"),
    ("⏎", "Open"),
    ("?", "Help"),
    ("^P", "Menu"),
    ("D", "Dead letters"),  # last: on a narrow screen these fall off first (? lists them)
    ("A", "Audit"),
)


def _message(result: Any) -> str:
    return str(result) if isinstance(result, RequestError) else f"{type(result).__name__}: {result}"


class DashboardScreen(Screen[None]):
    BINDINGS = [
        Binding("q,Q", "app.quit", "Quit"),
        Binding("r,R", "refresh", "Refresh"),
        Binding("n,N", "new_task", "New task"),
        Binding("u,U", "ui_launcher", "UIs"),
        Binding("slash", "filter", "Filter"),
        Binding("d,D", "dead_letters", "Dead letters"),
        Binding("a,A", "audit", "Audit"),
        Binding("b,B", "bulk_retry", "Bulk retry"),
        Binding("question_mark", "app.help", "Help"),
    ]
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]

    def __init__(self) -> None:
        super().__init__()
        self.stats: Stats | None = None
        self.series: Series | None = None
        self.jobs: list[JobSummary] = []
        self.alerts: Alerts | None = None
        self.alert_error: str | None = None
        self.alert_failures = 0
        self.last_ok: datetime | None = None
        self.error: str | None = None
        self.job_filter = JobFilter()
        self.refresher: Worker[None] | None = None
        self.refresh_count = 0
        self.stream_events = 0
        self.jobs_refresh_pending = False
        self.refresh_again = False
        self.who: tuple[str, str] | None = None
        """(token name, role) when the system has tokens; shown in the header."""

    @property
    def observatory(self) -> ObservatoryApp:
        return cast("ObservatoryApp", self.app)

    def compose(self) -> ComposeResult:
        with Horizontal(id="top"):
            yield Static(Text(art.logo_block(), style="green"), id="logo", classes="box")
            with Vertical(id="summary"):
                yield Static(id="title")
                with Vertical(id="stats", classes="box"):
                    yield Static(id="stats-text")
                    for name, label in (("throughput", "Completed"), ("failures", "Failed")):
                        with Horizontal(classes="spark-row"):
                            yield Static(label, classes="spark-label")
                            yield Sparkline([], id=f"spark-{name}")
                            yield Static(id=f"spark-{name}-total", classes="spark-total")
                yield Static(id="alerts", classes="box")
        table: DataTable[Any] = DataTable(id="jobs", cursor_type="row", zebra_stripes=True)
        yield table
        with Horizontal(id="helpbar"):
            yield Static(key_bar(DASHBOARD_KEYS), id="keys")
            yield Static(Text(f"v{__version__}", style="dim"), id="version")

    def on_mount(self) -> None:
        self.query_one("#logo").border_title = "Task Observatory"
        self.query_one("#stats").border_title = "Statistics"
        table = self.query_one("#jobs", DataTable)
        table.add_column("ID", key="id", width=8)
        table.add_column("Type", key="type", width=22)
        table.add_column("Status", key="status", width=10)
        table.add_column("Tries", key="attempts", width=5)
        table.add_column("Created (UTC)", key="created", width=19)
        table.add_column("Error", key="error")
        self.redraw()
        self.refresh_data()
        self.set_interval(self.observatory.config.refresh_seconds, self.refresh_data)
        if self.observatory.config.stream:
            self.run_worker(self._follow_stream(), group="stream", exit_on_error=False)
        if not self.observatory.frozen:
            self.set_interval(1.0, self._draw_header)

    # --- data -----------------------------------------------------------------------------

    def refresh_data(self) -> None:
        """Start a background refresh unless one is still running."""
        if self.refresher is None or self.refresher.is_finished:
            self.refresher = self.run_worker(self._refresh(), group="refresh", exit_on_error=False)
        else:
            self.refresh_again = True  # news arrived mid-refresh: look again right after

    async def _refresh(self) -> None:
        client = self.observatory.client
        rows = self.observatory.config.job_rows
        want_alerts = self.alert_failures < MAX_ALERT_FAILURES
        used_filter = self.job_filter
        if self.who is None:
            self.run_worker(self._whoami(), group="whoami", exit_on_error=False)
        calls: list[Any] = [
            client.stats(),
            client.jobs(limit=rows, search=self.job_filter.params()),
            client.series(SERIES_WINDOW),
        ]
        if want_alerts:
            calls.append(client.alerts())
        results = await asyncio.gather(*calls, return_exceptions=True)
        stats, jobs, series = results[0], results[1], results[2]
        if isinstance(series, Series):
            self.series = series  # when it fails (an older read model), the last one stays
        errors = [r for r in (stats, jobs) if isinstance(r, BaseException)]
        if isinstance(stats, Stats):
            self.stats = stats
        if used_filter != self.job_filter:  # the filter changed meanwhile: ask again
            jobs = []
            self.call_later(self.refresh_data)
        elif isinstance(jobs, list):
            self.jobs = jobs
        if errors:
            self.error = _message(errors[0])
        else:
            self.error = None
            self.last_ok = self.observatory.clock.now()
        if want_alerts:
            alerts = results[3]
            if isinstance(alerts, Alerts):
                self.alerts, self.alert_error, self.alert_failures = alerts, None, 0
            else:
                self.alert_failures += 1
                self.alert_error = _message(alerts)
        self.refresh_count += 1
        self.redraw()
        if self.refresh_again:
            self.refresh_again = False
            self.call_later(self.refresh_data)

    async def _follow_stream(self) -> None:
        """Apply /stream news as it comes: stats at once, a jobs refresh on job events.

        Polling goes on meanwhile, so a read model without /stream (or a broken stream)
        only makes updates slower, never stale.
        """
        delay = 1.0
        while True:
            try:
                async for event, data in self.observatory.client.stream():
                    delay = 1.0
                    self.stream_events += 1
                    self._on_stream_event(event, data)
            except RequestError:
                pass
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    def _on_stream_event(self, event: str, data: Any) -> None:
        if event == "stats":
            try:
                self.stats = Stats.parse(data)
            except ValueError:
                return
            self.last_ok, self.error = self.observatory.clock.now(), None
            self._draw_header()
            self._draw_stats()
        elif event == "job-event":
            self._apply_job_event(data)
            if not self.jobs_refresh_pending:
                self.jobs_refresh_pending = True
                self.set_timer(STREAM_COALESCE_SECONDS, self._stream_refresh)

    def _apply_job_event(self, envelope: Any) -> None:
        """Show a streamed event at once: its payload is the job as it is now. A shown job
        takes the new status; a new job (job.created) goes on top of the unfiltered list.
        The coalesced refresh that follows puts the list in the read model's order again."""
        if not isinstance(envelope, dict):
            return
        try:
            job = JobSummary.parse(envelope.get("payload"))
        except ValueError:
            return
        if not job.id:
            return
        for index, shown in enumerate(self.jobs):
            if shown.id == job.id:
                if job.updated_at and job.updated_at < shown.updated_at:
                    return  # an older event arriving late: keep what is shown
                self.jobs[index] = job
                break
        else:
            if self.job_filter.active or envelope.get("eventType") != EventType.CREATED:
                return
            self.jobs = [job, *self.jobs][: self.observatory.config.job_rows]
        self._draw_jobs()

    def _stream_refresh(self) -> None:
        self.jobs_refresh_pending = False
        self.refresh_data()

    # --- drawing --------------------------------------------------------------------------

    def redraw(self) -> None:
        self._draw_header()
        self._draw_stats()
        alerts = self.query_one("#alerts", Static)
        count = len(self.alerts.alerts) if self.alerts and self.alert_error is None else 0
        alerts.border_title = f"Alerts ({count})"
        paused = self.alert_failures >= MAX_ALERT_FAILURES
        alerts.update(alerts_text(self.alerts, self.alert_error, paused))
        self._draw_jobs()

    async def _whoami(self) -> None:
        try:
            name, role, tokens = await self.observatory.client.whoami()
        except RequestError:
            return  # the refresh shows the error (a 401 says what to set); asked again next time
        self.who = (name, role) if tokens else ("", "open")
        self._draw_header()

    def _draw_header(self) -> None:
        title = Text("📡 Distributed Task Observatory", style="bold green")
        title.append("   ")
        title.append_text(indicator(self.last_ok, self.error, self.observatory.clock.now()))
        if self.who is not None and self.who[0]:
            title.append(f"   role: {self.who[1]} ({self.who[0]})", style="bold cyan")
        self.query_one("#title", Static).update(title)

    def _draw_stats(self) -> None:
        self.query_one("#stats-text", Static).update(stats_text(self.stats))
        series = self.series
        for name, values in (
            ("throughput", series.completed if series else ()),
            ("failures", series.failed if series else ()),
        ):
            self.query_one(f"#spark-{name}", Sparkline).data = list(values)
            total = self.query_one(f"#spark-{name}-total", Static)
            total.update(spark_total(sum(values), series.window) if series else "")

    def _draw_jobs(self) -> None:
        table: DataTable[Any] = self.query_one("#jobs", DataTable)
        what = f"Jobs ({self.job_filter.describe()})" if self.job_filter.active else "Recent jobs"
        table.border_title = f"{what}: {len(self.jobs)}"
        selected = None
        if table.row_count and table.cursor_row < table.row_count:
            selected = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        table.clear()
        for job in self.jobs:
            table.add_row(
                job.id[:8],
                Text(job.type),
                status_text(job.status),
                str(job.attempts),
                short_time(job.created_at),
                Text(job.error, style="red"),
                key=job.id,
            )
        if selected is not None and selected in {job.id for job in self.jobs}:
            table.move_cursor(row=table.get_row_index(selected), animate=False)

    # --- actions --------------------------------------------------------------------------

    def action_refresh(self) -> None:
        """R: fetch now, and fetch alerts again even after repeated failures."""
        self.alert_failures = 0
        self.refresh_data()

    def action_new_task(self) -> None:
        self.app.push_screen(NewTaskScreen(), lambda _job_id: self.refresh_data())

    def action_ui_launcher(self) -> None:
        self.app.push_screen(UiLauncherScreen())

    def action_dead_letters(self) -> None:
        self.app.push_screen(DeadLettersScreen())

    def action_audit(self) -> None:
        self.app.push_screen(AuditScreen())

    def action_filter(self) -> None:
        self.app.push_screen(FilterScreen(self.job_filter), self.apply_filter)

    def apply_filter(self, job_filter: JobFilter | None) -> None:
        if job_filter is not None and job_filter != self.job_filter:
            self.job_filter = job_filter
            self.jobs = []
            self._draw_jobs()
            self.refresh_data()

    def action_bulk_retry(self) -> None:
        """B: retry the FAILED jobs of the current filter's type and error text: count
        them first (dry run), ask, then retry and show what happened."""
        self.run_worker(self._bulk_retry(), group="bulk-retry", exclusive=True)

    async def _bulk_retry(self) -> None:
        current = self.job_filter
        if current.id_prefix or current.meta:
            self.notify(BULK_FILTER_NOTE, severity="warning", timeout=8)
            return
        asked = {k: v for k, v in (("type", current.job_type), ("error", current.error)) if v}
        client = self.observatory.client
        try:
            counted = await client.bulk_retry(asked, dry_run=True)
        except RequestError as exc:
            self.notify(f"Bulk retry: {exc}", severity="error", timeout=8)
            return
        if counted.matched == 0:
            self.notify("Bulk retry: no FAILED job matches this filter", timeout=6)
            return
        which = " ".join(f"{k}={v}" for k, v in asked.items()) or "any type"
        limit = min(counted.matched, BULK_CAP)
        more = f" (the newest {BULK_CAP:,} of them)" if counted.matched > BULK_CAP else ""
        question = f"Retry {limit:,} FAILED jobs ({which}){more}?"
        if not await self.app.push_screen_wait(
            ConfirmScreen("Bulk retry", question, confirm="Retry")
        ):
            return
        try:
            done = await client.bulk_retry(asked, dry_run=False, limit=limit)
        except RequestError as exc:
            self.notify(f"Bulk retry: {exc}", severity="error", timeout=10)
        else:
            self.notify(f"Bulk retry: retried {done.retried:,} of {done.matched:,} matched")
        self.refresh_data()

    def action_clear_filter(self) -> None:
        self.apply_filter(JobFilter())

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.app.push_screen(JobDetailScreen(event.row_key.value))
