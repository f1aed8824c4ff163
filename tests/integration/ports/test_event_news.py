"""Event news (core.stores.news), proved against every event store that announces: an
insert that stores something is announced to every reader; PostgreSQL's reaches readers
of other connections (another process), and its listener comes back after its connection
is killed. MongoDB announces nothing (the read model polls it)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from tests.integration.ports.engines import Engine, drop_schema
from tests.integration.ports.test_event_store import envelope
from tests.waiting import wait_until_async

from observatory.core.stores.news import EventNews, news_for
from observatory.core.stores.ports import EventStore
from observatory.core.stores.postgres_events import PostgresEventStore
from observatory.core.stores.postgres_news import PostgresNews, news_channel
from observatory.core.stores.sqlite_events import SqliteEventStore

WAIT = 10.0  # a deadline: news comes in milliseconds, a missing one fails the test


@pytest.fixture
async def postgres(postgres_url: str, namespace: str) -> AsyncIterator[Engine[EventStore]]:
    """PostgreSQL event stores over one namespace (its schema dropped afterwards)."""

    async def start(store: EventStore) -> None:
        await store.open()

    engine: Engine[EventStore] = Engine(
        "postgres",
        postgres_url,
        namespace,
        lambda: PostgresEventStore(postgres_url, namespace=namespace),
        start,
    )
    try:
        yield engine
    finally:
        await engine.close_all()
        await drop_schema(postgres_url, namespace)


async def started(store: EventStore, *, shared: bool = True) -> EventNews:
    """A reader of `store`'s news, listening, with the news of its start taken."""
    news = news_for(store, shared=shared)
    news.start()
    await wait_until_async(lambda: news.live, WAIT, message="the news listener")
    await news.wait(0)  # a listener announces its (re)connection: taken here
    return news


async def test_an_insert_that_stores_something_is_announced_to_every_reader(
    event_store: EventStore,
) -> None:
    """Both readers hear of one insert; each hears of it once."""
    first, second = await started(event_store), await started(event_store)
    try:
        await event_store.insert([envelope(str(uuid.uuid4()), "job.created", 1)])
        assert await first.wait(WAIT)
        assert await second.wait(WAIT)
        assert not await first.wait(0)  # heard once
    finally:
        await first.close()
        await second.close()


async def test_sqlite_news_is_live_only_when_every_writer_shares_the_store(
    tmp_path: Path,
) -> None:
    """SQLite announces in-process: complete with one shared store (`odto up`), not when
    another store object (another process) may write, where the reader must poll."""
    store = SqliteEventStore(tmp_path / "events.sqlite3")
    await store.open()
    try:
        assert news_for(store, shared=True).live
        assert not news_for(store, shared=False).live
    finally:
        await store.close()


async def test_postgres_news_reaches_a_reader_on_another_connection(
    postgres: Engine[EventStore],
) -> None:
    """The writer's insert NOTIFYs the namespace's channel: a listener of another store
    object (as in the read model's process) hears it; a listener of another namespace
    does not share the channel."""
    writer, reader = await postgres.open(), await postgres.open()
    news = await started(reader, shared=False)
    try:
        await writer.insert([envelope(str(uuid.uuid4()), "job.created", 1)])
        assert await news.wait(WAIT)
        assert isinstance(news, PostgresNews)
        assert news.channel == news_channel(postgres.namespace)
        assert news_channel("other") != news.channel
        assert len(news_channel("n" * 200).encode()) <= 63
    finally:
        await news.close()


async def test_postgres_listener_comes_back_after_its_connection_is_killed(
    postgres: Engine[EventStore],
) -> None:
    """pg_terminate_backend on the listening connection: the reader stops being live
    (polls), reconnects on its own, says so with news (what was stored meanwhile is read),
    and hears inserts again."""
    store = await postgres.open()
    news = await started(store)
    assert isinstance(news, PostgresNews)
    killed = news.server_pid()
    try:
        conn = await asyncpg.connect(postgres.target)
        try:
            assert await conn.fetchval("SELECT pg_terminate_backend($1)", killed)
        finally:
            await conn.close()
        await store.insert([envelope(str(uuid.uuid4()), "job.created", 1)])  # while down
        await wait_until_async(
            lambda: news.live and news.server_pid() != killed, WAIT, message="a new listener"
        )
        assert await news.wait(WAIT)  # the reconnection (and maybe the insert) announced
        await news.wait(0)
        await store.insert([envelope(str(uuid.uuid4()), "job.created", 2)])
        assert await news.wait(WAIT)
    finally:
        await news.close()
