"""`odto doctor`: can this machine run the system as configured?

The TUI's checks (Python, ports, cluster tools) plus, for every backend URL that is set,
whether its server answers, and whether Prometheus/Alertmanager are installed for
`odto up --observability`.
"""

from __future__ import annotations

import shutil
import socket
import sys
from typing import Any
from urllib.parse import urlparse

from observatory.core.settings import Backends, environment
from observatory.interfaces.cli.observability import INSTALL_COMMAND
from observatory.interfaces.tui.doctor import Check, Level, report, run_checks

DEFAULT_PORTS = {
    "amqp": 5672,
    "postgresql": 5432,
    "postgres": 5432,
    "redis": 6379,
    "mongodb": 27017,
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("doctor", help="check what running the system needs here")
    parser.add_argument(
        "--cluster", action="store_true", help="docker, kind and kubectl are required"
    )
    parser.set_defaults(func=lambda args: run_doctor(args.cluster))


def check_backend(name: str, url: str) -> Check:
    parsed = urlparse(url)
    host, port = parsed.hostname or "127.0.0.1", parsed.port or DEFAULT_PORTS.get(parsed.scheme, 0)
    try:
        with socket.create_connection((host, port), timeout=2):
            return Check(Level.OK, name, f"{parsed.scheme}://{host}:{port} answers")
    except OSError as exc:
        return Check(
            Level.FAIL, name, f"{parsed.scheme}://{host}:{port} does not answer ({exc.strerror})"
        )


def backend_checks(backends: Backends) -> list[Check]:
    urls = {
        "RabbitMQ": backends.rabbitmq_url,
        "PostgreSQL": backends.postgres_url,
        "Redis": backends.redis_url,
        "event store": backends.event_store_url,
    }
    checks = [
        check_backend(name, url.get_secret_value())
        for name, url in urls.items()
        if url is not None and not url.get_secret_value().startswith("sqlite")
    ]
    if not checks:
        checks.append(Check(Level.OK, "backends", f"embedded (data in {backends.data_dir})"))
    return checks


def observability_checks() -> list[Check]:
    checks = []
    for tool in (("prometheus",), ("prometheus-alertmanager", "alertmanager")):
        path = next((p for p in map(shutil.which, tool) if p), None)
        detail = path or f"not installed (only needed for --observability): {INSTALL_COMMAND}"
        checks.append(Check(Level.OK if path else Level.WARN, tool[0], detail))
    return checks


def run_doctor(cluster: bool) -> int:
    checks = run_checks(cluster=cluster, env=environment())
    checks += backend_checks(Backends()) + observability_checks()
    return report(checks, sys.stdout)
