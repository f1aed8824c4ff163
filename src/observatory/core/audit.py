"""Audit entries for write actions (SPEC §13): submit, retry, cancel, replay, bulk replay
(and, wired by the lead, bulk retry and purge), stored through the EventStore.

`record` writes one entry now (an operator's action: the answer waits for it, so the
audit is never behind what the operator was told). `later` queues one for a batch
writer instead (submit, on the gateway's hot path). A failure to record never fails the
action: it is logged (`log` below) and the action's own answer stands.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import structlog

from observatory.core.clock import Clock
from observatory.core.errors import DependencyDown, InvalidMessage
from observatory.core.stores.ports import EventStore
from observatory.core.stores.records import AuditEntry

log = structlog.get_logger("observatory.audit")


class Auditor:
    """Builds audit entries and stores them (see module docstring)."""

    def __init__(
        self,
        events: EventStore,
        clock: Clock,
        *,
        queue: Callable[[AuditEntry], None] | None = None,
    ) -> None:
        self.events, self.clock = events, clock
        self.queue = queue

    def entry(
        self,
        *,
        action: str,
        actor: str,
        target: str,
        result: dict[str, Any],
        correlation_id: str,
        filter: dict[str, Any] | None = None,
        job_ids: Sequence[str] = (),
    ) -> AuditEntry:
        return AuditEntry(
            event_id=self.clock.new_id(),
            action=action,
            actor=actor,
            target=target,
            result=result,
            correlation_id=correlation_id,
            occurred_at=self.clock.now(),
            filter=filter,
            job_ids=tuple(job_ids),
        )

    async def record(
        self,
        *,
        action: str,
        actor: str,
        target: str,
        result: dict[str, Any],
        correlation_id: str,
        filter: dict[str, Any] | None = None,
        job_ids: Sequence[str] = (),
    ) -> None:
        entry = self.entry(
            action=action,
            actor=actor,
            target=target,
            result=result,
            correlation_id=correlation_id,
            filter=filter,
            job_ids=job_ids,
        )
        try:
            await self.events.add_audit([entry])
        except (DependencyDown, InvalidMessage) as exc:
            log.warning("audit entry not recorded", action=action, target=target, error=str(exc))

    def later(self, entry: AuditEntry) -> None:
        """Queue `entry` for the batch writer (or write nothing when there is none)."""
        if self.queue is not None:
            self.queue(entry)
