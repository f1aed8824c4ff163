"""The launcher, shown when no system answers: start it here (L) or on a kind cluster (K)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle, Vertical
from textual.widgets import Static

from observatory.interfaces.tui import art
from observatory.interfaces.tui.screens.animated import AnimatedScreen


class LauncherScreen(AnimatedScreen):
    BINDINGS = [
        Binding("l,L", "launch(False)", "Launch"),
        Binding("k,K", "launch(True)", "Launch on kind"),
        Binding("r,R", "recheck", "Check again"),
        Binding("question_mark", "app.help", "Help"),
        Binding("q,Q", "app.quit", "Quit"),
    ]

    def compose(self) -> ComposeResult:
        url = self.observatory.client.read_model_url
        with Middle(), Center(), Vertical(id="launcher-box", classes="box"):
            yield Static(Text(art.logo_block(), style="green"), id="launcher-logo")
            yield Static(id="launcher-status")
            yield Static(Text(f"No read model answered at {url}", style="dim"), id="launcher-url")
            yield Static(
                Text.assemble(
                    "Press ",
                    ("L", "bold cyan"),
                    " to launch the system here (odto up)\n",
                    "Press ",
                    ("K", "bold cyan"),
                    " to launch it on a kind cluster\n",
                    "Press ",
                    ("R", "bold cyan"),
                    " to check again\n",
                    "Press ",
                    ("Q", "bold red"),
                    " to quit",
                ),
                id="launcher-keys",
            )

    def on_mount(self) -> None:
        self.query_one("#launcher-box").border_title = "Task Observatory"
        super().on_mount()

    def draw_frame(self, frame: int) -> None:
        self.query_one("#launcher-status", Static).update(
            Text(f"{art.spinner(frame)} System not detected", style="bold yellow")
        )

    def action_launch(self, cluster: bool) -> None:
        self.observatory.start_setup(cluster=cluster)

    def action_recheck(self) -> None:
        self.query_one("#launcher-url", Static).update(Text("Checking…", style="dim"))
        self.run_worker(self._recheck(), exclusive=True, exit_on_error=False)

    async def _recheck(self) -> None:
        if not await self.observatory.detect_and_continue():
            url = self.observatory.client.read_model_url
            self.query_one("#launcher-url", Static).update(
                Text(f"Still no read model at {url}", style="dim")
            )
