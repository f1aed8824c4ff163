"""asyncpg pools with a namespace schema, and driver errors mapped to what they mean.

    connection lost, timeout, pool closed, class 08/53/57/58/40/55 → DependencyDown
    a value the engine refuses (class 21/22/23/54, argument encoding) → InvalidMessage
    any other server error (a schema dropped under us, an internal error) → DependencyDown

Every value reaches PostgreSQL as a bound parameter, so only the value classes can be a
request's fault; the rest is the server's state, which retrying later may fix.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import orjson

from observatory.core.errors import DependencyDown, InvalidMessage

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


async def create_pool(
    url: str,
    *,
    namespace: str,
    dependency: str,
    min_size: int = 1,
    max_size: int = 10,
    session: dict[str, str] | None = None,
) -> Any:
    """A pool whose connections use schema `namespace` (created if needed) when one is
    given, and the adapter's own `session` settings; `min_size` connections are opened at
    once and kept (each new one pays a connect, two codec lookups and preparing every
    statement again on first use)."""
    settings = {"application_name": "task-observatory", **(session or {})}
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
            min_size=min(min_size, max_size),
            max_size=max_size,
            timeout=5,
            command_timeout=QUERY_TIMEOUT,
            server_settings=settings,
            init=_init_connection,
            reset=_keep_session,
        )
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        raise DependencyDown(dependency, type(exc).__name__) from exc


# SQLSTATE classes caused by the values sent: cardinality (one row twice in a statement),
# data exception (invalid text representation, out of range, NUL in text or jsonb),
# integrity constraint, program limit (a value too large for an index or a jsonb).
VALUE_CLASSES = frozenset({"21", "22", "23", "54"})


@contextlib.asynccontextmanager
async def guarded(dependency: str) -> AsyncIterator[None]:
    """Turn driver and network errors into DependencyDown, and values PostgreSQL refuses
    into InvalidMessage (see the module docstring); never leak driver text."""
    try:
        yield
    except asyncpg.PostgresError as exc:
        # asyncpg reports arguments it cannot encode (an int beyond int32, a datetime
        # out of range, a non-UUID for uuid) as DataError, class 22, like the server.
        sqlstate = str(exc.sqlstate or "")
        if sqlstate[:2] in VALUE_CLASSES:
            raise InvalidMessage(
                f"{dependency} refused a value ({type(exc).__name__}, SQLSTATE {sqlstate})"
            ) from exc
        raise DependencyDown(dependency, f"database error {sqlstate}") from exc
    except asyncpg.InterfaceError as exc:
        if isinstance(exc, ValueError):  # asyncpg's client-side DataError
            raise InvalidMessage(f"{dependency} refused a value ({type(exc).__name__})") from exc
        raise DependencyDown(dependency, type(exc).__name__) from exc  # connection closed
    except (OSError, TimeoutError) as exc:
        raise DependencyDown(dependency, type(exc).__name__) from exc
    except (OverflowError, ValueError) as exc:  # an argument the driver could not encode
        raise InvalidMessage(f"{dependency} refused a value ({type(exc).__name__})") from exc


async def ping_pool(pool: Any) -> bool:
    try:
        async with pool.acquire(timeout=2) as conn:
            await conn.fetchval("SELECT 1", timeout=2)
    except Exception:  # any failure means "not ready"
        return False
    return True
