"""?: every key of every screen, in one place."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HELP = (
    (
        "Dashboard",
        (
            ("Q", "quit (stops a system this TUI started)"),
            ("R", "refresh now; also retries alerts after failures"),
            ("N", "new task"),
            ("U", "UI launcher"),
            ("/", "filter jobs: status, type, id prefix, error text, metadata"),
            ("D", "dead letters (keys below)"),
            ("A", "audit: who did what"),
            ("B", "bulk retry the FAILED jobs of the filter's type/error (asks first)"),
            ("↑ ↓ Enter", "choose a job and open its detail"),
            ("?", "this help"),
            ("Ctrl+P", "command palette"),
        ),
    ),
    (
        "New task",
        (
            ("Enter", "submit"),
            ("Tab", "next field"),
            ("Esc", "cancel"),
        ),
    ),
    (
        "UI launcher",
        (
            ("↑ ↓", "choose"),
            ("Enter", "open in the browser (or show the URL)"),
            ("C", "copy the URL"),
            ("Esc", "close"),
        ),
    ),
    (
        "Job detail",
        (
            ("T", "retry a FAILED job"),
            ("C C", "cancel a job that waits (press twice)"),
            ("R", "refresh"),
            ("Esc", "back"),
        ),
    ),
    (
        "Dead letters",
        (
            ("S", "state: all, new, replayed, replay_failed"),
            ("F", "filter by reason text and queue"),
            ("P P", "replay the chosen letter (press twice)"),
            ("B", "bulk replay the new letters of the filter (counts, asks first)"),
            ("R", "refresh"),
            ("Esc", "back"),
        ),
    ),
    (
        "Launcher",
        (
            ("L", "launch the system here (odto up)"),
            ("K", "launch it on a kind cluster (odto cluster up)"),
            ("R", "check again"),
        ),
    ),
    (
        "Setup",
        (
            ("any key", "when finished: dashboard, or back to the launcher"),
            ("Esc", "cancel while running"),
        ),
    ),
    ("Anywhere", (("Ctrl+C", "quit"),)),
)


def help_text() -> Text:
    """Every section and key, one per line, keys in a fixed-width column."""
    text = Text()
    for index, (section, keys) in enumerate(HELP):
        if index:
            text.append("\n")
        text.append(section, style="bold underline")
        for key, description in keys:
            text.append("\n  ")
            text.append(f"{key:<12}", style="bold cyan")
            text.append(description)
    return text


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,question_mark,q,Q", "close", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help", classes="dialog"):
            yield Static(help_text(), id="help-keys")
            yield Static(Text("Esc or ? closes", style="dim"))

    def on_mount(self) -> None:
        self.query_one("#help").border_title = "Keys"

    def action_close(self) -> None:
        self.dismiss(None)
