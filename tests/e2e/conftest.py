"""Profiles for end-to-end tests: the embedded default and the real local backends."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import POSTGRES_URL, RABBITMQ_URL, REDIS_URL, need
from tests.system import RunningSystem, start_system


async def _drop_namespace(namespace: str) -> None:
    import aio_pika
    import asyncpg
    import redis.asyncio as aioredis

    from observatory.core.bus.topology import Names

    conn = await asyncpg.connect(POSTGRES_URL)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{namespace}" CASCADE')
    finally:
        await conn.close()
    client = aioredis.Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in client.scan_iter(match=f"{namespace}:*", count=1000)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()
    connection = await aio_pika.connect(RABBITMQ_URL)
    try:
        names = Names(namespace)
        for queue in names.all_queues():
            channel = await connection.channel()
            await channel.queue_delete(queue)
        for suffix in (1, 2, 4, 8, 16, 32):
            channel = await connection.channel()
            await channel.queue_delete(f"{names.q('jobs.created')}.delay.{suffix}s")
        channel = await connection.channel()
        await channel.exchange_delete(names.exchange)
    finally:
        await connection.close()


def real_env(namespace: str) -> dict[str, str]:
    return {
        "RABBITMQ_URL": need(RABBITMQ_URL, 5672, "RabbitMQ"),
        "POSTGRES_URL": need(POSTGRES_URL, 5432, "PostgreSQL"),
        "REDIS_URL": need(REDIS_URL, 6379, "Redis"),
        "ODTO_NAMESPACE": namespace,
    }


@pytest.fixture
def real_backends(namespace: str) -> Iterator[dict[str, str]]:
    """Environment pointing at the local RabbitMQ/PostgreSQL/Redis, cleaned up afterwards."""
    env = real_env(namespace)
    try:
        yield env
    finally:
        asyncio.run(_drop_namespace(namespace))


@pytest.fixture(params=["embedded", "real"])
def profile_system(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str
) -> Iterator[RunningSystem]:
    """The whole system on each profile: embedded files, then the real local backends."""
    env = real_env(namespace) if request.param == "real" else {}
    running = start_system(tmp_path, env)
    try:
        yield running
    finally:
        running.stop()
        if env:
            asyncio.run(_drop_namespace(namespace))
