"""F on the dead letters: show only the letters whose reason contains a text and that came
from one queue (GET /dead-letters?reason=&queue=); B then replays the new ones of that
filter (POST /dead-letters/replay)."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.widgets import Input, Label, Select

from observatory.core.bus.topology import ALL_QUEUES, DEAD_LETTERS
from observatory.core.dead_letter_filter import MAX_REASON
from observatory.interfaces.tui.screens.filter_form import FilterForm
from observatory.interfaces.tui.validation import InvalidInput

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


class LetterFilterScreen(FilterForm[LetterFilter]):
    title_text = "Filter dead letters"
    dialog_id = "letter-filter"
    message_id = "letter-message"
    first_field = "letter-reason"

    def fields(self) -> ComposeResult:
        yield Label("Reason contains")
        yield Input(self.current.reason, placeholder="any reason", id="letter-reason")
        yield Label("Queue")
        yield Select(
            [(queue, queue) for queue in QUEUES],
            prompt="Any queue",
            value=self.current.queue or Select.NULL,
            id="letter-queue",
        )

    def read(self) -> LetterFilter:
        reason = self.value("#letter-reason")
        if len(reason) > MAX_REASON:
            raise InvalidInput(f"reason: at most {MAX_REASON} characters")
        queue = self.query_one("#letter-queue", Select).value
        return LetterFilter(reason, queue if isinstance(queue, str) else "")

    def empty(self) -> LetterFilter:
        return LetterFilter()
