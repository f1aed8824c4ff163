"""`odto version`."""

from __future__ import annotations

import platform
from typing import Any

from observatory.__about__ import __version__


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("version", help="print the version")
    parser.set_defaults(func=lambda _args: show())


def show() -> int:
    print(f"odto {__version__} (Python {platform.python_version()})")
    return 0
