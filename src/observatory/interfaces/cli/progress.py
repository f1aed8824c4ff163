"""The progress protocol of `odto up` / `odto cluster up`: one {step,status,message}
object per line with --json (the TUI reads it), readable lines otherwise."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

ICONS = {
    "starting": "[..]",
    "complete": "[OK]",
    "error": "[!!]",
    "skipped": "[--]",
    "warning": "[??]",
}


class Progress:
    def __init__(self, *, as_json: bool, out: TextIO | None = None) -> None:
        self.as_json = as_json
        self.out = out or sys.stdout

    def step(self, step: str, status: str, message: str, **extra: Any) -> None:
        if self.as_json:
            record = {"step": step, "status": status, "message": message, **extra}
            self.out.write(json.dumps(record) + "\n")
        else:
            self.out.write(f"{ICONS.get(status, '[  ]')} [{step}] {message}\n")
        self.out.flush()

    def ready(self, urls: dict[str, str]) -> None:
        if self.as_json:
            self.step("ready", "complete", "System ready", urls=urls)
            return
        self.step("ready", "complete", "System ready — Ctrl+C stops it")
        width = max(len(name) for name in urls)
        for name, url in urls.items():
            self.out.write(f"    {name:<{width}}  {url}\n")
        self.out.flush()
