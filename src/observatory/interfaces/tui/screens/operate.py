"""Operator screens: dead letters (filter by state, replay one) and the audit log.

D on the dashboard opens the dead letters: S cycles the state filter (all, new, replayed,
replay_failed), P replays the selected letter after a second P to confirm. A on the
dashboard opens the audit: who did what, newest first. Everything a server sent is shown
as plain text.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from observatory.interfaces.tui.client import RequestError
from observatory.interfaces.tui.render import key_bar, short_time

if TYPE_CHECKING:
    from observatory.interfaces.tui.app import ObservatoryApp

STATES = ("", "new", "replayed", "replay_failed")
STATE_STYLES = {"new": "yellow", "replayed": "green", "replay_failed": "bold red"}
LETTER_KEYS = (("Esc", "Back"), ("R", "Refresh"), ("S", "State"), ("P", "Replay"), ("Q", "Quit"))
AUDIT_KEYS = (("Esc", "Back"), ("R", "Refresh"), ("Q", "Quit"))


class OperatorScreen(Screen[None]):
    """Shared: a table loaded in a worker, a message line, a key bar."""

    KEYS: tuple[tuple[str, str], ...] = ()
    TITLE_TEXT = ""

    @property
    def observatory(self) -> ObservatoryApp:
        return cast("ObservatoryApp", self.app)

    def compose(self) -> ComposeResult:
        table: DataTable[Any] = DataTable(id="operate-table", cursor_type="row")
        yield table
        yield Static(id="operate-message")
        yield Static(key_bar(self.KEYS), id="operate-keys")

    def on_mount(self) -> None:
        table = self.query_one("#operate-table", DataTable)
        table.border_title = self.TITLE_TEXT
        for label, width in self.columns():
            table.add_column(label, width=width)
        table.focus()
        self.action_reload()

    def columns(self) -> tuple[tuple[str, int], ...]:
        return ()

    def say(self, text: Text) -> None:
        self.query_one("#operate-message", Static).update(text)

    def action_reload(self) -> None:
        self.run_worker(self.load(), exclusive=True, group="operate", exit_on_error=False)

    async def load(self) -> None:
        """Fill the table."""

    def action_back(self) -> None:
        self.app.pop_screen()


class DeadLettersScreen(OperatorScreen):
    KEYS = LETTER_KEYS
    TITLE_TEXT = "Dead letters"
    BINDINGS = [
        Binding("escape,backspace", "back", "Back"),
        Binding("r,R", "reload", "Refresh"),
        Binding("s,S", "next_state", "State"),
        Binding("p,P", "replay", "Replay"),
        Binding("q,Q", "app.quit", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.state = ""
        self.confirming: str | None = None
        self.letters: list[dict[str, Any]] = []

    def columns(self) -> tuple[tuple[str, int], ...]:
        return (("Id", 26), ("Rejected (UTC)", 19), ("Queue", 16), ("State", 13), ("Reason", 50))

    async def load(self) -> None:
        table = self.query_one("#operate-table", DataTable)
        table.border_title = f"Dead letters · state: {self.state or 'all'}"
        try:
            self.letters = await self.observatory.client.dead_letters(state=self.state)
        except RequestError as exc:
            self.say(Text(f"✗ {exc}", style="bold red"))
            return
        table.clear()
        for letter in self.letters:
            state = str(letter.get("state") or "new")
            table.add_row(
                Text(str(letter.get("id", ""))),
                short_time(str(letter.get("rejected_at") or "")),
                Text(str(letter.get("queue") or "-")),
                Text(state, style=STATE_STYLES.get(state, "")),
                Text(str(letter.get("validation_error") or "")),
                key=str(letter.get("id", "")),
            )
        if not self.letters:
            self.say(Text("No dead letters here", style="dim"))

    def action_next_state(self) -> None:
        self.state = STATES[(STATES.index(self.state) + 1) % len(STATES)]
        self.confirming = None
        self.action_reload()

    def selected(self) -> str | None:
        table = self.query_one("#operate-table", DataTable)
        if not self.letters or table.cursor_row < 0 or table.cursor_row >= len(self.letters):
            return None
        return str(self.letters[table.cursor_row].get("id", "")) or None

    def action_replay(self) -> None:
        letter_id = self.selected()
        if letter_id is None:
            self.say(Text("Choose a dead letter first", style="yellow"))
            return
        if self.confirming != letter_id:
            self.confirming = letter_id
            self.say(Text(f"Replay dead letter {letter_id}? Press P again", style="yellow"))
            return
        self.confirming = None
        self.say(Text(f"⏳ Replaying {letter_id}…", style="yellow"))
        self.run_worker(self._replay(letter_id), group="replay", exit_on_error=False)

    async def _replay(self, letter_id: str) -> None:
        try:
            state = await self.observatory.client.replay(letter_id)
        except RequestError as exc:
            self.say(Text(f"✗ Replay of {letter_id} refused: {exc}", style="bold red"))
        else:
            self.say(Text(f"↻ Dead letter {letter_id} {state}", style="bold green"))
        self.action_reload()


class AuditScreen(OperatorScreen):
    KEYS = AUDIT_KEYS
    TITLE_TEXT = "Audit"
    BINDINGS = [
        Binding("escape,backspace", "back", "Back"),
        Binding("r,R", "reload", "Refresh"),
        Binding("q,Q", "app.quit", "Quit"),
    ]

    def columns(self) -> tuple[tuple[str, int], ...]:
        return (("When (UTC)", 19), ("Action", 12), ("Actor", 16), ("Target", 38), ("Result", 40))

    async def load(self) -> None:
        try:
            entries = await self.observatory.client.audit()
        except RequestError as exc:
            self.say(Text(f"✗ {exc}", style="bold red"))
            return
        table = self.query_one("#operate-table", DataTable)
        table.clear()
        for entry in entries:
            result = entry.get("result")
            shown = (
                " ".join(f"{k}={v}" for k, v in result.items()) if isinstance(result, dict) else ""
            )
            table.add_row(
                short_time(str(entry.get("occurredAt") or "")),
                Text(str(entry.get("action", ""))),
                Text(str(entry.get("actor", ""))),
                Text(str(entry.get("target", ""))),
                Text(shown),
            )
        if not entries:
            self.say(Text("Nothing done yet", style="dim"))
