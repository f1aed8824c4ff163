"""The storage ports, and the one error contract every adapter keeps.

- `DependencyDown` only when the backend cannot be reached or answers with a transient
  failure: no connection, a timeout, a closed store (before open(), after close()), a
  lock or serialization conflict, the server short of resources or shutting down.
- `InvalidMessage` when a value is refused: a non-UUID where an id is stored, a time
  without a UTC form within 1970-9999, an int beyond the column (int32) or beyond 64 bits
  in JSON, NUL where PostgreSQL cannot keep it. Every engine refuses the same values
  (`values`, `job_rows`, `event_rows`), and a write that refuses one item writes nothing.
- Lookups by an id that is not a UUID find nothing (None, {}, []); any UUID spelling
  finds the row of its canonical form (`core.contracts.ids`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Protocol

from observatory.core.stores.records import (
    AttemptEnd,
    AttemptStart,
    AuditEntry,
    AuditPage,
    CounterEffect,
    CounterSnapshot,
    DeadLetter,
    DeadLetterQuery,
    JobFilter,
    JobPage,
    JobRecord,
    JobState,
    Pending,
)


class JobStore(Protocol):
    """Authoritative job state and attempt history (PostgreSQL or SQLite).

    Errors as in the module docstring. Ids come back canonical (lower case, hyphens).
    Stored times are UTC: SQLite keeps milliseconds, PostgreSQL microseconds."""

    async def open(self) -> None:
        """Connect and apply pending migrations."""

    async def load(self, ids: Sequence[str]) -> dict[str, JobState]:
        """Current state of the rows that exist among `ids`, keyed by canonical id; ids
        that are not UUIDs are left out."""

    async def begin(self, starts: Sequence[AttemptStart]) -> list[str]:
        """Create or update rows to EXECUTING and record attempt starts, atomically; return
        the canonical ids of the jobs really started. A CANCELLED row is never moved (its
        start is left out, and its job must not run), whatever order cancel() and begin()
        come in.

        Raises InvalidMessage when any start holds a value the store refuses (then
        nothing of the call is written: a caller may split the batch to find it)."""

    async def finish(self, ends: Sequence[AttemptEnd]) -> None:
        """Record attempt ends and the resulting statuses, atomically; InvalidMessage and
        nothing written when any end holds a value the store refuses."""

    async def get(self, job_id: str) -> JobRecord | None:
        """The job with its attempt history, or None (also for an id that is no UUID)."""

    async def recent(self, limit: int) -> list[JobRecord]:
        """Newest jobs first."""

    async def page(self, filter: JobFilter, *, limit: int, cursor: str | None) -> JobPage:
        """One page of the jobs `filter` selects, newest first (keyset pagination on
        (created_at, id)); every engine selects the same rows (`job_search`). Raises
        ValueError on a cursor the store did not make (odd id, time without a UTC form in
        range), on every engine."""

    async def count(self) -> int:
        """Number of rows."""

    async def ping(self) -> bool:
        """True when the store answers now."""

    async def close(self) -> None:
        """Release connections."""

    async def accept(self, pendings: Sequence[Pending]) -> None:
        """Rows for accepted jobs, atomically: a job without a row gets one, PENDING; a
        rerun (run > 1) moves its row to PENDING with the new run only while the row is
        still FAILED with a lower run. Any other row is left as it is (the processor got
        there first). InvalidMessage, nothing written, when any value is refused."""

    async def cancel(self, job_id: str, at: datetime) -> tuple[str, bool] | None:
        """Cancel a job that waits, atomically: a PENDING row, or an EXECUTING one whose
        latest attempt is finished (a retry is due), becomes CANCELLED (terminal). Returns
        the row's status afterwards and whether this call cancelled it: (CANCELLED, True),
        or (the status that kept it from being cancelled, False), CANCELLED too for a job
        cancelled before. None when there is no such job (also for an id that is no UUID)."""

    async def count_matching(self, filter: JobFilter) -> int:
        """How many jobs `filter` selects (what `page` would walk to the end)."""

    async def expired(self, before: datetime, *, limit: int, after: str = "") -> list[str]:
        """Up to `limit` ids, in id order and greater than `after`, of terminal jobs last
        updated before `before` (what retention may remove)."""

    async def remove(
        self, ids: Sequence[str], *, before: datetime, dry_run: bool = False
    ) -> tuple[int, int]:
        """Delete, with their attempts, those of `ids` that are still terminal and last
        updated before `before`, in one transaction; (jobs, attempts) removed. With
        `dry_run` nothing is deleted and the counts say what would be."""


class Counters(Protocol):
    """Live aggregate counters (Redis or embedded) with exactly-once effects."""

    async def open(self) -> None:
        """Connect."""

    async def apply(self, effects: Sequence[CounterEffect], *, depth_at: int | None = None) -> int:
        """Apply each effect whose key was never applied; return how many were new.

        An effect without deltas or series only moves last_event_time (a max, so repeating
        it is harmless); it claims no key and is not counted as new. An effect's series
        and latency go to the time buckets of its `at` under the same claim. With
        `depth_at` (epoch seconds), the queue depth after the effects is recorded in the
        buckets of that moment (core.stores.series)."""

    async def missing(self, keys: Collection[str]) -> set[str]:
        """Those of `keys` whose effect was never applied: one read, however many keys.

        On Redis an applied key is forgotten after EFFECT_TTL_SECONDS (7 days), and is
        then reported missing again; the embedded counters keep every key."""

    async def snapshot(self) -> CounterSnapshot:
        """Current values."""

    async def series(self, start: int, step: int, points: int) -> list[dict[str, int]]:
        """`points` steps of `step` seconds from `start` (epoch seconds, a multiple of the
        step), oldest first: per step the sums of its time buckets' fields, and `depth`
        the latest depth sample in it (absent when none); {} for a step with no bucket.
        Read from the coarsest level that tiles the step (core.stores.series). Buckets are
        kept at least SERIES_TTL_SECONDS."""

    async def ping(self) -> bool:
        """True when the counters answer now."""

    async def close(self) -> None:
        """Release connections."""


class EventStore(Protocol):
    """Every lifecycle envelope, unique on eventId, and stored dead letters.

    Errors as in the module docstring. Envelopes come back exactly as stored; NUL inside
    their strings is kept (PostgreSQL's json, unlike jsonb, holds it)."""

    async def open(self) -> None:
        """Connect and create tables/collections and indexes."""

    async def insert(self, envelopes: Sequence[dict[str, Any]]) -> list[str]:
        """Store envelopes not yet stored; return the eventIds that were new (canonical).

        Raises InvalidMessage, writing nothing, when any envelope is refused: eventId not
        a UUID, occurredAt without a UTC form in range, JSON orjson cannot encode."""

    async def for_job(self, job_id: str, *, limit: int, newest_first: bool) -> list[dict[str, Any]]:
        """Envelopes of one job (any UUID spelling; [] for an id that is no UUID)."""

    async def recent(self, limit: int) -> list[dict[str, Any]]:
        """Newest envelopes first."""

    async def add_dead_letters(self, letters: Sequence[DeadLetter]) -> int:
        """Store dead letters not yet stored; return how many were new. A letter whose key
        is that of a replayed letter (or the key its replay would have) is that replay
        failing: the replayed letter turns replay_failed with this letter's reason, and
        nothing new is stored."""

    async def dead_letters(self, limit: int) -> list[dict[str, Any]]:
        """Newest dead letters first, each with an `id` (and the fields of find_dead_letters)."""

    async def ping(self) -> bool:
        """True when the store answers now."""

    async def close(self) -> None:
        """Release connections."""

    async def find_dead_letters(self, query: DeadLetterQuery, limit: int) -> list[dict[str, Any]]:
        """Newest first, those matching `query`: the document with `id`, `state` (new,
        replayed, replay_failed), `queue` (topology name or None), `reason`, and when set
        `replayError` and `stateAt`."""

    async def dead_letter(self, letter_id: str) -> dict[str, Any] | None:
        """One dead letter as find_dead_letters shows it; None for an unknown or odd id."""

    async def mark_dead_letter(
        self,
        letter_id: str,
        state: str,
        *,
        at: datetime,
        replay_key: str | None = None,
        error: str | None = None,
    ) -> None:
        """Set a letter's state (and, for a replay, the key its replayed message would
        have if dead-lettered again; for a failure, why)."""

    async def add_audit(self, entries: Sequence[AuditEntry]) -> None:
        """Store audit entries not yet stored (unique on event_id), each filed under the
        canonical ids of its job_ids (ids that are no UUID are not filed). InvalidMessage,
        nothing written, when a value is refused."""

    async def audit(self, limit: int, cursor: str | None) -> AuditPage:
        """Audit entries newest first (AuditEntry.as_dict), keyset-paginated; ValueError on
        a cursor the store did not make."""

    async def audit_for_job(self, job_id: str, limit: int) -> list[dict[str, Any]]:
        """The audit entries filed under a job, oldest first ([] for an id that is no UUID)."""

    async def remove_for_jobs(
        self, job_ids: Sequence[str], *, before: datetime, dry_run: bool = False
    ) -> int:
        """Delete the events of `job_ids` that occurred before `before`; how many (would
        be, with `dry_run`). Ids that are not UUIDs have no events."""

    async def remove_dead_letters(
        self, before: datetime, *, limit: int, dry_run: bool = False
    ) -> int:
        """Delete up to `limit` dead letters rejected before `before`, oldest first; how
        many. With `dry_run` nothing is deleted and every such letter is counted."""

    async def remove_audit(self, before: datetime, *, limit: int, dry_run: bool = False) -> int:
        """Delete up to `limit` audit entries that occurred before `before`, oldest first,
        with their filing under jobs; how many. With `dry_run` nothing is deleted and
        every such entry is counted."""
