"""/: show only jobs of one status and/or type (the read model's GET /jobs filters)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from observatory.interfaces.tui.models import STATUSES, JobFilter
from observatory.interfaces.tui.validation import InvalidInput, validate_job_type


class FilterScreen(ModalScreen[JobFilter | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: JobFilter) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="filter", classes="dialog"):
            yield Label("Status")
            yield Select(
                [(status, status) for status in STATUSES],
                prompt="Any status",
                value=self.current.status or Select.NULL,
                id="filter-status",
            )
            yield Label("Type")
            yield Input(self.current.job_type, placeholder="any type", id="filter-type")
            yield Static(Text("Enter applies · Esc cancels", style="dim"), id="filter-message")
            with Horizontal(id="filter-buttons"):
                yield Button("Apply", id="apply", variant="primary")
                yield Button("Clear", id="clear")

    def on_mount(self) -> None:
        self.query_one("#filter").border_title = "Filter jobs"
        self.query_one("#filter-type", Input).focus()

    def _apply(self) -> None:
        status = self.query_one("#filter-status", Select).value
        raw_type = self.query_one("#filter-type", Input).value
        job_type = ""
        if raw_type.strip():
            try:
                job_type = validate_job_type(raw_type)
            except InvalidInput as exc:
                self.query_one("#filter-message", Static).update(Text(f"✗ {exc}", style="red"))
                return
        self.dismiss(JobFilter(status if isinstance(status, str) else "", job_type))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._apply()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "clear":
            self.dismiss(JobFilter())
        else:
            self._apply()

    def action_cancel(self) -> None:
        self.dismiss(None)
