"""How fast the building blocks are right now, next to the figures PERFORMANCE.md quotes
for this kind of machine: a reading of how loaded the machine is during this invocation."""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import Any

import aio_pika
import asyncpg
import redis.asyncio as aioredis

from benchmarks.stores import Backends

REFERENCE = {  # PERFORMANCE.md, "What the pieces can do here"
    "publishConfirmedSerialPerS": 1800,
    "publishConfirmed200InFlightPerS": 10_000,
    "postgresInsertAutocommitPerS": 5300,
    "redisIncrSerialPerS": 14_000,
}


async def _for(seconds: float, step: Any) -> float:
    count, start = 0, time.monotonic()
    while time.monotonic() - start < seconds:
        count += await step()
    return count / (time.monotonic() - start)


async def calibrate(backends: Backends, seconds: float = 2.0) -> dict[str, Any]:
    name = f"bench_calibrate_{secrets.token_hex(3)}"
    body = b"x" * 400
    figures: dict[str, float] = {}
    connection = await aio_pika.connect(backends.rabbitmq)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        queue = await channel.declare_queue(name, durable=True)

        def message() -> aio_pika.Message:
            return aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT)

        async def one() -> int:
            await channel.default_exchange.publish(message(), routing_key=name)
            return 1

        async def many() -> int:
            sends = [
                channel.default_exchange.publish(message(), routing_key=name) for _ in range(200)
            ]
            await asyncio.gather(*sends)
            return 200

        figures["publishConfirmedSerialPerS"] = await _for(seconds, one)
        figures["publishConfirmed200InFlightPerS"] = await _for(seconds, many)
        await queue.delete(if_unused=False, if_empty=False)
    pg = await asyncpg.connect(backends.postgres)
    try:
        await pg.execute("CREATE TEMP TABLE bench_calibrate (id serial PRIMARY KEY, body text)")

        async def insert() -> int:
            await pg.execute("INSERT INTO bench_calibrate (body) VALUES ($1)", "x")
            return 1

        figures["postgresInsertAutocommitPerS"] = await _for(seconds, insert)
    finally:
        await pg.close()
    client = aioredis.Redis.from_url(backends.redis)
    try:

        async def incr() -> int:
            await client.incr(name)
            return 1

        figures["redisIncrSerialPerS"] = await _for(seconds, incr)
        await client.delete(name)
    finally:
        await client.aclose()
    return {
        key: {
            "measured": round(value),
            "reference": REFERENCE[key],
            "ratio": round(value / REFERENCE[key], 2),
        }
        for key, value in figures.items()
    }
