"""Choose and open adapters from settings: embedded unless a URL says otherwise (SPEC §2).

`Dependencies` owns the adapters a service asked for, opens them in the background with
retries (a service starts even while a backend is down; /readyz tells), and closes them.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from observatory.core.bus.embedded import EmbeddedBus
from observatory.core.bus.port import Bus
from observatory.core.errors import ConfigurationError, DependencyDown
from observatory.core.settings import Backends
from observatory.core.stores.embedded_counters import EmbeddedCounters
from observatory.core.stores.ports import Counters, EventStore, JobStore
from observatory.core.stores.sqlite_events import SqliteEventStore
from observatory.core.stores.sqlite_jobs import SqliteJobStore

# Drivers of real backends are imported only when their URL is configured, so the
# embedded profile starts without loading aio-pika, asyncpg, redis or pymongo.

log = structlog.get_logger("observatory.backends")


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def make_bus(backends: Backends) -> Bus:
    url = _secret(backends.rabbitmq_url)
    if url:
        from observatory.core.bus.rabbitmq import RabbitBus

        return RabbitBus(url, namespace=backends.namespace)
    return EmbeddedBus(backends.data_dir / "bus.sqlite3", namespace=backends.namespace)


def make_job_store(backends: Backends) -> JobStore:
    url = _secret(backends.postgres_url)
    if url:
        from observatory.core.stores.postgres_jobs import PostgresJobStore

        return PostgresJobStore(url, namespace=backends.namespace)
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

        return PostgresEventStore(url, namespace=backends.namespace)
    if scheme == "sqlite":
        return SqliteEventStore(Path(url.split("://", 1)[1] or "events.sqlite3"))
    raise ConfigurationError(
        f"EVENT_STORE_URL scheme {scheme!r} is not one of mongodb, postgresql, sqlite"
    )


MAKERS = {
    "bus": make_bus,
    "job_store": make_job_store,
    "counters": make_counters,
    "event_store": make_event_store,
}


@dataclass
class Dependencies:
    """The adapters of one service, by dependency name (bus, job_store, counters, event_store).

    An owning instance opens (in the background, retrying) and closes its adapters. A
    view (`owned=False`) shares adapters that someone else opened and will close, which
    is how `odto up` runs every service in one process over one set of adapters.
    """

    items: dict[str, Any]
    owned: bool = True
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None

    @classmethod
    def for_service(cls, backends: Backends, names: tuple[str, ...]) -> Dependencies:
        return cls({name: MAKERS[name](backends) for name in names})

    @classmethod
    def all(cls, backends: Backends) -> Dependencies:
        return cls.for_service(backends, tuple(MAKERS))

    def view(self, names: tuple[str, ...]) -> Dependencies:
        """A non-owning Dependencies over some of these adapters (already open)."""
        shared = Dependencies({name: self.items[name] for name in names}, owned=False)
        shared.ready.set()
        return shared

    def get(self, name: str) -> Any:
        return self.items[name]

    async def open_all(self) -> None:
        """Open every adapter, retrying each until it answers (runs until done or cancelled)."""
        pending = dict(self.items)
        delay = 0.5
        while pending:
            for name, adapter in list(pending.items()):
                try:
                    await (adapter.connect() if name == "bus" else adapter.open())
                except (DependencyDown, OSError) as exc:
                    log.warning("dependency not available yet", dependency=name, error=str(exc))
                else:
                    del pending[name]
            if pending:
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        self.ready.set()

    def start(self) -> None:
        if not self.owned:
            return
        self._task = asyncio.create_task(self.open_all(), name="open-dependencies")

    async def check(self) -> dict[str, bool]:
        results = await asyncio.gather(
            *(a.ping() for a in self.items.values()), return_exceptions=True
        )
        return {name: r is True for name, r in zip(self.items, results, strict=True)}

    async def close(self) -> None:
        if not self.owned:
            return
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for adapter in self.items.values():
            with contextlib.suppress(Exception):
                await adapter.close()
