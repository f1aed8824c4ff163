"""`odto up`: the whole system in one process (embedded backends unless URLs are set)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import TYPE_CHECKING, Any

from observatory.core.access import load_access
from observatory.core.backends import Adapters, Lifecycle
from observatory.core.errors import ConfigurationError, DependencyDown
from observatory.core.settings import Backends, HttpSettings, TracingSettings, load_backends
from observatory.core.telemetry import configure_logging
from observatory.core.tracing.facade import Tracing
from observatory.interfaces.cli.progress import Progress
from observatory.interfaces.cli.servers import (
    make_server,
    port_free,
    settle_collector,
    stop_on_signals,
    wait_started,
)
from observatory.interfaces.cli.services import SERVICES, Links, Wiring
from observatory.interfaces.cli.settings import CliSettings

if TYPE_CHECKING:  # imported when --observability asks for it (YAML, process control)
    from observatory.interfaces.cli.observability import ObservabilityStack

BACKEND_TIMEOUT = 60.0


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "up", help="start the whole system (embedded unless *_URL are set)"
    )
    parser.add_argument("--json", action="store_true", help="one JSON progress object per line")
    parser.add_argument(
        "--observability",
        action="store_true",
        help="also start Prometheus and Alertmanager when their binaries are installed",
    )
    parser.set_defaults(func=lambda args: asyncio.run(run_up(args)))


def service_urls(ports: dict[str, int], host: str) -> dict[str, str]:
    shown = "localhost" if host in ("127.0.0.1", "0.0.0.0") else host
    base = {name: f"http://{shown}:{port}" for name, port in ports.items()}
    return {
        "webDashboard": base["web"],
        "gateway": base["gateway"],
        "gatewayDocs": base["gateway"] + "/docs",
        "readModel": base["read-model"],
        "readModelDocs": base["read-model"] + "/docs",
        "processor": base["processor"],
        "metricsEngine": base["metrics-engine"],
    }


async def run_up(args: argparse.Namespace) -> int:
    configure_logging(CliSettings().log_level or "warning")
    progress = Progress(as_json=args.json)
    try:
        backends = load_backends()
    except ConfigurationError as exc:
        progress.step("config", "error", str(exc))
        return 1
    engines = backends.describe()
    progress.step("config", "complete", ", ".join(f"{k}={v}" for k, v in engines.items()))
    if backends.embedded:
        progress.step("data", "complete", f"embedded data in {backends.data_dir.resolve()}")
    try:  # every service runs in this process: one service.name for all of them
        tracing = Tracing.from_settings(TracingSettings(), service="observatory")
    except ConfigurationError as exc:
        progress.step("config", "error", str(exc))
        return 1
    try:  # a malformed token entry stops everything before anything opens
        load_access(HttpSettings())
    except ConfigurationError as exc:
        progress.step("config", "error", str(exc))
        return 1
    try:
        return await _open_and_serve(args, progress, Adapters(backends, tracing))
    finally:
        tracing.shutdown()


async def _open_and_serve(args: argparse.Namespace, progress: Progress, adapters: Adapters) -> int:
    shared = Lifecycle(adapters.ports())
    progress.step("backends", "starting", "opening bus and stores")
    try:
        await asyncio.wait_for(shared.open(), BACKEND_TIMEOUT)
    except ConfigurationError as exc:  # e.g. a queue that exists with another type
        progress.step("backends", "error", str(exc))
        await shared.close()
        return 1
    except (TimeoutError, DependencyDown) as exc:
        progress.step(
            "backends", "error", f"backends did not answer within {BACKEND_TIMEOUT:.0f}s: {exc}"
        )
        await shared.close()
        return 1
    progress.step("backends", "complete", "bus and stores open")
    try:
        return await _serve_all(args, progress, adapters)
    finally:
        await shared.close()


async def _serve_all(args: argparse.Namespace, progress: Progress, adapters: Adapters) -> int:
    http = HttpSettings()
    ports = {service.name: service.port() for service in SERVICES}
    for name, port in ports.items():
        if not port_free(http.host, port):
            progress.step(
                name, "error", f"port {port} is in use (set {_port_env(name)} to move it)"
            )
            return 1
    stack = await _observability(args, progress, ports, adapters.backends, http)
    links = Links(
        prometheus_url=stack.prometheus_url if stack else None,
        alertmanager_url=stack.alertmanager_url if stack else None,
    )
    wiring = Wiring(
        http=http, adapters=adapters, owned=False, links=links, access=load_access(http)
    )
    try:
        return await _run_servers(progress, wiring, stack)
    finally:
        if stack is not None:
            await asyncio.to_thread(stack.stop)


async def _run_servers(progress: Progress, wiring: Wiring, stack: ObservabilityStack | None) -> int:
    http = wiring.http
    built = [service.build(wiring) for service in SERVICES]
    servers = [make_server(b.app, b.port, http=http) for b in built]
    stopped = asyncio.Event()
    stop_on_signals(servers, stopped)
    tasks = [
        asyncio.create_task(s.serve(), name=f"serve-{b.name}")
        for s, b in zip(servers, built, strict=True)
    ]
    try:
        for server, task, b in zip(servers, tasks, built, strict=True):
            progress.step(b.name, "starting", f"starting on port {b.port}")
            if not await wait_started(server, task):
                progress.step(b.name, "error", f"{b.name} did not start on port {b.port}")
                return 1
            progress.step(b.name, "complete", f"listening on http://{http.host}:{b.port}")
        settle_collector()
        urls = service_urls({b.name: b.port for b in built}, http.host)
        progress.ready({**urls, **(stack.urls if stack else {})})
        await asyncio.gather(*tasks)
        return 0
    finally:
        for server in servers:
            server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.gather(*tasks, return_exceptions=True)


async def _observability(
    args: argparse.Namespace,
    progress: Progress,
    ports: dict[str, int],
    backends: Backends,
    http: HttpSettings,
) -> ObservabilityStack | None:
    """Start local Prometheus/Alertmanager first, so the services are built pointing at
    them (the stack's URLs go to the services' settings unless the environment sets them)."""
    if not args.observability:
        progress.step("observability", "skipped", "not requested (add --observability)")
        return None
    from observatory.interfaces.cli.observability import (
        ObservabilitySettings,
        start_observability,
    )

    progress.step("observability", "starting", "starting Prometheus and Alertmanager")
    settings = ObservabilitySettings()
    services = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    stack = await asyncio.to_thread(
        start_observability,
        services,
        backends.data_dir,
        timings=settings.timings(),
        prometheus_port=settings.prometheus_port,
        alertmanager_port=settings.alertmanager_port,
        token=http.api_token.get_secret_value() if http.api_token else None,
    )
    shown = ", ".join(f"{k} {v}" for k, v in stack.urls.items())
    progress.step("observability", stack.status, stack.message or f"running: {shown}")
    return stack


def _port_env(name: str) -> str:
    return name.upper().replace("-", "_") + "_PORT"
