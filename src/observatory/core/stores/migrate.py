"""Versioned migrations: numbered SQL files per component, applied once, in order.

Files live in `migrations/<engine>/<component>_<NNNN>.sql`; `schema_migrations`
records what has been applied. PostgreSQL applies them under an advisory lock, so
services starting together do not race.
"""

from __future__ import annotations

import sqlite3
from importlib import resources
from typing import Any

MIGRATION_TIMEOUT = 3600.0  # seconds a statement of a migration may take (see migrate_postgres)
ENSURE_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(component TEXT NOT NULL, version INTEGER NOT NULL, PRIMARY KEY (component, version))"
)


def migration_files(engine: str, component: str) -> list[tuple[int, str]]:
    """(version, sql) for every migration of `component`, in order."""
    folder = resources.files("observatory.core.stores.migrations").joinpath(engine)
    found = []
    for entry in folder.iterdir():
        name = entry.name
        if name.startswith(f"{component}_") and name.endswith(".sql"):
            found.append((int(name.removesuffix(".sql").split("_")[-1]), entry.read_text("utf-8")))
    return sorted(found)


def migrate_sqlite(conn: sqlite3.Connection, component: str) -> None:
    """Apply pending migrations of `component` on a SQLite connection."""
    conn.execute(ENSURE_TABLE)
    done = {
        row[0]
        for row in conn.execute(
            "SELECT version FROM schema_migrations WHERE component = ?", (component,)
        )
    }
    for version, sql in migration_files("sqlite", component):
        if version in done:
            continue
        conn.executescript(
            f"BEGIN;\n{sql}\nINSERT INTO schema_migrations VALUES "
            f"('{component}', {version});\nCOMMIT;"
        )


async def migrate_postgres(conn: Any, component: str) -> None:
    """Apply pending migrations of `component` on an asyncpg connection. Not bound by
    the pool's query timeout: a migration that copies rows takes minutes on a large store
    (jobs_0006: about 3.5 at 10,000,000 jobs), and so does waiting for another service's;
    cut short, it would roll back and start over at every retry, never done."""
    wait = MIGRATION_TIMEOUT
    async with conn.transaction():
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('observatory-migrations'))", timeout=wait
        )
        await conn.execute(ENSURE_TABLE, timeout=wait)
        rows = await conn.fetch(
            "SELECT version FROM schema_migrations WHERE component = $1", component, timeout=wait
        )
        done = {row["version"] for row in rows}
        for version, sql in migration_files("postgres", component):
            if version in done:
                continue
            await conn.execute(sql, timeout=wait)
            await conn.execute(
                "INSERT INTO schema_migrations VALUES ($1, $2)", component, version, timeout=wait
            )
