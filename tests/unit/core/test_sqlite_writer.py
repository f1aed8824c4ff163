"""The SQLite writer's group commit: each unit's error is its own, alone or among others."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from observatory.core.sqlite_writer import PAGE_CACHE_KIB, SqliteReader, SqliteWriter


def _schema(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE t (v INTEGER PRIMARY KEY)")


def _insert(value: int) -> Callable[[sqlite3.Connection], int]:
    def work(conn: sqlite3.Connection) -> int:
        conn.execute("INSERT INTO t (v) VALUES (?)", (value,))
        conn.execute("INSERT INTO t (v) VALUES (?)", (value,))  # the second one is refused
        return value

    return work


def _insert_once(value: int) -> Callable[[sqlite3.Connection], int]:
    def work(conn: sqlite3.Connection) -> int:
        conn.execute("INSERT INTO t (v) VALUES (?)", (value,))
        return value

    return work


def _values(conn: sqlite3.Connection) -> list[int]:
    return [row[0] for row in conn.execute("SELECT v FROM t ORDER BY v")]


async def test_a_failing_unit_alone_raises_and_leaves_nothing(tmp_path: Path) -> None:
    writer = SqliteWriter(tmp_path / "w.sqlite3")
    await writer.open(_schema)
    try:
        with pytest.raises(sqlite3.IntegrityError):
            await writer.run(_insert(1))
        assert await writer.read(_values) == []
    finally:
        await writer.close()


async def test_a_failing_unit_among_others_sinks_only_itself(tmp_path: Path) -> None:
    writer = SqliteWriter(tmp_path / "w.sqlite3")
    await writer.open(_schema)
    try:
        results = await asyncio.gather(
            writer.run(_insert_once(1)),
            writer.run(_insert(2)),
            writer.run(_insert_once(3)),
            return_exceptions=True,
        )
        assert results[0] == 1
        assert results[2] == 3
        assert isinstance(results[1], sqlite3.IntegrityError)
        assert await writer.read(_values) == [1, 3]
    finally:
        await writer.close()


async def test_connections_keep_a_small_page_cache(tmp_path: Path) -> None:
    """Every embedded connection holds at most PAGE_CACHE_KIB of pages (SQLite's default,
    2 MiB on each of seven connections, was 9 MB of `odto up`'s peak RSS)."""
    writer = SqliteWriter(tmp_path / "w.sqlite3")
    await writer.open(_schema)
    reader = SqliteReader(tmp_path / "w.sqlite3")
    try:
        for side in (writer, reader):
            (size,) = await side.read(lambda conn: conn.execute("PRAGMA cache_size").fetchone())
            assert size == -PAGE_CACHE_KIB
    finally:
        await reader.close()
        await writer.close()
