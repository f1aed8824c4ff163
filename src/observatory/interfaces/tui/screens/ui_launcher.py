"""U: the user interfaces in the UI registry; Enter opens one in the browser.

Where a browser cannot be opened (SSH, no display, none installed) the URL is shown to
copy instead (C copies it through the terminal, OSC 52), and every failure is displayed.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from observatory.core.contracts.registry import RegistryEntry
from observatory.interfaces.tui.browser import BrowserResult, Outcome, open_url

if TYPE_CHECKING:
    from observatory.interfaces.tui.app import ObservatoryApp


class UiLauncherScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "Close"),
        Binding("c,C", "copy", "Copy URL"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.result: BrowserResult | None = None

    @property
    def observatory(self) -> ObservatoryApp:
        return cast("ObservatoryApp", self.app)

    @property
    def entries(self) -> tuple[RegistryEntry, ...]:
        registry = self.observatory.registry
        return registry.entries if registry is not None else ()

    def compose(self) -> ComposeResult:
        with Vertical(id="ui-launcher", classes="dialog"):
            yield Static(
                Text("↑/↓ choose · Enter open · C copy URL · Esc close", style="dim"), id="ui-help"
            )
            if self.observatory.registry_error is not None:
                yield Static(
                    Text(
                        f"⚠ Could not load the UI registry: {self.observatory.registry_error}",
                        style="red",
                    ),
                    id="ui-registry-error",
                )
            yield OptionList(
                *(
                    Option(
                        Text.assemble(
                            f"{e.emoji} ", (e.name, "bold"), (f"  :{e.port}{e.path}", "dim")
                        ),
                        id=e.id,
                    )
                    for e in self.entries
                ),
                id="ui-entries",
            )
            yield Static(id="ui-detail")
            yield Static(id="ui-result")

    def on_mount(self) -> None:
        self.query_one("#ui-launcher").border_title = "🚀 Launch UI"
        options = self.query_one("#ui-entries", OptionList)
        if self.entries:
            options.highlighted = 0
        options.focus()
        self._describe()

    def selected(self) -> RegistryEntry | None:
        index = self.query_one("#ui-entries", OptionList).highlighted
        if index is None or not 0 <= index < len(self.entries):
            return None
        return self.entries[index]

    def _describe(self) -> None:
        entry = self.selected()
        detail = self.query_one("#ui-detail", Static)
        if entry is None:
            detail.update("")
            return
        detail.update(Text.assemble((entry.description, "italic"), "\n", (entry.url(), "cyan")))

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._describe()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        entry = self.selected()
        if entry is not None:
            self.run_worker(self._open(entry.url()), exclusive=True, exit_on_error=False)

    async def _open(self, url: str) -> None:
        app = self.observatory
        self.query_one("#ui-result", Static).update(Text(f"Opening {url}…", style="dim"))
        result = await asyncio.to_thread(
            open_url, url, env=app.env, platform=app.platform, opener=app.opener
        )
        self.result = result
        if result.opened:
            app.notify(result.message, title="Browser")
            self.dismiss(None)
            return
        style = "yellow" if result.outcome is Outcome.RESTRICTED else "bold red"
        self.query_one("#ui-result", Static).update(
            Text.assemble((result.message, style), ("\nPress C to copy the URL", "dim"))
        )

    def action_copy(self) -> None:
        entry = self.selected()
        if entry is not None:
            self.app.copy_to_clipboard(entry.url())
            self.query_one("#ui-result", Static).update(
                Text(
                    f"Copied {entry.url()} (if your terminal allows clipboard access)",
                    style="green",
                )
            )

    def action_close(self) -> None:
        self.dismiss(None)
