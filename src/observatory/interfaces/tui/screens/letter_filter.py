"""F on the dead letters: show only the letters whose reason contains a text and that came
from one queue (GET /dead-letters?reason=&queue=); B then replays the new ones of that
filter (POST /dead-letters/replay)."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from observatory.core.bus.topology import ALL_QUEUES, DEAD_LETTERS
from observatory.core.dead_letter_filter import MAX_REASON

QUEUES = tuple(q for q in ALL_QUEUES if q != DEAD_LETTERS)  # where a letter can come from


@dataclass(frozen=True, slots=True)
class LetterFilter:
    reason: str = ""
    queue: str = ""

    def request(self) -> dict[str, str]:
        """The filter as the gateway's bulk replay and the read model's list take it."""
        return {k: v for k, v in (("reason", self.reason), ("queue", self.queue)) if v}

    def describe(self) -> str:
        return " ".join(f"{k}={v}" for k, v in self.request().items())


class LetterFilterScreen(ModalScreen[LetterFilter | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: LetterFilter) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="letter-filter", classes="dialog"):
            yield Label("Reason contains")
            yield Input(self.current.reason, placeholder="any reason", id="letter-reason")
            yield Label("Queue")
            yield Select(
                [(queue, queue) for queue in QUEUES],
                prompt="Any queue",
                value=self.current.queue or Select.NULL,
                id="letter-queue",
            )
            yield Static(Text("Enter applies · Esc cancels", style="dim"), id="letter-message")
            with Horizontal(id="letter-filter-buttons"):
                yield Button("Apply", id="apply", variant="primary")
                yield Button("Clear", id="clear")

    def on_mount(self) -> None:
        self.query_one("#letter-filter").border_title = "Filter dead letters"
        self.query_one("#letter-reason", Input).focus()

    def _apply(self) -> None:
        reason = self.query_one("#letter-reason", Input).value.strip()
        if len(reason) > MAX_REASON:
            message = Text(f"✗ reason: at most {MAX_REASON} characters", style="red")
            self.query_one("#letter-message", Static).update(message)
            return
        queue = self.query_one("#letter-queue", Select).value
        self.dismiss(LetterFilter(reason, queue if isinstance(queue, str) else ""))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._apply()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "clear":
            self.dismiss(LetterFilter())
        else:
            self._apply()

    def action_cancel(self) -> None:
        self.dismiss(None)
