"""The embedded bus: durable queues in a SQLite file, for the laptop profile.

Publishing routes by the same topology as RabbitMQ and returns once the rows are
committed (the embedded "confirm"). A delivered message is leased, not removed; the
lease is renewed while its handler runs and lapses if the process dies, so a killed
process's messages are delivered again (at-least-once, like AMQP). Settling does not wait
either, like an AMQP ack: the messages settled meanwhile are removed (or given back) in one
unit of work, and close() writes what is left. Consumers in the same
process are woken at once; other processes sharing the file notice within `poll`.

Ready messages come oldest first by the time they became due; one whose lease lapsed (its
process died) comes after those never delivered. The lease query walks an index on
(queue, lease_until, available_at): messages leased now are never scanned and nothing is
sorted, so a lease costs the same whatever the backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from observatory.core.bus.port import BatchHandler, Outcome, Outgoing, queue_names
from observatory.core.bus.runner import ConsumerRunner
from observatory.core.bus.topology import Names
from observatory.core.bus.tracing import BusTracer
from observatory.core.errors import DependencyDown
from observatory.core.sqlite_writer import SqliteWriter

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    queue TEXT NOT NULL,
    body BLOB NOT NULL,
    headers TEXT NOT NULL DEFAULT '{}',
    available_at REAL NOT NULL,
    lease_until REAL NOT NULL DEFAULT 0,
    deliveries INTEGER NOT NULL DEFAULT 0
);
DROP INDEX IF EXISTS messages_ready;
CREATE INDEX IF NOT EXISTS messages_due ON messages (queue, lease_until, available_at);
"""

LEASE_SECONDS = 15.0
log = structlog.get_logger("observatory.bus")


def _create_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)


def _headers_text(headers: Mapping[str, Any]) -> str:
    return json.dumps(dict(headers)) if headers else "{}"  # most messages carry none


def _headers_of(text: str) -> dict[str, Any]:
    return json.loads(text) if text != "{}" else {}


@dataclass(slots=True)
class EmbeddedDelivery:
    """A leased message; settling removes it or gives it back."""

    bus: EmbeddedBus
    id: int
    body: bytes
    headers: Mapping[str, Any]
    queue: str
    redelivered: bool
    settled: bool = field(default=False)

    async def settle(self, outcome: Outcome) -> None:
        if self.settled:
            return
        self.settled = True
        self.bus._settle(self, outcome)


