"""The Textual app: which screen shows, the HTTP client, the system process it started.

Start-up shows the splash while the read model is probed: it answers → dashboard;
it doesn't → launcher, where L (or K for kind) starts `odto up --json` as a child and
the setup screen follows it. Quitting (Q, Ctrl+C, the palette) stops that child.

Everything that varies in tests is injected: the clock (data age, elapsed time), `frozen`
(no animation timers, for snapshots), the HTTP transport, the wait between a submission's
tries, the environment and platform (browser rules), and the browser opener.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable, Mapping

import httpx
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from observatory.core.clock import Clock, SystemClock
from observatory.core.contracts.registry import Registry, RegistryError, load_registry
from observatory.core.settings import environment
from observatory.interfaces.submission import Sleep
from observatory.interfaces.tui.browser import Opener, system_opener
from observatory.interfaces.tui.client import ErrorKind, ObservatoryClient, RequestError
from observatory.interfaces.tui.config import TuiConfig
from observatory.interfaces.tui.progress import url_for
from observatory.interfaces.tui.runner import SystemProcess, default_command, launch_env
from observatory.interfaces.tui.screens.dashboard import DashboardScreen
from observatory.interfaces.tui.screens.help import HelpScreen
from observatory.interfaces.tui.screens.launcher import LauncherScreen
from observatory.interfaces.tui.screens.setup import SetupScreen
from observatory.interfaces.tui.screens.splash import SplashScreen


class ObservatoryApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "Distributed Task Observatory"
    BINDINGS = [Binding("ctrl+c", "quit", "Quit", show=False, priority=True)]

    def __init__(
        self,
        config: TuiConfig,
        *,
        clock: Clock | None = None,
        frozen: bool = False,
        transport: httpx.AsyncBaseTransport | None = None,
        retry_wait: Sleep = asyncio.sleep,
        env: Mapping[str, str] | None = None,
        platform: str = sys.platform,
        opener: Opener = system_opener,
    ) -> None:
        super().__init__()
        self.config = config
        self.clock: Clock = clock or SystemClock()
        self.frozen = frozen
        self.env = dict(environment() if env is None else env)
        self.platform = platform
        self.opener = opener
        self.client = ObservatoryClient(
            config.gateway_url,
            config.read_model_url,
            token=config.api_token,
            transport=transport,
            read_timeout=config.read_timeout,
            write_timeout=config.submit_timeout,
            sleep=retry_wait,
        )
        self.system: SystemProcess | None = None
        self.registry: Registry | None = None
        self.registry_error: str | None = None

    def on_mount(self) -> None:
        try:
            self.registry = load_registry(self.config.registry_path)
        except RegistryError as exc:
            self.registry_error = str(exc)
        self.push_screen(SplashScreen())

    async def on_unmount(self) -> None:
        await self.stop_system()
        await self.client.aclose()

    # --- where we are ---------------------------------------------------------------------

    async def detect_and_continue(self) -> bool:
        """Probe the read model; show the dashboard when it answers (a 401/403 is an answer:
        the dashboard then says which token to set), else the launcher."""
        try:
            await self.client.stats()
        except RequestError as exc:
            if exc.kind is not ErrorKind.UNAUTHORIZED:
                self.show_launcher()
                return False
        self.show_dashboard()
        return True

    def _replace_screens(self, screen: Screen[None]) -> None:
        while len(self.screen_stack) > 2:
            self.pop_screen()
        self.switch_screen(screen)

    def show_launcher(self) -> None:
        if not isinstance(self.screen, LauncherScreen):
            self._replace_screens(LauncherScreen())

    def show_dashboard(self) -> None:
        if not isinstance(self.screen, DashboardScreen):
            self._replace_screens(DashboardScreen())

    # --- the system we start --------------------------------------------------------------

    def start_setup(self, *, cluster: bool) -> None:
        """Run the launch command as a child and follow it on the setup screen."""
        configured = self.config.cluster_command if cluster else self.config.launch_command
        argv = list(configured) if configured else default_command(cluster)
        env = launch_env(self.env, self.client.gateway_url, self.client.read_model_url)
        system = SystemProcess(
            argv, env=env, clock=self.clock, on_change=self._system_changed, platform=self.platform
        )
        self.system = system
        self._replace_screens(SetupScreen(system, cluster=cluster))
        self.run_worker(system.run(), group="system", exit_on_error=False)

    def _system_changed(self) -> None:
        if isinstance(self.screen, SetupScreen):
            self.screen.render_progress()

    def continue_to_dashboard(self) -> None:
        """After a successful setup: use the URLs it reported, then show the dashboard."""
        if self.system is not None:
            urls = self.system.progress.urls
            self.client.set_urls(
                url_for(urls, "gateway"), url_for(urls, "read-model", "readModel", "read_model")
            )
        self.show_dashboard()

    async def stop_system(self) -> None:
        if self.system is not None:
            await self.system.stop()

    # --- actions available everywhere -----------------------------------------------------

    async def action_quit(self) -> None:
        await self.stop_system()
        self.exit()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        if isinstance(screen, DashboardScreen):
            yield SystemCommand(
                "Refresh", "Fetch statistics, jobs and alerts now (R)", screen.action_refresh
            )
            yield SystemCommand(
                "New task", "Submit a job to the gateway (N)", screen.action_new_task
            )
            yield SystemCommand(
                "UI launcher", "Open one of the system's web UIs (U)", screen.action_ui_launcher
            )
            yield SystemCommand(
                "Filter jobs", "Show jobs of one status or type (/)", screen.action_filter
            )
            yield SystemCommand(
                "Clear filter", "Show all recent jobs again", screen.action_clear_filter
            )
        if isinstance(screen, LauncherScreen):
            yield SystemCommand(
                "Launch",
                "Start the system here: odto up (L)",
                lambda: self.start_setup(cluster=False),
            )
            yield SystemCommand(
                "Launch on kind",
                "Start the system on a kind cluster (K)",
                lambda: self.start_setup(cluster=True),
            )
        yield SystemCommand("Help", "List every key (?)", self.action_help)
        yield SystemCommand(
            "Quit", "Quit, stopping a system this TUI started (Q)", self.action_quit
        )
        yield SystemCommand("Theme", "Change the colour theme", self.action_change_theme)
