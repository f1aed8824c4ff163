"""Setup progress: follows `odto up --json` (or the cluster variant) step by step.

Shows the current step and message with the elapsed time, a log tail (errors in red), and
on failure a hint with remediation steps. When it is over, any key continues to the
dashboard (success) or returns to the launcher (failure). Q quits (stopping the child);
Esc cancels the run.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import RichLog, Static

from observatory.interfaces.tui import art
from observatory.interfaces.tui.progress import format_elapsed
from observatory.interfaces.tui.runner import SystemProcess
from observatory.interfaces.tui.screens.animated import AnimatedScreen


class SetupScreen(AnimatedScreen):
    BINDINGS = [
        Binding("q,Q", "quit_if_running", "Quit", show=False),
        Binding("escape", "cancel", "Cancel", show=False),
    ]

    def __init__(self, system: SystemProcess, *, cluster: bool) -> None:
        super().__init__()
        self.system = system
        self.cluster = cluster
        self._written = 0

    def compose(self) -> ComposeResult:
        with Vertical(id="setup-box", classes="box"):
            yield Static(id="setup-title")
            yield Static(id="setup-status")
            yield Static(id="setup-hint")
            yield Static(Text("Log:", style="bold"), id="setup-log-label")
            yield RichLog(id="setup-log", max_lines=500, wrap=False, auto_scroll=True)
            yield Static(id="setup-footer")

    def on_mount(self) -> None:
        where = "kind cluster" if self.cluster else "system"
        self.query_one("#setup-box").border_title = f"Starting the {where}"
        super().on_mount()
        if not self.observatory.frozen:
            self.set_interval(1.0, self.render_progress)

    def draw_frame(self, frame: int) -> None:
        self.frame = frame
        self.render_progress()

    def render_progress(self) -> None:
        progress = self.system.progress
        elapsed = format_elapsed(progress.elapsed(self.observatory.clock.monotonic()))
        box = self.query_one("#setup-box")
        box.set_class(progress.error is not None, "-failed")
        box.set_class(progress.ready, "-ready")
        title = self.query_one("#setup-title", Static)
        status = self.query_one("#setup-status", Static)
        if progress.error is not None:
            title.update(Text("❌ Setup failed", style="bold red"))
            status.update(Text.assemble((progress.error, "red"), (f"  ⏱ {elapsed}", "dim")))
        elif progress.ready:
            title.update(Text("✅ The system is ready", style="bold green"))
            status.update(Text.assemble((progress.message, "green"), (f"  ⏱ {elapsed}", "dim")))
        else:
            title.update(Text("🚀 Starting the system…", style="bold yellow"))
            step = f"[{progress.step}] " if progress.step else ""
            status.update(
                Text.assemble(
                    (art.spinner(self.frame), "bold yellow"),
                    f" {step}{progress.message}",
                    (f"  ⏱ {elapsed}", "dim"),
                )
            )
        hint = self.query_one("#setup-hint", Static)
        if progress.diagnosis is not None:
            lines = Text.assemble(("💡 ", ""), (progress.diagnosis.hint, "bold yellow"))
            lines.append("\n📋 To fix this:", style="bold")
            for number, step_text in enumerate(progress.diagnosis.steps, 1):
                lines.append(f"\n   {number}. {step_text}")
            hint.update(lines)
            hint.display = True
        else:
            hint.display = False
        self._write_log()
        footer = self.query_one("#setup-footer", Static)
        if progress.error is not None:
            footer.update(Text("Press any key to return to the launcher…", style="bold"))
        elif progress.ready:
            footer.update(Text("Press any key to continue to the dashboard…", style="bold"))
        else:
            footer.update(Text("Esc cancel · Q quit (stops the system)", style="dim"))

    def _write_log(self) -> None:
        log = self.query_one("#setup-log", RichLog)
        lines = list(self.system.progress.log)
        total = self.system.progress.log_total
        start = max(0, len(lines) - (total - self._written))
        for line in lines[start:]:
            log.write(Text(line.text, style="red" if line.is_error else ""))
        self._written = total

    async def action_quit_if_running(self) -> None:
        if not self.system.progress.complete:
            await self.observatory.action_quit()

    async def action_cancel(self) -> None:
        if not self.system.progress.complete:
            await self.system.stop()
            self.observatory.show_launcher()

    async def on_key(self, event: events.Key) -> None:
        progress = self.system.progress
        if not progress.complete:
            return
        event.stop()
        event.prevent_default()
        if progress.ready:
            self.observatory.continue_to_dashboard()
        else:
            await self.system.stop()
            self.observatory.show_launcher()
