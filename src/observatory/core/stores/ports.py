"""The storage ports. Each adapter raises DependencyDown when its backend fails."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from observatory.core.stores.records import (
    AttemptEnd,
    AttemptStart,
    CounterEffect,
    CounterSnapshot,
    DeadLetter,
    JobPage,
    JobRecord,
    JobState,
)


class JobStore(Protocol):
    """Authoritative job state and attempt history (PostgreSQL or SQLite)."""

    async def open(self) -> None:
        """Connect and apply pending migrations."""

    async def load(self, ids: Sequence[str]) -> dict[str, JobState]:
        """Current state of the rows that exist among `ids`."""

    async def begin(self, starts: Sequence[AttemptStart]) -> None:
        """Create or update rows to EXECUTING and record attempt starts, atomically."""

    async def finish(self, ends: Sequence[AttemptEnd]) -> None:
        """Record attempt ends and the resulting statuses, atomically."""

    async def get(self, job_id: str) -> JobRecord | None:
        """The job with its attempt history, or None."""

    async def recent(self, limit: int) -> list[JobRecord]:
        """Newest jobs first."""

    async def page(
        self, *, status: str | None, type: str | None, limit: int, cursor: str | None
    ) -> JobPage:
        """One page of jobs newest first (keyset pagination). Raises ValueError on a bad cursor."""

    async def count(self) -> int:
        """Number of rows."""

    async def ping(self) -> bool:
        """True when the store answers now."""

    async def close(self) -> None:
        """Release connections."""


class Counters(Protocol):
    """Live aggregate counters (Redis or embedded) with exactly-once effects."""

    async def open(self) -> None:
        """Connect."""

    async def apply(self, effects: Sequence[CounterEffect]) -> int:
        """Apply each effect whose key was never applied; return how many were new.

        An effect without deltas only moves last_event_time (a max, so repeating it is
        harmless); it claims no key and is not counted as new."""

    async def snapshot(self) -> CounterSnapshot:
        """Current values."""

    async def ping(self) -> bool:
        """True when the counters answer now."""

    async def close(self) -> None:
        """Release connections."""


class EventStore(Protocol):
    """Every lifecycle envelope, unique on eventId, and stored dead letters."""

    async def open(self) -> None:
        """Connect and create tables/collections and indexes."""

    async def insert(self, envelopes: Sequence[dict[str, Any]]) -> list[str]:
        """Store envelopes not yet stored; return the eventIds that were new."""

    async def for_job(self, job_id: str, *, limit: int, newest_first: bool) -> list[dict[str, Any]]:
        """Envelopes of one job."""

    async def recent(self, limit: int) -> list[dict[str, Any]]:
        """Newest envelopes first."""

    async def add_dead_letters(self, letters: Sequence[DeadLetter]) -> int:
        """Store dead letters not yet stored; return how many were new."""

    async def dead_letters(self, limit: int) -> list[dict[str, Any]]:
        """Newest dead letters first, each with an `id`."""

    async def ping(self) -> bool:
        """True when the store answers now."""

    async def close(self) -> None:
        """Release connections."""
