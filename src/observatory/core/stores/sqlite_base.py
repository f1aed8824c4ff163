"""What every SQLite store adapter shares: a group-commit writer, a reader beside it,
migrations on open, ping and close, and sqlite3 errors mapped to what they mean:

    store not open (before open(), after close()), locked, disk I/O, disk full,
    a damaged file or a missing table                        → DependencyDown
    a value SQLite refuses (too big, an int beyond 64 bits,
    a constraint, text that is not UTF-8)                    → InvalidMessage

Most values SQLite would take are refused before by the checks shared with the other
engines (`job_rows`, `event_rows`), so both engines give the same answer.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from observatory.core.errors import DependencyDown, InvalidMessage
from observatory.core.sqlite_writer import SqliteReader, SqliteWriter
from observatory.core.stores.migrate import migrate_sqlite


class SqliteAdapter:
    """Base of the SQLite adapters; `component` names their migration files, `dependency`
    is how their failures are reported (DependencyDown.dependency)."""

    component: ClassVar[str]
    dependency: ClassVar[str] = "sqlite"

    def __init__(self, path: Path) -> None:
        self._writer = SqliteWriter(path)
        self._reader = SqliteReader(path)
        self._open = False
        self._closed = False

    async def open(self) -> None:
        with self.guarded(opening=True):
            await self._writer.open(lambda conn: migrate_sqlite(conn, self.component))
        self._open = True

    async def ping(self) -> bool:
        if not self._open:
            return False
        try:
            await self._reader.read(lambda conn: conn.execute("SELECT 1").fetchone())
        except sqlite3.Error:
            return False
        return True

    async def close(self) -> None:
        if self._closed:  # the threads are gone; closing again has nothing to release
            return
        self._open, self._closed = False, True
        await self._reader.close()
        await self._writer.close()

    @contextlib.contextmanager
    def guarded(self, *, opening: bool = False) -> Iterator[None]:
        """Map sqlite3 errors (see the module docstring); the store must be open.

        A closed store is down, not broken: without the check its threads are gone and a
        call would fail with a RuntimeError from the executor."""
        if not (self._open or opening):
            raise DependencyDown(self.dependency, "not open")
        try:
            yield
        except (
            sqlite3.DataError,
            sqlite3.IntegrityError,
            sqlite3.InterfaceError,  # a parameter it cannot bind
            OverflowError,  # an int beyond 64 bits
            ValueError,  # text that is not UTF-8
        ) as exc:
            reason = f"{self.dependency} refused a value ({type(exc).__name__})"
            raise InvalidMessage(reason) from exc
        except (sqlite3.Error, OSError) as exc:
            raise DependencyDown(self.dependency, type(exc).__name__) from exc
