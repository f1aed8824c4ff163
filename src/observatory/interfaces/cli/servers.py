"""Running several uvicorn servers in one event loop, stopped together on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Generator, Sequence

import uvicorn
from starlette.types import ASGIApp

from observatory.core.settings import HttpSettings


class QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to us."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def make_server(app: ASGIApp, port: int, *, http: HttpSettings | None = None) -> QuietServer:
    http = http or HttpSettings()
    config = uvicorn.Config(
        app,
        host=http.host,
        port=port,
        log_config=None,
        access_log=False,
        log_level="warning",
        lifespan="on",
        timeout_graceful_shutdown=5,
    )
    return QuietServer(config)


def port_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def stop_on_signals(servers: Sequence[uvicorn.Server], stopped: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()

    def stop() -> None:
        stopped.set()
        for server in servers:
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop)


async def wait_started(
    server: uvicorn.Server, task: asyncio.Task[None], timeout: float = 30
) -> bool:
    """True once `server` listens; False if it stopped or timed out first."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not server.started:
        if task.done() or asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True
