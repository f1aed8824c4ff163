"""The embedded adapters on temp files, a fixed clock, and a job's lifecycle events, for
fast tests of handlers and queries (no network, no consumer loop).

Tests hand deliveries to a handler themselves and read what it published or scheduled
straight from the embedded bus's table (`Embedded.take`), so a message delayed by a
minute is seen at once, with its delay, without waiting for it.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from observatory.core.bus.embedded import EmbeddedBus
from observatory.core.bus.port import Outcome, Outgoing
from observatory.core.clock import FixedClock, iso
from observatory.core.contracts.envelope import Producer, build_envelope
from observatory.core.stores.embedded_counters import EmbeddedCounters
from observatory.core.stores.sqlite_events import SqliteEventStore
from observatory.core.stores.sqlite_jobs import SqliteJobStore

NAMESPACE = "unit"  # queues are "<namespace>.<name>", as on a shared broker
PRODUCER = Producer("unit-test", "here", "0")


@dataclass
class Message:
    """A delivery as a handler sees it; remembers how it was settled."""

    body: bytes
    queue: str
    headers: Mapping[str, Any] = field(default_factory=dict)
    redelivered: bool = False
    delay: float = 0.0  # seconds until the bus would hand it out
    outcome: Outcome | None = None

    async def settle(self, outcome: Outcome) -> None:
        self.outcome = outcome

    def document(self) -> dict[str, Any]:
        return dict(orjson.loads(self.body))


@dataclass
class Embedded:
    """Opened embedded adapters over one temp directory."""

    path: Path
    clock: FixedClock
    bus: EmbeddedBus
    events: SqliteEventStore
    counters: EmbeddedCounters
    jobs: SqliteJobStore

    def message(self, queue: str, body: bytes | dict[str, Any], **headers: Any) -> Message:
        """A delivery from `queue` (a topology name) as the bus would hand it out."""
        raw = body if isinstance(body, bytes) else orjson.dumps(body)
        return Message(raw, f"{NAMESPACE}.{queue}", headers)

    def take(self, queue: str) -> list[Message]:
        """Remove and return every message waiting in `queue` (a topology name), ready or
        delayed, oldest first."""
        with contextlib.closing(sqlite3.connect(self.path / "bus.sqlite3")) as conn, conn:
            rows = conn.execute(
                "DELETE FROM messages WHERE queue = ? RETURNING id, body, headers, available_at",
                (f"{NAMESPACE}.{queue}",),
            ).fetchall()
        now = time.time()
        return [
            Message(bytes(body), f"{NAMESPACE}.{queue}", json.loads(headers), delay=at - now)
            for _, body, headers, at in sorted(rows)
        ]


@pytest.fixture
async def embedded(tmp_path: Path) -> AsyncIterator[Embedded]:
    bus = EmbeddedBus(tmp_path / "bus.sqlite3", namespace=NAMESPACE)
    events = SqliteEventStore(tmp_path / "events.sqlite3")
    counters = EmbeddedCounters(tmp_path / "counters.sqlite3")
    jobs = SqliteJobStore(tmp_path / "jobs.sqlite3")
    await bus.open()
    for store in (events, counters, jobs):
        await store.open()
    try:
        yield Embedded(tmp_path, FixedClock(), bus, events, counters, jobs)
    finally:
        await bus.close()
        for store in (events, counters, jobs):
            await store.close()


def job(
    clock: FixedClock, *, status: str = "PENDING", run: int = 1, **fields: Any
) -> dict[str, Any]:
    """A job document as the gateway accepts it (a fresh id from the clock)."""
    return {
        "id": clock.new_id(),
        "type": "UNIT",
        "status": status,
        "createdAt": iso(clock.now()),
        "run": run,
        **fields,
    }


def event(
    clock: FixedClock, event_type: str, of_job: dict[str, Any], **changes: Any
) -> dict[str, Any]:
    """A valid envelope of `event_type` carrying `of_job` (with `changes`), at the clock's now."""
    return build_envelope(
        event_type,
        {**of_job, **changes},
        producer=PRODUCER,
        clock=clock,
        correlation_id=clock.new_id(),
        idempotency_key=str(of_job["id"]),
    )


def lifecycle(
    clock: FixedClock, of_job: dict[str, Any], *, ends: str = "job.completed"
) -> list[dict[str, Any]]:
    """created, validated, executed and the end of one run, one second apart."""
    steps: list[tuple[str, dict[str, Any]]] = [
        ("job.created", {}),
        ("job.validated", {"status": "VALIDATED"}),
        ("job.executed", {"status": "EXECUTING", "attempts": 1}),
        (ends, {"status": "COMPLETED" if ends == "job.completed" else "FAILED", "attempts": 1}),
    ]
    envelopes = []
    for event_type, changes in steps:
        envelopes.append(event(clock, event_type, of_job, **changes))
        clock.advance(1)
    return envelopes


QUEUE_OF = {
    "job.created": "jobs.created.metrics",
    "job.validated": "jobs.validated",
    "job.executed": "jobs.executed",
    "job.completed": "jobs.completed",
    "job.failed": "jobs.failed",
}


def routed(embedded: Embedded, envelopes: list[dict[str, Any]]) -> list[Message]:
    """Each envelope as a delivery from the metrics-engine queue its type is bound to."""
    return [embedded.message(QUEUE_OF[e["eventType"]], e) for e in envelopes]


async def publish(embedded: Embedded, envelopes: list[dict[str, Any]]) -> None:
    """Publish through the exchange, as the services do (for tests that take() them)."""
    await embedded.bus.publish_many(
        [Outgoing(e["eventType"], orjson.dumps(e), message_id=e["eventId"]) for e in envelopes]
    )