class EmbeddedBus:
    """Bus adapter over a SQLite file (see module docstring)."""

    def __init__(
        self,
        path: Path,
        *,
        namespace: str = "",
        poll: float = 0.2,
        lease: float = LEASE_SECONDS,
        tracer: BusTracer | None = None,
    ) -> None:
        self.names = Names(namespace)
        self._tracer = tracer  # None: tracing off (core.bus.tracing)
        self._writer = SqliteWriter(path)
        self._poll = poll
        # How long a dead process keeps its messages; tests shorten it to see redelivery.
        self._lease_seconds = lease
        self._wakeups: dict[str, asyncio.Event] = {}
        self._routes: dict[str, tuple[str, ...]] = {}  # routing key -> its bound queues
        self._held: dict[int, EmbeddedDelivery] = {}
        self._runners: list[ConsumerRunner] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._removed: list[int] = []  # settled, to delete in the next settle unit
        self._given_back: list[tuple[int, str]] = []  # (id, queue) to release for redelivery
        self._settling: asyncio.Task[None] | None = None
        self._open = False

    async def open(self) -> None:
        if self._open:
            return
        await self._writer.open(_create_schema)
        self._open = True
        self._tasks.append(asyncio.create_task(self._renew_leases(), name="embedded-bus-leases"))

    async def publish_many(self, messages: Sequence[Outgoing]) -> None:
        if self._tracer is not None:
            with self._tracer.publishing(self.names.exchange, messages) as traced:
                return await self._publish(traced)
        return await self._publish(messages)

    async def _publish(self, messages: Sequence[Outgoing]) -> None:
        rows = []
        now = time.time()
        for message in messages:
            headers = _headers_text(message.headers)
            routes = self._routes.get(message.routing_key)
            if routes is None:  # the topology is fixed: a bound key's queues are found once
                routes = self.names.bound_queues(message.routing_key)
                if routes:  # only the topology's own keys: the map stays that small
                    self._routes[message.routing_key] = routes
            for queue in routes:
                rows.append((queue, message.body, headers, now))
        await self._insert(rows)

    async def schedule(
        self, queue: str, body: bytes, headers: Mapping[str, Any], delay: float
    ) -> None:
        target = self.names.q(queue)
        if self._tracer is not None:
            with self._tracer.scheduling(target, headers) as traced:
                await self._insert([(target, body, _headers_text(traced), time.time() + delay)])
            return
        await self._insert([(target, body, _headers_text(headers), time.time() + delay)])

    def _require_open(self) -> None:
        # Before open() or after close() the writer has no connection or thread: without
        # this check a publish would hang forever or leak a RuntimeError.
        if not self._open:
            raise DependencyDown("bus", "not connected")

    async def _insert(self, rows: list[tuple[str, bytes, str, float]]) -> None:
        self._require_open()
        if not rows:
            return

        def work(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO messages (queue, body, headers, available_at) VALUES (?, ?, ?, ?)",
                rows,
            )

        try:
            await self._writer.run(work)
        except sqlite3.Error as exc:
            raise DependencyDown("bus", str(exc)) from exc
        for queue in {row[0] for row in rows}:
            self._wake(queue)

    def _wake(self, queue: str) -> None:
        event = self._wakeups.get(queue)
        if event is not None:
            event.set()

    async def consume(
        self, queues: str | Sequence[str], handler: BatchHandler, *, prefetch: int, batch_size: int
    ) -> None:
        """Each of `queues` is leased on its own (its own batches) into `handler`."""
        for queue in queue_names(queues):
            name = self.names.q(queue)
            wakeup = self._wakeups.setdefault(name, asyncio.Event())
            traced = handler if self._tracer is None else self._tracer.consuming(name, handler)
            runner = ConsumerRunner(name, traced, prefetch=prefetch)
            self._runners.append(runner)
            self._tasks.append(
                asyncio.create_task(
                    self._pump(name, runner, wakeup, batch_size), name=f"consume-{name}"
                )
            )

    async def _pump(
        self, queue: str, runner: ConsumerRunner, wakeup: asyncio.Event, batch_size: int
    ) -> None:
        while True:
            limit = -1  # no lease made: wait before the next
            try:
                room = await runner.wait_for_room()
                wakeup.clear()
                limit = min(room, batch_size)
                batch = await self._lease(queue, limit)
            except asyncio.CancelledError:
                raise
            except Exception:  # a consumer must never stop silently: log and keep polling
                log.exception("embedded bus lease failed", queue=queue)
                batch = []
            if batch:
                runner.submit(batch)
            if len(batch) == limit:  # there may be more ready now
                continue
            # The queue held no more: lease again once a publish here wakes us (set since
            # the clear above, the wait returns at once) or after `poll` (other processes,
            # delayed messages, lapsed leases): an empty lease is a write transaction too.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), self._poll)

    async def _lease(self, queue: str, limit: int) -> list[EmbeddedDelivery]:
        now = time.time()

        def work(conn: sqlite3.Connection) -> list[tuple[int, bytes, str, int]]:
            return conn.execute(
                "UPDATE messages SET lease_until = ?, deliveries = deliveries + 1 WHERE id IN ("
                " SELECT id FROM messages"
                " WHERE queue = ? AND available_at <= ? AND lease_until <= ?"
                " ORDER BY lease_until, available_at, id LIMIT ?)"
                " RETURNING id, body, headers, deliveries",
                (now + self._lease_seconds, queue, now, now, limit),
            ).fetchall()

        try:
            rows = await self._writer.run(work)
        except sqlite3.Error:
            return []
        rows.sort(key=lambda row: row[0])
        deliveries = [
            EmbeddedDelivery(self, row[0], bytes(row[1]), _headers_of(row[2]), queue, row[3] > 1)
            for row in rows
        ]
        for delivery in deliveries:
            self._held[delivery.id] = delivery
        return deliveries

    def _settle(self, delivery: EmbeddedDelivery, outcome: Outcome) -> None:
        """Note the outcome; one unit of work later removes (or gives back) every message
        settled meanwhile. Like an AMQP ack, a settle does not wait for the broker: if the
        process dies first, the message is delivered again when its lease lapses."""
        self._held.pop(delivery.id, None)
        if outcome is Outcome.RETRY:
            self._given_back.append((delivery.id, delivery.queue))
        else:
            self._removed.append(delivery.id)
        if self._settling is None and self._open:
            self._settling = asyncio.create_task(self._write_settled(), name="embedded-bus-settle")

    async def _write_settled(self) -> None:
        try:
            await asyncio.sleep(0)  # the rest of this batch's settles join the same unit
            while self._removed or self._given_back:
                removed, self._removed = [(key,) for key in self._removed], []
                given_back, self._given_back = self._given_back, []

                def work(
                    conn: sqlite3.Connection,
                    removed: list[tuple[int]] = removed,
                    given_back: list[tuple[int, str]] = given_back,
                ) -> None:
                    conn.executemany("DELETE FROM messages WHERE id = ?", removed)
                    conn.executemany(
                        "UPDATE messages SET lease_until = 0 WHERE id = ?",
                        [(key,) for key, _ in given_back],
                    )

                with contextlib.suppress(sqlite3.Error):
                    await self._writer.run(work)
                for queue in {queue for _, queue in given_back}:
                    self._wake(queue)
        finally:
            self._settling = None

    async def _renew_leases(self) -> None:
        while True:
            await asyncio.sleep(self._lease_seconds / 3)
            ids = [(time.time() + self._lease_seconds, key) for key in list(self._held)]
            if not ids:
                continue

            def work(conn: sqlite3.Connection, ids: list[tuple[float, int]] = ids) -> None:
                conn.executemany("UPDATE messages SET lease_until = ? WHERE id = ?", ids)

            with contextlib.suppress(sqlite3.Error):
                await self._writer.run(work)

    async def queue_depth(self, queue: str) -> int:
        self._require_open()
        now = time.time()

        def work(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "SELECT COUNT(*) FROM messages"
                " WHERE queue = ? AND available_at <= ? AND lease_until <= ?",
                (self.names.q(queue), now, now),
            ).fetchone()
            return int(row[0])

        return await self._writer.read(work)

    async def ping(self) -> bool:
        return self._open

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for runner in self._runners:
            await runner.drain()
        if self._settling is not None:  # what was settled is written before the file closes
            await self._settling
        if self._open:
            await self._writer.close()
            self._open = False
