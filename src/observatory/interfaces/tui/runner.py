"""Running the setup command as a child process and stopping it when the TUI quits.

`odto up` keeps serving after it reports "ready", so the child outlives the setup screen:
the App owns the SystemProcess, keeps draining its output (a full pipe would block it), and
stops it on quit: SIGTERM, then SIGKILL after a grace period.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlparse

from observatory.core.clock import Clock
from observatory.interfaces.tui.progress import (
    SetupProgress,
    apply_exit,
    apply_stderr,
    apply_stdout,
)

STOP_GRACE_SECONDS = 10.0
LINE_LIMIT = 1 << 20


def odto_command() -> list[str]:
    """How to run `odto`: the script beside this interpreter, on PATH, or via -c."""
    beside = Path(sys.executable).with_name("odto")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("odto")
    if found:
        return [found]
    code = "import sys; from observatory.interfaces.cli.main import main; sys.exit(main())"
    return [sys.executable, "-c", code]


def default_command(cluster: bool) -> list[str]:
    return [*odto_command(), *(("cluster", "up") if cluster else ("up",)), "--json"]


def _loopback_port(url: str) -> int | None:
    parsed = urlparse(url)
    if parsed.hostname in {"127.0.0.1", "localhost", "::1"} and parsed.port:
        return parsed.port
    return None


def launch_env(base: Mapping[str, str], gateway_url: str, read_model_url: str) -> dict[str, str]:
    """The child's environment: ours, unbuffered, listening where the TUI will look."""
    env = dict(base)
    env["PYTHONUNBUFFERED"] = "1"
    for name, url in (("GATEWAY_PORT", gateway_url), ("READ_MODEL_PORT", read_model_url)):
        port = _loopback_port(url)
        if port is not None and name not in env:
            env[name] = str(port)
    return env


class SystemProcess:
    """One setup run; `progress` changes as lines arrive and `on_change` is called after."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        clock: Clock,
        on_change: Callable[[], None],
        platform: str = sys.platform,
    ) -> None:
        self.argv = tuple(argv)
        self._env = dict(env)
        self._clock = clock
        self._on_change = on_change
        self._platform = platform
        self._process: asyncio.subprocess.Process | None = None
        self.progress = SetupProgress(command=self.argv, started=clock.monotonic())

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def run(self) -> None:
        """Start the child and follow it until it exits (or this task is cancelled)."""
        progress = self.progress
        try:
            self._process = await asyncio.create_subprocess_exec(
                *self.argv,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                env=self._env,
                limit=LINE_LIMIT,
            )
        except OSError as exc:
            now = self._clock.monotonic()
            progress.fail(f"Could not start {self.argv[0]}: {exc}", now, self._platform)
            self._on_change()
            return
        process = self._process
        assert process.stdout is not None
        assert process.stderr is not None
        await asyncio.gather(self._pump(process.stdout, True), self._pump(process.stderr, False))
        code = await process.wait()
        apply_exit(progress, code, self._clock.monotonic(), self._platform)
        self._on_change()

    async def _pump(self, stream: asyncio.StreamReader, is_stdout: bool) -> None:
        while True:
            try:
                raw = await stream.readline()
            except ValueError:  # a line over LINE_LIMIT: drop the rest of it
                continue
            if not raw:
                return
            line = raw.decode("utf-8", errors="replace")
            if is_stdout:
                apply_stdout(self.progress, line, self._clock.monotonic(), self._platform)
            else:
                apply_stderr(self.progress, line)
            self._on_change()

    async def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        """Terminate the child and wait for it; kill it if it outlives `grace` seconds."""
        process = self._process
        if process is None or process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
        try:
            await asyncio.wait_for(process.wait(), grace)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            await process.wait()

    def kill_now(self) -> None:
        """Last resort when the event loop is gone: SIGKILL the child if it still runs."""
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, getattr(signal, "SIGKILL", signal.SIGTERM))
