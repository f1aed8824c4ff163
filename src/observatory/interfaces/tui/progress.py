"""The state of a setup run (`odto up --json` or `odto cluster up --json`), fed line by line.

The child prints one JSON object per line: `{step, status, message}` with status one of
starting|complete|error|skipped|warning, and finally `{"step":"ready","status":"complete",
"urls":{...}}`. Anything else it prints is kept as a log line. These functions are pure:
the runner feeds them and the setup screen draws the result.
"""

from __future__ import annotations

import json
import re
import sys
from collections import deque
from dataclasses import dataclass, field

from observatory.interfaces.tui.hints import Diagnosis, diagnose

LOG_LIMIT = 500
_ERRORISH = re.compile(r"error|exception|traceback|fatal|critical|\bfailed\b", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class LogLine:
    text: str
    is_error: bool = False


@dataclass
class SetupProgress:
    """Everything the setup screen shows about one run."""

    command: tuple[str, ...]
    started: float
    step: str = ""
    status: str = "starting"
    message: str = "Starting the system"
    log: deque[LogLine] = field(default_factory=lambda: deque(maxlen=LOG_LIMIT))
    error: str | None = None
    diagnosis: Diagnosis | None = None
    ready: bool = False
    urls: dict[str, str] = field(default_factory=dict)
    exit_code: int | None = None
    finished: float | None = None
    log_total: int = 0
    """How many lines were ever logged (the deque keeps only the last LOG_LIMIT)."""

    def add_log(self, line: LogLine) -> None:
        self.log.append(line)
        self.log_total += 1

    @property
    def complete(self) -> bool:
        """True once the run is over for the user: the system is ready or it failed."""
        return self.ready or self.error is not None

    def elapsed(self, now: float) -> float:
        return (self.finished if self.finished is not None else now) - self.started

    def fail(self, message: str, now: float, platform: str = sys.platform) -> None:
        if self.complete:
            return
        self.error = message
        self.message = message
        self.status = "error"
        self.diagnosis = diagnose(message, platform)
        self.finished = now


def format_elapsed(seconds: float) -> str:
    whole = max(0, int(seconds))
    return f"{whole // 60:02d}:{whole % 60:02d}"


def apply_stdout(
    progress: SetupProgress, line: str, now: float, platform: str = sys.platform
) -> None:
    """Record one line the child wrote to stdout."""
    text = line.rstrip("\r\n")
    if not text.strip():
        return
    try:
        event = json.loads(text)
    except ValueError:
        event = None
    if not isinstance(event, dict) or "status" not in event:
        progress.add_log(LogLine(text, bool(_ERRORISH.search(text))))
        return
    step = str(event.get("step") or progress.step)
    status = str(event.get("status"))
    message = str(event.get("message") or "")
    summary = f"[{status}] {step}: {message}" if message else f"[{status}] {step}"
    progress.add_log(LogLine(summary, status == "error"))
    if progress.complete:
        return
    progress.step, progress.status = step, status
    if message:
        progress.message = message
    if status == "error":
        progress.fail(message or f"Step '{step}' failed", now, platform)
    elif step == "ready" and status == "complete":
        urls = event.get("urls")
        if isinstance(urls, dict):
            progress.urls = {str(k): str(v) for k, v in urls.items()}
        progress.ready = True
        progress.finished = now


def apply_stderr(progress: SetupProgress, line: str) -> None:
    """Record one line the child wrote to stderr (its logs; errors are highlighted)."""
    text = line.rstrip("\r\n")
    if text.strip():
        progress.add_log(LogLine(text, bool(_ERRORISH.search(text))))


def apply_exit(
    progress: SetupProgress, code: int, now: float, platform: str = sys.platform
) -> None:
    """Record the child's exit."""
    progress.exit_code = code
    if progress.ready:
        progress.add_log(LogLine(f"The system process exited with code {code}", code != 0))
        return
    if progress.error is None:
        last = next((entry.text for entry in reversed(progress.log) if entry.is_error), "")
        if code == 0:
            progress.fail("The setup command exited before the system was ready", now, platform)
        else:
            detail = f": {last}" if last else ""
            progress.fail(f"Setup failed with exit code {code}{detail}", now, platform)


def url_for(urls: dict[str, str], *names: str) -> str | None:
    """The first URL in `urls` under any spelling of `names` (readModel, read_model, ...)."""
    wanted = {n.replace("-", "").replace("_", "").lower() for n in names}
    for key, value in urls.items():
        if key.replace("-", "").replace("_", "").lower() in wanted:
            return value
    return None
