"""The session's sweep removes what a test left of its namespace on each real service,
and nothing of a namespace it did not hand out (tests/sweep.py)."""

from __future__ import annotations

import aio_pika
import asyncpg
import redis.asyncio as aioredis
from tests.integration.ports.engines import delete_rabbit_namespace, drop_schema
from tests.sweep import new_namespace, sweep

from observatory.core.bus.topology import Names


async def leave_behind(namespace: str, postgres: str, rabbitmq: str, redis: str) -> None:
    """A schema with a table, the namespace's exchange and a queue, a Redis key."""
    conn = await asyncpg.connect(postgres)
    try:
        await conn.execute(f'CREATE SCHEMA "{namespace}"')
        await conn.execute(f'CREATE TABLE "{namespace}".jobs (id int)')
    finally:
        await conn.close()
    connection = await aio_pika.connect(rabbitmq)
    async with connection:
        channel = await connection.channel()
        names = Names(namespace)
        exchange = await channel.declare_exchange(names.exchange, "topic", durable=True)
        queue = await channel.declare_queue(names.q("jobs.created"), durable=True)
        await queue.bind(exchange, "job.created")
    client = aioredis.Redis.from_url(redis)
    try:
        await client.set(f"{namespace}:stats:total", 1)
    finally:
        await client.aclose()


async def what_is_left(namespace: str, postgres: str, rabbitmq: str, redis: str) -> dict[str, bool]:
    conn = await asyncpg.connect(postgres)
    try:
        schema = await conn.fetchval("SELECT 1 FROM pg_namespace WHERE nspname = $1", namespace)
    finally:
        await conn.close()
    connection = await aio_pika.connect(rabbitmq)
    async with connection:
        try:
            channel = await connection.channel()
            await channel.declare_queue(Names(namespace).q("jobs.created"), passive=True)
            queue = True
        except aio_pika.exceptions.ChannelClosed:
            queue = False
    client = aioredis.Redis.from_url(redis)
    try:
        key = bool(await client.exists(f"{namespace}:stats:total"))
    finally:
        await client.aclose()
    return {"schema": schema is not None, "queue": queue, "key": key}


async def test_the_sweep_removes_a_handed_out_namespace_and_keeps_another(
    postgres_url: str, rabbitmq_url: str, redis_url: str
) -> None:
    mine, theirs = new_namespace(), new_namespace()
    services = {"postgres": postgres_url, "rabbitmq": rabbitmq_url, "redis": redis_url}
    for namespace in (mine, theirs):
        await leave_behind(namespace, postgres_url, rabbitmq_url, redis_url)
    try:
        left = await sweep({mine, new_namespace("nothing left")}, **services)
        assert left == {"postgresql": [mine], "rabbitmq": [mine], "redis": [mine]}
        assert await what_is_left(mine, postgres_url, rabbitmq_url, redis_url) == {
            "schema": False,
            "queue": False,
            "key": False,
        }
        assert await what_is_left(theirs, postgres_url, rabbitmq_url, redis_url) == {
            "schema": True,
            "queue": True,
            "key": True,
        }
        assert await sweep({mine}, **services) == {
            "postgresql": [],
            "rabbitmq": [],
            "redis": [],
        }
    finally:
        await drop_schema(postgres_url, theirs)
        await delete_rabbit_namespace(rabbitmq_url, theirs)
        await sweep({theirs}, **services)
