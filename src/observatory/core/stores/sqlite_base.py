"""What every SQLite store adapter shares: a group-commit writer, a reader beside it,
migrations on open, ping and close."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import ClassVar

from observatory.core.sqlite_writer import SqliteReader, SqliteWriter
from observatory.core.stores.migrate import migrate_sqlite


class SqliteAdapter:
    """Base of the SQLite adapters; `component` names their migration files."""

    component: ClassVar[str]

    def __init__(self, path: Path) -> None:
        self._writer = SqliteWriter(path)
        self._reader = SqliteReader(path)

    async def open(self) -> None:
        await self._writer.open(lambda conn: migrate_sqlite(conn, self.component))

    async def ping(self) -> bool:
        try:
            await self._reader.read(lambda conn: conn.execute("SELECT 1").fetchone())
        except sqlite3.Error:
            return False
        return True

    async def close(self) -> None:
        await self._reader.close()
        await self._writer.close()
