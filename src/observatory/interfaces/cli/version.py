"""`odto version` and `odto --version`: the same block `odd-dashboard --version` prints."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from observatory.interfaces.buildinfo import version_block


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "version", help="print the version, commit, build, Python and platform"
    )
    parser.set_defaults(func=lambda _args: show())


def show() -> int:
    print(version_block())
    return 0


class ShowVersion(argparse.Action):
    """`-V`/`--version`: print the block and exit, before a command is required. Unlike
    argparse's own version action, git is asked only when the flag is given."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help=kwargs.get("help"))

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        show()
        parser.exit()
