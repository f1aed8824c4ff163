"""Profiles for end-to-end tests: the embedded default and the real local backends."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import POSTGRES_URL, RABBITMQ_URL, REDIS_URL, need
from tests.integration.ports.engines import delete_rabbit_namespace, delete_redis_keys, drop_schema
from tests.system import RunningSystem, start_system


async def drop_namespace(namespace: str) -> None:
    """Delete what a real-backend run left: queues and exchange, schema, Redis keys."""
    await delete_rabbit_namespace(RABBITMQ_URL, namespace)
    await drop_schema(POSTGRES_URL, namespace)
    await delete_redis_keys(REDIS_URL, namespace)


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
        asyncio.run(drop_namespace(namespace))


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
            asyncio.run(drop_namespace(namespace))
