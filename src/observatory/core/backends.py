"""Choose adapters from settings and run their one lifecycle: open, ping, close.

- `make_bus`, `make_job_store`, `make_counters`, `make_event_store`: the adapter that
  `Backends` names for each port: embedded unless a URL says otherwise.
- `Adapters`: the adapters of one `Backends`, each made on first use and then shared, so
  a service composed alone makes only the ports its factory takes.
- `Ports`: the typed ports one service uses; `Lifecycle` opens them in the background
  with retries (a service starts even while a backend is down; /readyz tells), pings
  them for /readyz and closes them. Every port opens with `open()`: none is special.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Protocol, TypeVar

import structlog
from pydantic import SecretStr

from observatory.core.bus.embedded import EmbeddedBus
from observatory.core.bus.port import Bus
from observatory.core.errors import ConfigurationError, DependencyDown
from observatory.core.settings import Backends
from observatory.core.stores.embedded_counters import EmbeddedCounters
from observatory.core.stores.ports import Counters, EventStore, JobStore
from observatory.core.stores.sqlite_events import SqliteEventStore
from observatory.core.stores.sqlite_jobs import SqliteJobStore
from observatory.core.tracing.facade import Tracing

P = TypeVar("P")

# Drivers of real backends are imported only when their URL is configured, so the
# embedded profile starts without loading aio-pika, asyncpg, redis or pymongo.

log = structlog.get_logger("observatory.backends")


class Port(Protocol):
    """The lifecycle every adapter (bus, job store, counters, event store) shares."""

    async def open(self) -> None:
        """Connect (and declare or migrate). Raises DependencyDown while unreachable."""

    async def ping(self) -> bool:
        """True when the backend answers now."""

    async def close(self) -> None:
        """Release connections."""


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def make_bus(backends: Backends, tracing: Tracing | None = None) -> Bus:
    """The bus `backends` name; traced when `tracing` is on."""
    tracing = tracing or Tracing()
    url = _secret(backends.rabbitmq_url)
    if url:
        from observatory.core.bus.rabbitmq import RabbitBus

        return RabbitBus(
            url,
            namespace=backends.namespace,
            tracer=tracing.bus("rabbitmq"),
            queue_type=backends.queue_type,
            delivery_limit=backends.queue_delivery_limit,
            bundle_events=backends.event_bundles,
        )
    return EmbeddedBus(
        backends.data_dir / "bus.sqlite3",
        namespace=backends.namespace,
        tracer=tracing.bus("embedded"),
    )


def make_job_store(backends: Backends) -> JobStore:
    url = _secret(backends.postgres_url)
    if url:
        from observatory.core.stores.postgres_jobs import PostgresJobStore

        return PostgresJobStore(
            url, namespace=backends.namespace, pool_min=backends.postgres_pool_min
        )
    return SqliteJobStore(backends.data_dir / "jobs.sqlite3")


def make_counters(backends: Backends) -> Counters:
    url = _secret(backends.redis_url)
    if url:
        from observatory.core.stores.redis_counters import RedisCounters

        return RedisCounters(url, namespace=backends.namespace)
    return EmbeddedCounters(backends.data_dir / "counters.sqlite3")


def make_event_store(backends: Backends) -> EventStore:
    url = _secret(backends.event_store_url) or _secret(backends.postgres_url)
    if not url:
        return SqliteEventStore(backends.data_dir / "events.sqlite3")
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("mongodb", "mongodb+srv"):
        from observatory.core.stores.mongo_events import MongoEventStore

        return MongoEventStore(url, namespace=backends.namespace)
    if scheme in ("postgres", "postgresql"):
        from observatory.core.stores.postgres_events import PostgresEventStore

        return PostgresEventStore(
            url, namespace=backends.namespace, pool_min=backends.postgres_pool_min
        )
    if scheme == "sqlite":
        return SqliteEventStore(Path(url.split("://", 1)[1] or "events.sqlite3"))
    raise ConfigurationError(
        f"EVENT_STORE_URL scheme {scheme!r} is not one of mongodb, postgresql, sqlite"
    )


@dataclass(frozen=True, slots=True)
class Ports:
    """The ports one service uses; the ones it does not use stay None."""

    bus: Bus | None = None
    jobs: JobStore | None = None
    counters: Counters | None = None
    events: EventStore | None = None

    def named(self) -> dict[str, Port]:
        """The ports that are set, under the names /readyz and `odto_dependency_up` use."""
        pairs: tuple[tuple[str, Port | None], ...] = (
            ("bus", self.bus),
            ("job_store", self.jobs),
            ("counters", self.counters),
            ("event_store", self.events),
        )
        return {name: port for name, port in pairs if port is not None}


class Adapters:
    """The adapters `backends` names, each made (not opened) on first use, then reused;
    the bus and the stores traced when `tracing` is on."""

    def __init__(self, backends: Backends, tracing: Tracing | None = None) -> None:
        self.backends = backends
        self.tracing = tracing or Tracing()

    @cached_property
    def bus(self) -> Bus:
        return make_bus(self.backends, self.tracing)

    @cached_property
    def jobs(self) -> JobStore:
        return self._traced(make_job_store(self.backends), "job_store")

    @cached_property
    def counters(self) -> Counters:
        return self._traced(make_counters(self.backends), "counters")

    @cached_property
    def events(self) -> EventStore:
        return self._traced(make_event_store(self.backends), "event_store")

    def _traced(self, port: P, name: str) -> P:
        """`port` itself, or with its calls traced when tracing is on (core.tracing.ports)."""
        if not self.tracing.enabled:
            return port
        from observatory.core.tracing.ports import traced_port

        return traced_port(port, name)

    def ports(self) -> Ports:
        """All four ports (made now if they were not yet)."""
        return Ports(bus=self.bus, jobs=self.jobs, counters=self.counters, events=self.events)


class Lifecycle:
    """Opens, pings and closes a set of ports.

    An owning lifecycle opens its ports (in the background, retrying) and closes them. A
    shared one (`owned=False`) is over ports that someone else opened and will close,
    which is how `odto up` runs every service in one process over one set of adapters.
    """

    def __init__(self, ports: Ports, *, owned: bool = True) -> None:
        self.ports = ports
        self.owned = owned
        self.ready = asyncio.Event()
        if not owned:
            self.ready.set()
        self._task: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Open every port, retrying each until it answers (runs until done or cancelled)."""
        pending = self.ports.named()
        delay = 0.5
        while pending:
            for name, port in list(pending.items()):
                try:
                    await port.open()
                except (DependencyDown, OSError) as exc:
                    log.warning("dependency not available yet", dependency=name, error=str(exc))
                else:
                    del pending[name]
            if pending:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self.ready.set()

    def start(self) -> None:
        """Open the ports in the background (an owning lifecycle only)."""
        if not self.owned:
            return
        self._task = asyncio.create_task(self.open(), name="open-dependencies")

    async def check(self) -> dict[str, bool]:
        """Whether each port answers now, by name."""
        named = self.ports.named()
        results = await asyncio.gather(
            *(port.ping() for port in named.values()), return_exceptions=True
        )
        return {name: r is True for name, r in zip(named, results, strict=True)}

    async def close(self) -> None:
        """Stop opening and close every port (an owning lifecycle only)."""
        if not self.owned:
            return
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for port in self.ports.named().values():
            with contextlib.suppress(Exception):
                await port.close()
