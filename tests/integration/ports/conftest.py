"""Opened adapters for every port, one parametrization per engine.

Each port's behaviour tests are written once (test_bus.py, test_job_store.py, ...) and
run against every adapter that is reachable: the embedded ones on temp files, the real
ones on this machine's RabbitMQ/PostgreSQL/Redis under the test's `namespace`, removed
again afterwards (queues and exchange, schema, keys). MongoDB runs only where
TEST_MONGO_URL points at a server.

An `Engine` builds adapters over the same data, so a test can close one and open
another to see what survived.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from pathlib import Path

import pytest
from tests.integration.ports.engines import (
    Engine,
    Remove,
    delete_rabbit_namespace,
    delete_redis_keys,
    drop_mongo_collections,
    drop_schema,
)

from observatory.core.bus.declarations import QueueType
from observatory.core.bus.embedded import EmbeddedBus
from observatory.core.bus.port import Bus
from observatory.core.bus.rabbitmq import RabbitBus
from observatory.core.stores.embedded_counters import EmbeddedCounters
from observatory.core.stores.ports import Counters, EventStore, JobStore
from observatory.core.stores.postgres_events import PostgresEventStore
from observatory.core.stores.postgres_jobs import PostgresJobStore
from observatory.core.stores.redis_counters import RedisCounters
from observatory.core.stores.sqlite_events import SqliteEventStore
from observatory.core.stores.sqlite_jobs import SqliteJobStore

MONGO_URL = os.environ.get("TEST_MONGO_URL", "")
MONGO_SKIP = (
    "MongoDB is not installed on these machines (no server can be installed here, CI "
    "included); set TEST_MONGO_URL=mongodb://... to run the event-store suite against it"
)


def _open(store: Bus | JobStore | Counters | EventStore) -> Awaitable[None]:
    return store.open()


# --- where each engine keeps its data (sync, so `getfixturevalue` can skip or fail) ---


@pytest.fixture(params=["embedded", "rabbitmq", "rabbitmq-quorum"])
def bus_target(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    """The bus suite runs on RabbitMQ twice: classic and quorum queues (ODTO_QUEUE_TYPE)."""
    if request.param == "embedded":
        return "embedded", str(tmp_path / "bus.sqlite3")
    return str(request.param), str(request.getfixturevalue("rabbitmq_url"))


@pytest.fixture(params=["sqlite", "postgres"])
def job_store_target(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    if request.param == "sqlite":
        return "sqlite", str(tmp_path / "jobs.sqlite3")
    return "postgres", str(request.getfixturevalue("postgres_url"))


@pytest.fixture(params=["embedded", "redis"])
def counters_target(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    if request.param == "embedded":
        return "embedded", str(tmp_path / "counters.sqlite3")
    return "redis", str(request.getfixturevalue("redis_url"))


@pytest.fixture(params=["sqlite", "postgres", "mongo"])
def event_store_target(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, str]:
    if request.param == "sqlite":
        return "sqlite", str(tmp_path / "events.sqlite3")
    if request.param == "postgres":
        return "postgres", str(request.getfixturevalue("postgres_url"))
    if not MONGO_URL:
        pytest.skip(MONGO_SKIP)
    return "mongo", MONGO_URL


# --- engines and opened adapters ---


@pytest.fixture
async def bus_engine(bus_target: tuple[str, str], namespace: str) -> AsyncIterator[Engine[Bus]]:
    name, target = bus_target
    build: Callable[[], Bus]
    remove: Remove = None  # an embedded engine leaves nothing behind
    if name == "embedded":
        build = partial(EmbeddedBus, Path(target), namespace=namespace)
    else:
        queue_type: QueueType = "quorum" if name == "rabbitmq-quorum" else "classic"
        build = partial(RabbitBus, target, namespace=namespace, queue_type=queue_type)
        remove = partial(delete_rabbit_namespace, target, namespace)
    engine: Engine[Bus] = Engine(name, target, namespace, build, _open, remove)
    async with engine:
        yield engine


@pytest.fixture
async def bus(bus_engine: Engine[Bus]) -> Bus:
    return await bus_engine.open()


@pytest.fixture
async def job_store_engine(
    job_store_target: tuple[str, str], namespace: str
) -> AsyncIterator[Engine[JobStore]]:
    name, target = job_store_target
    build: Callable[[], JobStore]
    remove: Remove = None  # an embedded engine leaves nothing behind
    if name == "sqlite":
        build = partial(SqliteJobStore, Path(target))
    else:
        build = partial(PostgresJobStore, target, namespace=namespace)
        remove = partial(drop_schema, target, namespace)
    engine: Engine[JobStore] = Engine(name, target, namespace, build, _open, remove)
    async with engine:
        yield engine


@pytest.fixture
async def job_store(job_store_engine: Engine[JobStore]) -> JobStore:
    return await job_store_engine.open()


@pytest.fixture
async def counters(counters_target: tuple[str, str], namespace: str) -> AsyncIterator[Counters]:
    name, target = counters_target
    build: Callable[[], Counters]
    remove: Remove = None  # an embedded engine leaves nothing behind
    if name == "embedded":
        build = partial(EmbeddedCounters, Path(target))
    else:
        build = partial(RedisCounters, target, namespace=namespace)
        remove = partial(delete_redis_keys, target, namespace)
    engine: Engine[Counters] = Engine(name, target, namespace, build, _open, remove)
    async with engine:
        yield await engine.open()


@pytest.fixture
async def event_store_engine(
    event_store_target: tuple[str, str], namespace: str
) -> AsyncIterator[Engine[EventStore]]:
    name, target = event_store_target
    build: Callable[[], EventStore]
    remove: Remove = None  # an embedded engine leaves nothing behind
    if name == "sqlite":
        build = partial(SqliteEventStore, Path(target))
    elif name == "postgres":
        build = partial(PostgresEventStore, target, namespace=namespace)
        remove = partial(drop_schema, target, namespace)
    else:
        from observatory.core.stores.mongo_events import MongoEventStore

        build = partial(MongoEventStore, target, namespace=namespace)
        remove = partial(drop_mongo_collections, target, namespace)
    engine: Engine[EventStore] = Engine(name, target, namespace, build, _open, remove)
    async with engine:
        yield engine


@pytest.fixture
async def event_store(event_store_engine: Engine[EventStore]) -> EventStore:
    return await event_store_engine.open()
