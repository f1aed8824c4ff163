"""`odto`: run and check the Distributed Task Observatory."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from collections.abc import Sequence

from observatory.interfaces.cli.version import ShowVersion

COMMAND_MODULES = (
    "up",
    "serve",
    "status",
    "submit",
    "operate",
    "gate",
    "load",
    "cluster",
    "doctor",
    "purge",
    "version",
)


SERVICE_COMMANDS = ("up", "serve")  # long-running services: plain log lines, no TUI


# Modules a service process never runs, that a library would import anyway only to offer
# something the services do not use. Marked missing before anything imports them, the
# libraries take their fallbacks (each one checked: it catches the ImportError).
LEFT_OUT = {
    # structlog, to draw exceptions in a terminal (it comes with the TUI): ~5 MB resident
    "rich": "structlog",
    # httpx, for its own command line (httpx._main: click, pygments, rich): ~0.5 MB
    "pygments": "httpx",
    # FastAPI, to refuse pydantic v1 models while building routes (we have none): ~1.4 MB
    "pydantic.v1": "fastapi",
}


def leave_out_unused() -> None:
    """Mark LEFT_OUT's modules missing (None in sys.modules), each only while the library
    that would import it has not been imported yet: a process that already has it keeps
    what it has."""
    for module, importer in LEFT_OUT.items():
        if importer not in sys.modules:
            sys.modules.setdefault(module, None)  # type: ignore[arg-type]  # None marks it missing


def parser(command: str | None = None) -> argparse.ArgumentParser:
    """Every command, or only `command` when it names one: a running `odto up` then has
    not imported the other commands and what they need."""
    root = argparse.ArgumentParser(prog="odto", description=__doc__)
    root.add_argument(
        "-V", "--version", action=ShowVersion, help="print the version block and exit"
    )
    sub = root.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in (command,) if command in COMMAND_MODULES else COMMAND_MODULES:
        importlib.import_module(f"observatory.interfaces.cli.{name}").register(sub)
    return root


def _command(argv: Sequence[str]) -> str | None:
    """The command `argv` names (its first word that is not an option), if any."""
    return next((arg for arg in argv if not arg.startswith("-")), None)


def use_fast_event_loop() -> None:
    """Run every command on uvloop when it is installed (it comes with uvicorn[standard]):
    the services spend a third of their time in the event loop itself."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - a minimal install still works on asyncio's loop
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    command = _command(argv)
    if command in SERVICE_COMMANDS:
        leave_out_unused()
    args = parser(command).parse_args(argv)
    use_fast_event_loop()
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
