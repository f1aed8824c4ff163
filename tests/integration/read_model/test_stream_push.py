"""/stream over real PostgreSQL: the metrics engine's insert (another connection, as in
another process) wakes the read model's broadcaster through LISTEN/NOTIFY, so the event is
pushed although no poll is due within the test's deadline; after its listening connection
is killed, nothing is missed and pushes resume once it is back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from tests.integration.ports.engines import drop_schema
from tests.integration.ports.test_event_store import envelope
from tests.streams import DEADLINE, Spy, listening, next_of
from tests.waiting import wait_until_async

from observatory.core.stores.news import news_for
from observatory.core.stores.postgres_events import PostgresEventStore
from observatory.core.stores.postgres_news import PostgresNews
from observatory.services.read_model.stream import Broadcaster

NEVER = 3600.0  # a poll pace no test waits for


@pytest.fixture
async def stores(postgres_url: str, namespace: str) -> AsyncIterator[list[PostgresEventStore]]:
    """The metrics engine's store and the read model's, over one namespace."""
    opened = [PostgresEventStore(postgres_url, namespace=namespace) for _ in range(2)]
    try:
        for store in opened:
            await store.open()
        yield opened
    finally:
        for store in opened:
            await store.close()
        await drop_schema(postgres_url, namespace)


async def no_stats() -> dict[str, Any]:
    return {}


def new_event() -> dict[str, Any]:
    return envelope(str(uuid.uuid4()), "job.completed", 1)


async def test_an_insert_is_pushed_by_notify(stores: list[PostgresEventStore]) -> None:
    """No poll is due for an hour: the event arrives because the insert notified."""
    writer, reader = stores
    spy = Spy(news_for(reader, shared=False))
    b = Broadcaster(no_stats, reader.recent, NEVER, news=spy, coalesce=0.05, safety=NEVER)
    async with listening(b, spy) as messages:
        await wait_until_async(lambda: spy.live, DEADLINE, message="the listener")
        event = new_event()
        await writer.insert([event])
        assert (await next_of(messages, "job-event"))["eventId"] == event["eventId"]
        assert True in spy.answers


async def test_nothing_is_missed_while_the_listener_is_down(
    stores: list[PostgresEventStore], postgres_url: str
) -> None:
    """pg_terminate_backend on the listener: an event stored at once is still pushed (the
    broadcaster polls while not live, and the reconnection reads what came meanwhile);
    once the listener is back, inserts are pushed by news again."""
    writer, reader = stores
    news = news_for(reader, shared=False)
    assert isinstance(news, PostgresNews)
    spy = Spy(news)
    b = Broadcaster(no_stats, reader.recent, 0.2, news=spy, coalesce=0.05, safety=NEVER)
    async with listening(b, spy) as messages:
        await wait_until_async(lambda: spy.live, DEADLINE, message="the listener")
        killed = news.server_pid()
        conn = await asyncpg.connect(postgres_url)
        try:
            assert await conn.fetchval("SELECT pg_terminate_backend($1)", killed)
        finally:
            await conn.close()
        lost = new_event()
        await writer.insert([lost])
        assert (await next_of(messages, "job-event"))["eventId"] == lost["eventId"]
        await wait_until_async(
            lambda: news.live and news.server_pid() != killed, DEADLINE, message="a new listener"
        )
        again = new_event()
        await writer.insert([again])
        assert (await next_of(messages, "job-event"))["eventId"] == again["eventId"]
