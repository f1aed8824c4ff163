"""`odto serve SERVICE`: one service in its own process, with its own adapters."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from observatory.core.access import load_access
from observatory.core.backends import Adapters
from observatory.core.errors import ConfigurationError
from observatory.core.settings import HttpSettings, TracingSettings, load_backends
from observatory.core.telemetry import configure_logging
from observatory.core.tracing.facade import Tracing
from observatory.interfaces.cli.servers import make_server, settle_collector, stop_on_signals
from observatory.interfaces.cli.services import NAMES, Wiring, build


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve", help="run one service (for compose, Kubernetes, scaling out)"
    )
    parser.add_argument("service", choices=NAMES)
    parser.set_defaults(func=lambda args: asyncio.run(run_serve(args)))


async def run_serve(args: argparse.Namespace) -> int:
    http = HttpSettings()
    configure_logging(http.log_level)
    try:
        access = load_access(http)
        tracing = Tracing.from_settings(TracingSettings(), service=f"observatory-{args.service}")
        backends = load_backends()
    except ConfigurationError as exc:
        print(f"odto serve: {exc}", file=sys.stderr)
        return 2
    try:
        adapters = Adapters(backends, tracing)
        built = build(args.service, Wiring(http=http, adapters=adapters, access=access))
        server = make_server(built.app, built.port, http=http, on_started=settle_collector)
        stop_on_signals([server], asyncio.Event())
        await server.serve()
        return 0 if server.started else 1
    finally:
        tracing.shutdown()
