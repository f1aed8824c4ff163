"""`odto serve SERVICE`: one service in its own process, with its own adapters."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

from observatory.core.settings import Backends, HttpSettings
from observatory.core.telemetry import configure_logging
from observatory.interfaces.cli.servers import make_server, stop_on_signals
from observatory.interfaces.cli.services import SERVICES, build


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve", help="run one service (for compose, Kubernetes, scaling out)"
    )
    parser.add_argument("service", choices=SERVICES)
    parser.set_defaults(func=lambda args: asyncio.run(run_serve(args)))


async def run_serve(args: argparse.Namespace) -> int:
    configure_logging(os.environ.get("ODTO_LOG_LEVEL", "info"))
    built = build(args.service, backends=Backends())
    server = make_server(built.app, built.port, http=HttpSettings())
    stop_on_signals([server], asyncio.Event())
    await server.serve()
    return 0 if server.started else 1
