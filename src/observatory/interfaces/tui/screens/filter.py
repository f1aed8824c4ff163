"""/: show only the jobs the read model's search selects (GET /jobs filters: status,
type, id prefix, error text, metadata key=value pairs)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from observatory.core.job_filter import MAX_META_PAIRS, id_prefix_problem
from observatory.interfaces.tui.models import STATUSES, JobFilter
from observatory.interfaces.tui.validation import InvalidInput, validate_job_type


def parse_meta(text: str) -> tuple[tuple[str, str], ...]:
    """`region=eu, tier=gold` → pairs; InvalidInput naming what is wrong."""
    pairs = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise InvalidInput(f"metadata must be key=value pairs, not {part!r}")
        pairs.append((key.strip(), value.strip()))
    if len(pairs) > MAX_META_PAIRS:
        raise InvalidInput(f"at most {MAX_META_PAIRS} metadata pairs")
    return tuple(pairs)


def meta_text(pairs: tuple[tuple[str, str], ...]) -> str:
    return ", ".join(f"{key}={value}" for key, value in pairs)


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
            yield Label("Id starts with")
            yield Input(self.current.id_prefix, placeholder="e.g. 3f2a", id="filter-id")
            yield Label("Error contains")
            yield Input(self.current.error, placeholder="any error text", id="filter-error")
            yield Label("Metadata")
            yield Input(meta_text(self.current.meta), placeholder="key=value, …", id="filter-meta")
            yield Static(Text("Enter applies · Esc cancels", style="dim"), id="filter-message")
            with Horizontal(id="filter-buttons"):
                yield Button("Apply", id="apply", variant="primary")
                yield Button("Clear", id="clear")

    def on_mount(self) -> None:
        self.query_one("#filter").border_title = "Filter jobs"
        self.query_one("#filter-type", Input).focus()

    def _value(self, selector: str) -> str:
        return self.query_one(selector, Input).value.strip()

    def _read(self) -> JobFilter:
        status = self.query_one("#filter-status", Select).value
        raw_type = self._value("#filter-type")
        job_type = validate_job_type(raw_type) if raw_type else ""
        prefix = self._value("#filter-id").lower()
        if prefix and (why := id_prefix_problem(prefix)):
            raise InvalidInput(f"id {why}")
        return JobFilter(
            status if isinstance(status, str) else "",
            job_type,
            id_prefix=prefix,
            error=self._value("#filter-error"),
            meta=parse_meta(self._value("#filter-meta")),
        )

    def _apply(self) -> None:
        try:
            job_filter = self._read()
        except InvalidInput as exc:
            self.query_one("#filter-message", Static).update(Text(f"✗ {exc}", style="red"))
            return
        self.dismiss(job_filter)

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
