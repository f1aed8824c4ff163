"""Operator screens: dead letters (filter, replay one or many) and the audit log.

D on the dashboard opens the dead letters: S cycles the state filter (all, new, replayed,
replay_failed), F filters by reason text and queue, P replays the selected letter after
a second P to confirm, B replays the new letters of the reason/queue filter: it counts
them first (a dry run), asks, then shows how many were replayed and which were refused
again. A on the dashboard opens the audit: who did what, newest first. Everything a
server sent is shown as plain text.
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
from observatory.interfaces.tui.screens.confirm import ConfirmScreen
from observatory.interfaces.tui.screens.letter_filter import LetterFilter, LetterFilterScreen

if TYPE_CHECKING:
    from observatory.interfaces.tui.app import ObservatoryApp

STATES = ("", "new", "replayed", "replay_failed")
STATE_STYLES = {"new": "yellow", "replayed": "green", "replay_failed": "bold red"}
LETTER_KEYS = (
    ("Esc", "Back"),
    ("R", "Refresh"),
    ("S", "State"),
    ("F", "Filter"),
    ("P", "Replay"),
    ("B", "Bulk replay"),
    ("Q", "Quit"),
)
BULK_CAP = 1000  # POST /dead-letters/replay's cap per request
SHOWN_FAILURES = 5
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
        Binding("f,F", "filter", "Filter"),
        Binding("p,P", "replay", "Replay"),
        Binding("b,B", "bulk_replay", "Bulk replay"),
        Binding("q,Q", "app.quit", "Quit"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.state = ""
        self.letter_filter = LetterFilter()
        self.confirming: str | None = None
        self.letters: list[dict[str, Any]] = []

    def columns(self) -> tuple[tuple[str, int], ...]:
        return (("Id", 26), ("Rejected (UTC)", 19), ("Queue", 16), ("State", 13), ("Reason", 50))

    async def load(self) -> None:
        table = self.query_one("#operate-table", DataTable)
        shown = " · ".join(
            [f"Dead letters · state: {self.state or 'all'}", self.letter_filter.describe()]
        )
        table.border_title = shown.removesuffix(" · ")
        try:
            self.letters = await self.observatory.client.dead_letters(
                state=self.state, reason=self.letter_filter.reason, queue=self.letter_filter.queue
            )
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

    def action_filter(self) -> None:
        self.app.push_screen(LetterFilterScreen(self.letter_filter), self.apply_filter)

    def apply_filter(self, letter_filter: LetterFilter | None) -> None:
        if letter_filter is not None:
            self.letter_filter = letter_filter
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

    def action_bulk_replay(self) -> None:
        self.confirming = None
        self.run_worker(self._bulk_replay(), group="bulk-replay", exclusive=True)

    async def _bulk_replay(self) -> None:
        """Count the new letters of the filter (dry run), ask, replay, show the outcome."""
        asked = self.letter_filter.request()
        client = self.observatory.client
        try:
            counted = await client.bulk_replay(asked, dry_run=True, limit=BULK_CAP)
        except RequestError as exc:
            self.say(Text(f"✗ Bulk replay: {exc}", style="bold red"))
            return
        if counted.matched == 0:
            self.say(Text("No new dead letter matches this filter", style="dim"))
            return
        which = self.letter_filter.describe() or "any reason, any queue"
        more = f" (at most {BULK_CAP:,} a request)" if counted.matched >= BULK_CAP else ""
        question = (
            f"Replay {counted.matched:,} new dead letters ({which}){more}? Each is checked"
            " again like a new message."
        )
        if not await self.app.push_screen_wait(
            ConfirmScreen("Bulk replay", question, confirm="Replay")
        ):
            self.say(Text("Bulk replay cancelled; nothing was sent", style="dim"))
            return
        self.say(Text(f"⏳ Replaying {counted.matched:,} dead letters…", style="yellow"))
        try:
            done = await client.bulk_replay(asked, dry_run=False, limit=counted.matched)
        except RequestError as exc:
            self.say(Text(f"✗ Bulk replay: {exc}", style="bold red"))
        else:
            self.say(bulk_outcome(done.matched, done.replayed, done.failed))
        self.action_reload()


def bulk_outcome(matched: int, replayed: int, failed: tuple[str, ...]) -> Text:
    """What a bulk replay did, in one line: the counts, and the letters refused again."""
    line = Text(
        f"↻ Bulk replay: replayed {replayed:,} of {matched:,} matched",
        style="bold green" if not failed else "bold yellow",
    )
    if failed:
        ids = ", ".join(failed[:SHOWN_FAILURES]) + (" …" if len(failed) > SHOWN_FAILURES else "")
        line.append(f"; {len(failed):,} refused again (replay_failed): {ids}", style="bold red")
    return line


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
