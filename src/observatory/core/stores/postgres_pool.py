"""asyncpg pools with a namespace schema, and driver errors mapped to DependencyDown."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson

from observatory.core.errors import DependencyDown

QUERY_TIMEOUT = 10.0


async def _init_connection(conn: Any) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name,
            encoder=lambda v: orjson.dumps(v).decode(),
            decoder=orjson.loads,
            schema="pg_catalog",
        )


async def _keep_session(_: Any) -> None:
    """Release without asyncpg's default reset round trip (UNLISTEN, RESET ALL, ...).

    Nothing here changes session state: no LISTEN, no session SET, advisory locks only
    per transaction. asyncpg still rolls back a transaction left open before this runs.
    """


async def create_pool(url: str, *, namespace: str, dependency: str, max_size: int = 10) -> Any:
    """A pool whose connections use schema `namespace` (created if needed) when one is given."""
    settings = {"application_name": "task-observatory"}
    try:
        if namespace:
            conn = await asyncpg.connect(url, timeout=5)
            try:
                await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{namespace}"')
            finally:
                await conn.close()
            settings["search_path"] = namespace
        return await asyncpg.create_pool(
            url,
            min_size=1,
            max_size=max_size,
            timeout=5,
            command_timeout=QUERY_TIMEOUT,
            server_settings=settings,
            init=_init_connection,
            reset=_keep_session,
        )
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise DependencyDown(dependency, type(exc).__name__) from exc


@contextlib.asynccontextmanager
async def guarded(dependency: str) -> AsyncIterator[None]:
    """Turn driver and network errors into DependencyDown (never leak driver text)."""
    try:
        yield
    except (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError, TimeoutError) as exc:
        raise DependencyDown(dependency, type(exc).__name__) from exc
    except asyncpg.PostgresError as exc:
        raise DependencyDown(dependency, f"database error {exc.sqlstate}") from exc


async def ping_pool(pool: Any) -> bool:
    try:
        async with pool.acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1", timeout=2)
    except Exception:  # any failure means "not ready"
        return False
    return True
