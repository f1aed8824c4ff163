"""The processor's lifecycle announcements: one envelope per transition, with a
deterministic event id (so re-announcing after a crash repeats the same id)."""

from __future__ import annotations

from datetime import datetime

import orjson

from observatory.core.bus.port import Outgoing
from observatory.core.clock import Clock, iso
from observatory.core.contracts.envelope import Producer, build_envelope
from observatory.core.contracts.vocabulary import EventType, JobStatus
from observatory.services.processor.lifecycle import Work, event_id


class Announcer:
    """Builds the processor's events for one job's work."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.producer = Producer.for_service("processor")

    def terminal(
        self, w: Work, status: str, error: str | None, at: datetime, attempts: int | None = None
    ) -> Outgoing:
        event_type = EventType.COMPLETED if status == JobStatus.COMPLETED else EventType.FAILED
        return self.event(
            w, event_type, status, at, step=status.lower(), error=error, attempts=attempts
        )

    def event(
        self,
        w: Work,
        event_type: str,
        status: str,
        at: datetime,
        *,
        step: str,
        error: str | None = None,
        attempts: int | None = None,
    ) -> Outgoing:
        job = {
            **w.job,
            "status": status,
            "updatedAt": iso(at),
            "attempts": attempts or w.attempt,
            "run": w.run,
        }
        if error:
            job["error"] = error
        envelope = build_envelope(
            event_type,
            job,
            producer=self.producer,
            clock=self.clock,
            correlation_id=str(w.envelope["correlationId"]),
            idempotency_key=f"{w.job_id}:{w.run}:{step}",
            event_id=event_id(w.job_id, w.run, step),
            occurred_at=iso(at),
            trace_id=_trace_of(w),
        )
        return Outgoing(event_type, orjson.dumps(envelope), message_id=envelope["eventId"])


def _trace_of(w: Work) -> str | None:
    """The job's trace: the one its job.created message names (made in the gateway)."""
    found = w.envelope.get("traceId")
    return found if isinstance(found, str) else None
