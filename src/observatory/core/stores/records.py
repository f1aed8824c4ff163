"""Plain records that cross the storage ports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from observatory.core.clock import iso


@dataclass(frozen=True, slots=True)
class JobState:
    """What the processor needs to know about an existing row to stay idempotent."""

    id: str
    status: str
    attempts: int
    run: int
    event_id: str


@dataclass(frozen=True, slots=True)
class AttemptStart:
    """An attempt begins: the row is created or moved to EXECUTING."""

    job_id: str
    type: str
    payload: dict[str, Any]
    metadata: dict[str, Any]
    created_at: datetime
    attempt: int
    run: int
    event_id: str
    correlation_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class AttemptEnd:
    """An attempt ends; `status` is COMPLETED, FAILED, or EXECUTING when a retry follows."""

    job_id: str
    attempt: int
    status: str
    outcome: str
    error: str | None
    at: datetime


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    attempt: int
    started_at: datetime
    finished_at: datetime | None
    outcome: str | None
    error: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "attempt": self.attempt,
            "startedAt": iso(self.started_at),
            "finishedAt": iso(self.finished_at) if self.finished_at else None,
            "outcome": self.outcome,
            "error": self.error,
        }


@dataclass(frozen=True, slots=True)
class JobRecord:
    """A job row as the read model shows it."""

    id: str
    type: str
    status: str
    payload: dict[str, Any]
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    attempts: int
    run: int
    last_error: str | None
    history: tuple[AttemptRecord, ...] = field(default=())

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type,
            "status": self.status,
            "createdAt": iso(self.created_at),
            "updatedAt": iso(self.updated_at),
            "attempts": self.attempts,
            "error": self.last_error,
        }

    def detail(self) -> dict[str, Any]:
        return {
            **self.summary(),
            "payload": self.payload,
            "metadata": self.metadata,
            "completedAt": iso(self.completed_at) if self.completed_at else None,
            "run": self.run,
            "attemptHistory": [a.as_dict() for a in self.history],
        }


@dataclass(frozen=True, slots=True)
class JobPage:
    items: list[JobRecord]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class CounterEffect:
    """Counter changes applied at most once, keyed by `key` (an effect's identity).

    `requires` names the key of an effect that must have been applied before this one
    may count (a run's end needs its job.created). `Counters.apply` does not look at
    it: the caller asks `Counters.missing` first and holds back what is not yet due.

    `series` (created, completed, failed, cancelled) and `latency_ms` (submit→done) are
    added, under the same claim, to the time buckets of `at` (epoch seconds of the
    event; core.stores.series)."""

    key: str
    deltas: dict[str, int]
    event_time: str | None = None
    requires: str | None = None
    series: str | None = None
    at: int = 0
    latency_ms: float | None = None

    @property
    def counts(self) -> bool:
        """True when applying it changes something beyond last_event_time (it claims its key)."""
        return bool(self.series) or any(self.deltas.values())


@dataclass(frozen=True, slots=True)
class CounterSnapshot:
    total: int = 0
    completed: int = 0
    failed: int = 0
    retried: int = 0
    dead_letters: int = 0
    last_event_time: str = ""
    cancelled: int = 0

    @property
    def in_flight(self) -> int:
        return max(0, self.total - self.completed - self.failed - self.cancelled)


COUNTER_NAMES = ("total", "completed", "failed", "retried", "dead_letters", "cancelled")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A rejected message: its key is a hash of the raw bytes, so redelivery stores it once."""

    key: str
    document: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Pending:
    """A job accepted by the gateway and not yet started: its row shows it as PENDING.

    `run` > 1 is a rerun of a FAILED job (POST /jobs/{id}/retry)."""

    job_id: str
    type: str
    payload: dict[str, Any]
    metadata: dict[str, Any]
    created_at: datetime
    run: int
    event_id: str
    correlation_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class DeadLetterQuery:
    """Which dead letters to list: every field that is set must hold (AND).

    `reason` is a case-insensitive substring of the rejection reason; `queue` a topology
    queue name (jobs.created, ...); `since`/`until` bound rejected_at (inclusive, exclusive).
    """

    state: str | None = None
    reason: str | None = None
    queue: str | None = None
    since: datetime | None = None
    until: datetime | None = None


DEAD_LETTER_STATES = ("new", "replayed", "replay_failed")
"""A dead letter is new until replayed; replay_failed when its replay was refused or the
replayed message was dead-lettered again."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """Who did what (SPEC §13): a write action, its actor, target, filter and result.

    `job_ids` are the jobs it touched: the entry shows in each one's timeline."""

    event_id: str
    action: str
    actor: str
    target: str
    result: dict[str, Any]
    correlation_id: str
    occurred_at: datetime
    filter: dict[str, Any] | None = None
    job_ids: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "eventId": self.event_id,
            "action": self.action,
            "actor": self.actor,
            "target": self.target,
            "result": self.result,
            "correlationId": self.correlation_id,
            "occurredAt": iso(self.occurred_at),
        }
        if self.filter is not None:
            shown["filter"] = self.filter
        return shown


@dataclass(frozen=True, slots=True)
class AuditPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class JobFilter:
    """What `JobStore.page` selects; every field is optional and they combine (AND).

    `id_prefix` is the start of a canonical id (lower-case hex and hyphens, checked by
    `core.job_filter`); times are UTC, `*_from` inclusive and `*_to` exclusive; `error`
    is a case-insensitive substring of the last error; `meta` pairs match when the text
    form of `metadata[key]` (a string as is, other JSON as PostgreSQL's `->>` gives it)
    equals the value."""

    id_prefix: str | None = None
    type: str | None = None
    status: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    updated_from: datetime | None = None
    updated_to: datetime | None = None
    error: str | None = None
    meta: tuple[tuple[str, str], ...] = ()
