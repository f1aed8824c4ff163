"""One SQLite connection on its own thread, with group commit.

Embedded adapters submit small units of work; the writer runs every unit queued since
the last commit inside one transaction, so a burst of publishes or inserts costs one
commit. WAL with synchronous=NORMAL survives a killed process (not a power cut), which
is the promise of the embedded profile.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
Work = Callable[[sqlite3.Connection], Any]

PAGE_CACHE_KIB = 512
"""Each connection's page cache. SQLite's default, 2 MiB, filled on all seven
connections of `odto up` (a writer per database, a reader per store) under load: 6-9 MB
of its peak RSS (101-103 -> 94-96 MB in A/B runs), throughput within their noise (a page
missing from the cache is read from the OS's file cache)."""


def open_sqlite(path: Path) -> sqlite3.Connection:
    """A connection tuned for a single writer thread and concurrent readers."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute(f"PRAGMA cache_size=-{PAGE_CACHE_KIB}")  # negative: KiB, not pages
    return conn


class SqliteWriter:
    """Serialises work on one connection and commits queued work together."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sqlite-{path.stem}")
        self._conn: sqlite3.Connection | None = None
        self._pending: list[tuple[Work, asyncio.Future[Any]]] = []
        self._lock = threading.Lock()
        self._flushing = False

    async def open(self, init: Callable[[sqlite3.Connection], None]) -> None:
        """Open the connection and run `init(conn)` (schema, migrations) outside a batch."""
        loop = asyncio.get_running_loop()

        def _open() -> None:
            self._conn = open_sqlite(self.path)
            init(self._conn)

        await loop.run_in_executor(self._executor, _open)

    async def run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(conn)` in the next group transaction and return its result."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            self._pending.append((work, future))
            start = not self._flushing
            self._flushing = True
        if start:
            self._executor.submit(self._flush, loop)
        return await future

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run a read-only `work(conn)` on the writer thread. It joins the next group
        transaction like any unit of `run`, so it sees every write queued before it."""
        return await self.run(work)

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        while True:
            with self._lock:
                batch, self._pending = self._pending, []
                if not batch:
                    self._flushing = False
                    return
            results = self._execute(batch)
            try:
                loop.call_soon_threadsafe(_resolve_all, results)
            except RuntimeError:  # the loop is closed; nobody is waiting any more
                return

    def _execute(
        self, batch: list[tuple[Work, asyncio.Future[Any]]]
    ) -> list[tuple[asyncio.Future[Any], bool, Any]]:
        conn = self._conn
        if conn is None:
            error = sqlite3.ProgrammingError("SqliteWriter is not open")
            return [(future, False, error) for _, future in batch]
        results: list[tuple[asyncio.Future[Any], bool, Any]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            if len(batch) == 1:  # alone in its transaction: no savepoint needed
                work, future = batch[0]
                results.append((future, True, work(conn)))
                conn.execute("COMMIT")
                return results
            for work, future in batch:
                try:
                    conn.execute("SAVEPOINT unit")
                    results.append((future, True, work(conn)))
                    conn.execute("RELEASE unit")
                except Exception as exc:  # one unit's error must not sink the batch
                    conn.execute("ROLLBACK TO unit")
                    conn.execute("RELEASE unit")
                    results.append((future, False, exc))
            conn.execute("COMMIT")
        except Exception as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            results = [(future, False, exc) for _, future in batch]
        return results

    async def close(self) -> None:
        await _close_on_thread(self)


class _OnThread(Protocol):
    _executor: ThreadPoolExecutor
    _conn: sqlite3.Connection | None


async def _close_on_thread(owner: _OnThread) -> None:
    """Close `owner`'s connection on the thread that uses it, then stop that thread."""

    def close() -> None:
        if owner._conn is not None:
            owner._conn.close()
            owner._conn = None

    await asyncio.get_running_loop().run_in_executor(owner._executor, close)
    owner._executor.shutdown(wait=True)


def _resolve_all(results: list[tuple[asyncio.Future[Any], bool, Any]]) -> None:
    for future, ok, value in results:
        if future.done():
            continue
        if ok:
            future.set_result(value)
        else:
            future.set_exception(value)


class SqliteReader:
    """Read-only work on a connection of its own thread; WAL lets it run beside the writer."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"sqlite-r-{path.stem}"
        )
        self._conn: sqlite3.Connection | None = None

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()

        def run() -> T:
            if self._conn is None:
                self._conn = open_sqlite(self.path)
            return work(self._conn)

        return await loop.run_in_executor(self._executor, run)

    async def close(self) -> None:
        await _close_on_thread(self)
