"""The loading splash: logo, spinner and cycling messages while we look for the system."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle, Vertical
from textual.widgets import Static

from observatory.interfaces.tui import art
from observatory.interfaces.tui.screens.animated import AnimatedScreen


class SplashScreen(AnimatedScreen):
    """Shown at start-up until the read model answers (dashboard) or doesn't (launcher)."""

    BINDINGS = [Binding("q,Q", "app.quit", "Quit")]

    def compose(self) -> ComposeResult:
        with Middle(), Center(), Vertical(id="splash-box", classes="box"):
            yield Static(Text(art.logo_block(), style="green"), id="splash-logo")
            yield Static(id="splash-status")
            yield Static(Text(art.TITLE, style="italic dim"), id="splash-title")

    def on_mount(self) -> None:
        self.query_one("#splash-box").border_title = "Task Observatory"
        super().on_mount()
        self.run_worker(self.observatory.detect_and_continue(), exit_on_error=False)

    def draw_frame(self, frame: int) -> None:
        self.query_one("#splash-status", Static).update(
            Text.assemble(
                (art.spinner(frame), "bold yellow"),
                " ",
                art.loading_message(frame),
                (f"{art.dots(frame):<4}", ""),
            )
        )
