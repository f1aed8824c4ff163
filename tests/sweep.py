"""Namespaces handed out to tests, and the sweep that removes what they left behind.

Every real-backend test works under a namespace of its own (`new_namespace`): its
PostgreSQL schema, its queues and exchange, its Redis keys. Fixtures drop them; a test
that opens a store or a service outside those fixtures can leave some. At the end of
the session, `sweep` removes whatever is left of this session's namespaces (and only
those: another run on the same services keeps its own) and says which ones it found.
"""

from __future__ import annotations

import asyncio
import uuid

import aio_pika
import asyncpg
import redis.asyncio as aioredis

from observatory.core.bus.topology import Names
from tests.integration.ports.engines import delete_rabbit_namespace

HANDED_OUT: dict[str, str] = {}
"""Every namespace handed out in this session, and the test it was handed to."""
SWEEP_SECONDS = 120


def new_namespace(test: str = "") -> str:
    """A prefix unique to one test for queues, keys and tables (swept at session end);
    `test` names the test, so the sweep can say which one left something."""
    namespace = f"t{uuid.uuid4().hex[:10]}"
    HANDED_OUT[namespace] = test
    return namespace


async def _schemas(url: str, namespaces: set[str]) -> list[str]:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        rows = await conn.fetch(
            "SELECT nspname FROM pg_namespace WHERE nspname = ANY($1::text[])", list(namespaces)
        )
        found = sorted(row["nspname"] for row in rows)
        for name in found:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        return found
    finally:
        await conn.close()


async def _exchanges(url: str, namespaces: set[str]) -> list[str]:
    """The namespaces whose exchange still exists; their queues and exchange deleted."""
    found = []
    connection = await aio_pika.connect(url, timeout=5)
    async with connection:
        for namespace in sorted(namespaces):
            channel = await connection.channel()
            try:
                await channel.declare_exchange(Names(namespace).exchange, passive=True)
            except aio_pika.exceptions.ChannelClosed:
                continue  # none: the channel closed with the refusal
            await channel.close()
            found.append(namespace)
    for namespace in found:
        await delete_rabbit_namespace(url, namespace)
    return found


async def _keys(url: str, namespaces: set[str]) -> list[str]:
    client = aioredis.Redis.from_url(url)
    try:
        found: dict[bytes, str] = {}
        async for key in client.scan_iter(match="t??????????:*", count=1000):
            namespace = key.decode(errors="replace").split(":", 1)[0]
            if namespace in namespaces:
                found[key] = namespace
        if found:
            await client.delete(*found)
        return sorted(set(found.values()))
    finally:
        await client.aclose()


async def sweep(
    namespaces: set[str], *, postgres: str | None, rabbitmq: str | None, redis: str | None
) -> dict[str, list[str]]:
    """Remove what is left of `namespaces` on each service given (None: not here);
    per service, the namespaces that had something left."""
    left: dict[str, list[str]] = {}
    async with asyncio.timeout(SWEEP_SECONDS):
        if postgres:
            left["postgresql"] = await _schemas(postgres, namespaces)
        if rabbitmq:
            left["rabbitmq"] = await _exchanges(rabbitmq, namespaces)
        if redis:
            left["redis"] = await _keys(redis, namespaces)
    return left
