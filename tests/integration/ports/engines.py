"""Engines behind a port for the shared port tests, and removal of what real engines kept."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import aio_pika
import asyncpg
import redis.asyncio as aioredis

from observatory.core.bus.topology import Names


class Closable(Protocol):
    async def close(self) -> None: ...


A = TypeVar("A", bound=Closable)
Remove = Callable[[], Awaitable[None]] | None  # deletes what a real engine kept

# Delay queues RabbitBus may have declared: `<queue>.delay.<2**n>s` (classic queues) and
# `<queue>.delay` (quorum queues).
DELAY_TIERS = tuple(2**n for n in range(8))


@dataclass
class Engine(Generic[A]):
    """One engine behind a port: opens adapters over the same data; leaving `async with`
    closes them all and removes the data."""

    name: str
    target: str  # the file or URL the adapters use
    namespace: str
    build: Callable[[], A]
    start: Callable[[A], Awaitable[None]]
    remove: Remove = None
    opened: list[A] = field(default_factory=list)

    async def __aenter__(self) -> Engine[A]:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Close every adapter, then remove what the engine kept (queues, schema, keys)."""
        await self.close_all()
        if self.remove is not None:
            await self.remove()

    async def open(self) -> A:
        adapter = self.build()
        await self.start(adapter)
        self.opened.append(adapter)
        return adapter

    async def close(self, adapter: A) -> None:
        self.opened.remove(adapter)
        await adapter.close()

    async def close_all(self) -> None:
        while self.opened:
            await self.close(self.opened[-1])


async def delete_rabbit_namespace(url: str, namespace: str) -> None:
    """Delete the namespace's queues (delay queues included) and its exchange."""
    names = Names(namespace)
    connection = await aio_pika.connect(url, timeout=5)
    async with connection:
        channel = await connection.channel()
        for queue in names.all_queues():
            # Deleting a queue that does not exist is not an error in RabbitMQ.
            tiers = (f"{queue}.delay.{tier}s" for tier in DELAY_TIERS)
            for name in (queue, f"{queue}.delay", *tiers):
                await channel.queue_delete(name)
        await channel.exchange_delete(names.exchange)


async def drop_schema(url: str, namespace: str) -> None:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{namespace}" CASCADE')
    finally:
        await conn.close()


async def delete_redis_keys(url: str, namespace: str) -> None:
    client = aioredis.Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{namespace}:*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def drop_mongo_collections(url: str, namespace: str) -> None:
    from pymongo import AsyncMongoClient

    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, serverSelectionTimeoutMS=5000)
    try:
        database = client["observatory"]
        for collection in ("job_events", "dead_letters"):
            await database.drop_collection(f"{namespace}_{collection}")
    finally:
        await client.close()
