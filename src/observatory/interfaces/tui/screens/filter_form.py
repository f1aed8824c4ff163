"""What the filter dialogs share (/ on the jobs, F on the dead letters): their fields over a
message line and Apply / Clear. Enter or Apply reads the fields into a filter (a field that
breaks a rule is named on the message line and the dialog stays), Clear returns the empty
filter, Esc returns None."""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar, TypeVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from observatory.interfaces.tui.validation import InvalidInput

F = TypeVar("F")


class FilterForm(ModalScreen[F | None]):
    """A filter dialog over `current`; subclasses name their ids and give the fields."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]
    title_text: ClassVar[str]
    dialog_id: ClassVar[str]  # its buttons row is `<dialog_id>-buttons`
    message_id: ClassVar[str]
    first_field: ClassVar[str]  # the Input focused on opening

    def __init__(self, current: F) -> None:
        super().__init__()
        self.current = current

    @abstractmethod
    def fields(self) -> ComposeResult:
        """The labels and inputs, showing `current`."""

    @abstractmethod
    def read(self) -> F:
        """The filter the fields say, or InvalidInput naming the field that is wrong."""

    @abstractmethod
    def empty(self) -> F:
        """The filter Clear returns: one that selects everything."""

    def compose(self) -> ComposeResult:
        with Vertical(id=self.dialog_id, classes="dialog"):
            yield from self.fields()
            yield Static(Text("Enter applies · Esc cancels", style="dim"), id=self.message_id)
            with Horizontal(id=f"{self.dialog_id}-buttons", classes="filter-buttons"):
                yield Button("Apply", id="apply", variant="primary")
                yield Button("Clear", id="clear")

    def on_mount(self) -> None:
        self.query_one(f"#{self.dialog_id}").border_title = self.title_text
        self.query_one(f"#{self.first_field}", Input).focus()

    def value(self, selector: str) -> str:
        """The text of the Input `selector`, without surrounding blanks."""
        return self.query_one(selector, Input).value.strip()

    def _apply(self) -> None:
        try:
            chosen = self.read()
        except InvalidInput as exc:
            self.query_one(f"#{self.message_id}", Static).update(Text(f"✗ {exc}", style="red"))
            return
        self.dismiss(chosen)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._apply()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "clear":
            self.dismiss(self.empty())
        else:
            self._apply()

    def action_cancel(self) -> None:
        self.dismiss(None)
