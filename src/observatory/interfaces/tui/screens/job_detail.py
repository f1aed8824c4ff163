"""Enter on a job: its status, attempts, error, attempt history and event timeline.

T retries a FAILED job through the gateway (POST /jobs/{id}/retry); C cancels a job that
waits (POST /jobs/{id}/cancel), after a second C to confirm. The screen refreshes every
2 s so the progress shows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static
from textual.worker import Worker

from observatory.core.contracts.vocabulary import JobStatus
from observatory.interfaces.tui.client import RequestError
from observatory.interfaces.tui.models import JobDetail
from observatory.interfaces.tui.render import key_bar, short_time, status_text

if TYPE_CHECKING:
    from observatory.interfaces.tui.app import ObservatoryApp

DETAIL_KEYS = (
    ("Esc", "Back"),
    ("R", "Refresh"),
    ("T", "Retry (FAILED)"),
    ("C", "Cancel"),
    ("?", "Help"),
    ("Q", "Quit"),
)


class JobDetailScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,backspace", "back", "Back"),
        Binding("r,R", "reload", "Refresh"),
        Binding("t,T", "retry", "Retry"),
        Binding("c,C", "cancel_job", "Cancel"),
        Binding("question_mark", "app.help", "Help"),
        Binding("q,Q", "app.quit", "Quit"),
    ]

    def __init__(self, job_id: str) -> None:
        super().__init__()
        self.job_id = job_id
        self.detail: JobDetail | None = None
        self.load_error: str | None = None
        self.fetcher: Worker[None] | None = None
        self.confirming_cancel = False

    @property
    def observatory(self) -> ObservatoryApp:
        return cast("ObservatoryApp", self.app)

    def compose(self) -> ComposeResult:
        yield Static(id="job-summary", classes="box")
        attempts: DataTable[Any] = DataTable(id="job-attempts", cursor_type="none")
        yield attempts
        events: DataTable[Any] = DataTable(id="job-events", cursor_type="row")
        yield events
        yield Static(id="job-message")
        yield Static(key_bar(DETAIL_KEYS), id="job-keys")

    def on_mount(self) -> None:
        self.query_one("#job-summary").border_title = f"Job {self.job_id}"
        attempts = self.query_one("#job-attempts", DataTable)
        attempts.border_title = "Attempts"
        for label, width in (
            ("#", 3),
            ("Started", 19),
            ("Finished", 19),
            ("Outcome", 9),
            ("Error", 30),
        ):
            attempts.add_column(label, width=width)
        events = self.query_one("#job-events", DataTable)
        events.border_title = "Event timeline"
        for label, width in (
            ("Occurred (UTC)", 19),
            ("Event", 16),
            ("Service", 14),
            ("Status", 10),
        ):
            events.add_column(label, width=width)
        self._draw()
        self.action_reload()
        self.set_interval(self.observatory.config.refresh_seconds, self.action_reload)

    def action_reload(self) -> None:
        if self.fetcher is None or self.fetcher.is_finished:
            self.fetcher = self.run_worker(self._load(), group="detail", exit_on_error=False)

    async def _load(self) -> None:
        try:
            self.detail = await self.observatory.client.job(self.job_id)
            self.load_error = None
        except RequestError as exc:
            self.load_error = str(exc)
        self._draw()

    def _draw(self) -> None:
        summary = self.query_one("#job-summary", Static)
        if self.detail is None:
            summary.update(
                Text(self.load_error or "Loading…", style="red" if self.load_error else "dim")
            )
            return
        job = self.detail.summary
        text = Text.assemble(
            ("Type      ", "bold"),
            job.type,
            "\n",
            ("Status    ", "bold"),
            status_text(job.status),
            ("   Attempts ", "bold"),
            str(job.attempts),
            ("   Run ", "bold"),
            str(self.detail.run),
            "\n",
            ("Created   ", "bold"),
            short_time(job.created_at),
            ("   Updated ", "bold"),
            short_time(job.updated_at),
            "\n",
            ("Completed ", "bold"),
            short_time(self.detail.completed_at),
        )
        if job.error:
            text.append("\nError     ", style="bold")
            text.append(job.error, style="red")
        if self.detail.trace_url:  # a terminal that knows OSC 8 links makes it clickable
            text.append("\nTrace     ", style="bold")
            text.append(self.detail.trace_url, style=f"underline link {self.detail.trace_url}")
        elif self.detail.trace_id:
            text.append("\nTrace     ", style="bold")
            text.append(self.detail.trace_id, style="dim")
        if self.load_error:
            text.append(f"\n⚠ {self.load_error}", style="yellow")
        summary.update(text)
        attempts = self.query_one("#job-attempts", DataTable)
        attempts.clear()
        for attempt in self.detail.attempts:
            outcome_style = {"completed": "green", "failed": "red"}.get(attempt.outcome, "yellow")
            attempts.add_row(
                str(attempt.number),
                short_time(attempt.started_at),
                short_time(attempt.finished_at) if attempt.finished_at else "-",
                Text(attempt.outcome, style=outcome_style),
                Text(attempt.error or ""),
            )
        events = self.query_one("#job-events", DataTable)
        events.clear()
        for event in self.detail.events:
            events.add_row(
                short_time(event.occurred_at),
                event.event_type,
                event.service,
                status_text(event.status),
            )

    def _say(self, text: Text) -> None:
        self.query_one("#job-message", Static).update(text)

    def action_retry(self) -> None:
        if self.detail is None or self.detail.summary.status != JobStatus.FAILED:
            self._say(Text("Only FAILED jobs can be retried", style="yellow"))
            return
        self._say(Text("⏳ Asking the gateway to retry…", style="yellow"))
        self.run_worker(self._retry(), exclusive=True, group="retry", exit_on_error=False)

    async def _retry(self) -> None:
        try:
            await self.observatory.client.retry(self.job_id)
        except RequestError as exc:
            self._say(Text(f"✗ Retry failed: {exc}", style="bold red"))
            return
        self._say(Text("↻ Retry accepted; the job runs again", style="bold green"))
        self.action_reload()

    def action_cancel_job(self) -> None:
        if not self.confirming_cancel:
            self.confirming_cancel = True
            self._say(Text(f"Cancel job {self.job_id}? Press C again to confirm", style="yellow"))
            return
        self.confirming_cancel = False
        self._say(Text("⏳ Asking the gateway to cancel…", style="yellow"))
        self.run_worker(self._cancel(), exclusive=True, group="cancel", exit_on_error=False)

    async def _cancel(self) -> None:
        try:
            status = await self.observatory.client.cancel(self.job_id)
        except RequestError as exc:
            self._say(Text(f"✗ Not cancelled: {exc}", style="bold red"))
            return
        self._say(Text(f"✕ Job {status or 'CANCELLED'}; it will not run", style="bold green"))
        self.action_reload()

    def action_back(self) -> None:
        self.app.pop_screen()
