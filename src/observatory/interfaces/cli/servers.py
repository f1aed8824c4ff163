"""Running several uvicorn servers in one event loop, stopped together on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
import signal
import socket
from collections.abc import Callable, Generator, Sequence

import uvicorn
from starlette.types import ASGIApp

from observatory.core.settings import HttpSettings


class QuietServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to us and, once it listens, calls
    `on_started` (if given)."""

    def __init__(
        self, config: uvicorn.Config, on_started: Callable[[], None] | None = None
    ) -> None:
        super().__init__(config)
        self._on_started = on_started

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self._on_started is not None:
            self._on_started()


def make_server(
    app: ASGIApp,
    port: int,
    *,
    http: HttpSettings | None = None,
    on_started: Callable[[], None] | None = None,
) -> QuietServer:
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
    return QuietServer(config, on_started)


LISTEN_PORTS = range(20000, 32768)
"""Where `pick_free_port` looks: below the ephemeral ranges of Linux (32768-60999) and
macOS (49152-65535). A port the kernel picked for `bind(0)` comes from the ephemeral range,
where any outgoing connection may be handed the same port between the pick and the
server's bind; a port below it is never given to a client socket."""

_picked: set[int] = set()


def pick_free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on now, outside the ephemeral range, never the same one twice
    in this process (so two services picked one after the other do not collide)."""
    chooser = random.SystemRandom()
    for _ in range(500):
        port = chooser.choice(LISTEN_PORTS)
        if port not in _picked and port_free(host, port):
            _picked.add(port)
            return port
    raise OSError(f"no free port on {host} in {LISTEN_PORTS.start}-{LISTEN_PORTS.stop - 1}")


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


YOUNG_OBJECTS = 10_000
"""How many more container objects than were freed make the collector run (default 700)."""


def settle_collector() -> None:
    """Once the services listen: the garbage collector stops walking what lives anyway.

    Flat out, the collector took 14 % of the gateway's CPU and 10 % of the processor's
    (19 % and 15 % traced, whose spans wait seconds for export): a pass over the youngest
    objects every 700 allocations caught the objects of requests in flight, which refcounting
    frees anyway a moment later, and each full pass (~70 ms) walked the modules, apps,
    routes and schemas made at startup again. What startup made is frozen after one last
    collection (never walked again), and the youngest generation is collected after
    `YOUNG_OBJECTS`: cycles are still found, and in-flight work is mostly gone before then."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS, *gc.get_threshold()[1:])
