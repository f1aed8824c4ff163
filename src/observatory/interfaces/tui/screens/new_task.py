"""N: submit a job. The type is checked like the server checks it; Enter submits in a worker.

The dialog shows the accepted job's id (then any key closes it), or the error by kind:
timeout, connection refused, the server's validation message, a server error. After an
error the fields stay editable, so the user can fix them and press Enter again.

While the client retries a submission whose fate is open (a 503, a timeout) the dialog
says "Retrying…"; if the tries run out, the error names the job id, and Enter with the
fields unchanged sends that same job again (safe: the gateway runs an id once).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from observatory.interfaces.submission import Retrying
from observatory.interfaces.tui.client import RequestError
from observatory.interfaces.tui.validation import (
    InvalidInput,
    Simulation,
    parse_simulation,
    validate_job_type,
)

if TYPE_CHECKING:
    from observatory.interfaces.tui.app import ObservatoryApp

IDLE_HINT = "Enter submits · Tab next field · Esc cancels"


class NewTaskScreen(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self) -> None:
        super().__init__()
        self.state = "editing"  # editing | submitting | retrying | created | failed
        self.job_id: str | None = None
        self.error: str | None = None
        self.unsettled: tuple[str, Simulation, str] | None = None
        """(type, simulation, job id) of a submission that gave up with its fate open."""

    def compose(self) -> ComposeResult:
        with Vertical(id="new-task", classes="dialog"):
            yield Label("Job type")
            yield Input(placeholder="e.g. REPORT_EXPORT", id="job-type")
            yield Label("Simulate (optional)")
            with Horizontal(id="simulate"):
                yield Input(
                    placeholder="duration ms", id="duration", type="integer", valid_empty=True
                )
                yield Input(
                    placeholder="fail prob 0-1",
                    id="fail-probability",
                    type="number",
                    valid_empty=True,
                )
                yield Input(
                    placeholder="fail first N", id="fail-attempts", type="integer", valid_empty=True
                )
            yield Static(Text(IDLE_HINT, style="dim"), id="task-status")

    def on_mount(self) -> None:
        self.query_one("#new-task").border_title = "➕ New Task"
        self.query_one("#job-type", Input).focus()

    def _value(self, widget_id: str) -> str:
        return self.query_one(f"#{widget_id}", Input).value

    def _show(self, text: Text, state: str) -> None:
        self.state = state
        box = self.query_one("#new-task")
        for name in ("created", "failed", "submitting", "retrying"):
            box.set_class(state == name, f"-{name}")
        self.query_one("#task-status", Static).update(text)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if self.state in ("submitting", "retrying"):
            return
        try:
            job_type = validate_job_type(self._value("job-type"))
            simulation = parse_simulation(
                self._value("duration"),
                self._value("fail-probability"),
                self._value("fail-attempts"),
            )
        except InvalidInput as exc:
            self.error = str(exc)
            self._show(Text(f"✗ {exc}", style="bold red"), "failed")
            return
        self._show(Text("⏳ Submitting…", style="yellow"), "submitting")
        self.run_worker(self._submit(job_type, simulation), exclusive=True, exit_on_error=False)

    def _retrying(self, retry: Retrying) -> None:
        self._show(
            Text.assemble(
                ("⟳ Retrying… ", "bold yellow"),
                (f"try {retry.attempt} of {retry.attempts} in {retry.wait:g}s: ", "yellow"),
                (retry.reason, "yellow"),
                (f"\nJob {retry.job_id}", "dim"),
            ),
            "retrying",
        )

    async def _submit(self, job_type: str, simulation: Simulation) -> None:
        app = cast("ObservatoryApp", self.app)
        last = self.unsettled
        again = last[2] if last and last[:2] == (job_type, simulation) else None
        try:
            job_id = await app.client.submit(
                job_type, simulation, job_id=again, on_retry=self._retrying
            )
        except RequestError as exc:
            self.error = str(exc)
            self.unsettled = (job_type, simulation, exc.job_id) if exc.job_id else None
            hint = (
                "\nEnter sends the same job again, or Esc"
                if exc.job_id
                else "\nFix and press Enter, or Esc"
            )
            self._show(
                Text.assemble(("✗ ", "bold red"), (str(exc), "red"), (hint, "dim")),
                "failed",
            )
            return
        self.unsettled = None
        self.job_id = job_id
        for field in self.query(Input):
            field.disabled = True
        self.set_focus(None)
        self._show(
            Text.assemble(
                ("✓ Job created: ", "bold green"),
                (job_id, "bold"),
                ("\nPress any key to close", "dim"),
            ),
            "created",
        )

    def action_cancel(self) -> None:
        self.dismiss(self.job_id)

    def on_key(self, event: events.Key) -> None:
        if self.state == "created":
            event.stop()
            event.prevent_default()
            self.dismiss(self.job_id)
