"""External commands and background processes of `odto cluster`.

Every command runs without a shell, with a timeout, its output captured and appended to
a log file (`<data dir>/cluster/cluster.log`), so a failure can quote what the tool said
and the user can read the rest. Port-forwards are background processes in their own
session; their pids are recorded in a state file so `odto cluster down` (a later
process) can stop exactly those and nothing else.

    StepError        a step failed: the message says which command and why
      CommandTimeout   a command did not finish within its timeout (it was killed)
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class StepError(RuntimeError):
    """A cluster step failed; the message is shown to the user as is."""


class CommandTimeout(StepError):
    """A command ran longer than its timeout and was killed."""


@dataclass(frozen=True, slots=True)
class CommandResult:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def detail(self, lines: int = 3) -> str:
        """The last lines the command printed (stderr first), for an error message."""
        text = (self.stderr.strip() or self.stdout.strip()).splitlines()
        tail = " | ".join(line.strip() for line in text[-lines:] if line.strip())
        return tail or f"exit status {self.returncode}"


@dataclass
class Tools:
    """Runs the docker/kind/kubectl commands; `log` receives every command and its output."""

    log: Path
    cwd: Path | None = None
    env: dict[str, str] | None = None
    calls: list[tuple[str, ...]] = field(default_factory=list)

    def which(self, name: str) -> str | None:
        path = None if self.env is None else self.env.get("PATH")
        return shutil.which(name, path=path)

    def run(self, argv: Sequence[str], *, timeout: float) -> CommandResult:
        """Run `argv` to completion; CommandTimeout past `timeout`, StepError if missing."""
        args = tuple(argv)
        self.calls.append(args)
        self._write(f"$ {' '.join(args)}\n")
        try:
            done = subprocess.run(  # noqa: S603 — argv from our own steps, no shell
                args,
                cwd=self.cwd,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
                stdin=subprocess.DEVNULL,
            )
        except FileNotFoundError as exc:
            raise StepError(f"{args[0]} not found on PATH") from exc
        except subprocess.TimeoutExpired as exc:
            self._write(f"  timed out after {timeout:g} s\n")
            raise CommandTimeout(f"`{' '.join(args[:3])}` timed out after {timeout:g} s") from exc
        result = CommandResult(args, done.returncode, done.stdout, done.stderr)
        self._write(f"{done.stdout}{done.stderr}  -> exit {done.returncode}\n")
        return result

    def spawn(self, argv: Sequence[str], *, log: Path) -> subprocess.Popen[bytes]:
        """Start `argv` in the background in its own session, output appended to `log`."""
        args = tuple(argv)
        self.calls.append(args)
        self._write(f"$ {' '.join(args)} &  (output in {log.name})\n")
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as sink:
            return subprocess.Popen(  # noqa: S603 — argv from our own steps, no shell
                args,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def _write(self, text: str) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("a", encoding="utf-8") as handle:
            handle.write(text)


@dataclass(frozen=True, slots=True)
class PortForward:
    """One running `kubectl port-forward`, as recorded in the state file."""

    pid: int
    entry: str
    service: str
    local_port: int
    remote_port: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "entry": self.entry,
            "service": self.service,
            "localPort": self.local_port,
            "remotePort": self.remote_port,
        }


class State:
    """`<data dir>/cluster/state.json`: the cluster name and the port-forwards `up` started."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def save(self, data: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps(data, indent=2) + "\n", "utf-8")
        temporary.replace(self.path)

    def port_forwards(self) -> list[PortForward]:
        forwards = []
        for raw in self.load().get("portForwards", []):
            try:
                forwards.append(
                    PortForward(
                        pid=int(raw["pid"]),
                        entry=str(raw["entry"]),
                        service=str(raw["service"]),
                        local_port=int(raw["localPort"]),
                        remote_port=int(raw["remotePort"]),
                    )
                )
            except (KeyError, TypeError, ValueError):
                continue
        return forwards

    def record_port_forwards(self, forwards: Sequence[PortForward]) -> None:
        data = self.load()
        data["portForwards"] = [forward.as_dict() for forward in forwards]
        self.save(data)

    def clear(self) -> None:
        self.path.unlink(missing_ok=True)


def stop_port_forwards(state: State) -> int:
    """Stop the recorded port-forwards that still run; how many were stopped."""
    stopped = sum(1 for forward in state.port_forwards() if stop_process(forward.pid))
    state.record_port_forwards([])
    return stopped


def is_port_forward(pid: int) -> bool:
    """True when `pid` runs and (where /proc tells) is a kubectl port-forward."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process: never ours to stop
    cmdline = Path(f"/proc/{pid}/cmdline")
    if sys.platform.startswith("linux") and cmdline.exists():
        try:
            return b"port-forward" in cmdline.read_bytes()
        except OSError:
            return False
    return True


def stop_process(pid: int, *, grace: float = 5.0) -> bool:
    """SIGTERM `pid` (SIGKILL after `grace` s) if it is a port-forward; True if it was one."""
    if not is_port_forward(pid):
        return False
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return True
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    return True


def _alive(pid: int) -> bool:
    """False once `pid` has exited (a zombie waiting for its parent counts as exited)."""
    try:
        # Reap it if it is our own child, so it does not linger as a zombie.
        reaped, _ = os.waitpid(pid, os.WNOHANG)
        if reaped == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text("utf-8", "replace")
    except OSError:
        return True
    return stat.rpartition(")")[2].split()[:1] != ["Z"]
