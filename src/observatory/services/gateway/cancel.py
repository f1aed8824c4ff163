"""Cancelling a job that waits: the job store decides (atomically), the gateway answers
and announces. Also the 409 of a single retry, which has the same shape.

- 200 `{jobId, status: "CANCELLED"}` when this request cancelled the job.
- 409 `{error, status}` when the job runs or has finished, CANCELLED included (SPEC §13).
  A job cancelled before is announced again with the same event id, which every consumer
  deduplicates: a client whose first answer was lost (or a 503 after the row changed but
  before job.cancelled was confirmed) asks again and learns it is CANCELLED, and the
  announcement is out by the time it is told so.
- 404 for an unknown id.
"""

from __future__ import annotations

import uuid
from typing import Any

import orjson

from observatory.core.bus.port import Outgoing
from observatory.core.clock import Clock, iso
from observatory.core.contracts.envelope import Producer, build_envelope
from observatory.core.contracts.vocabulary import EventType, JobStatus
from observatory.core.http import Reply
from observatory.core.stores.records import JobRecord
from observatory.core.tracing.spans import trace_id

CANCEL_NAMESPACE = uuid.UUID("0c4f1b55-2f0e-4d7e-9a0b-6a5c9e3d8f21")


def cancelled_event(
    record: JobRecord, *, producer: Producer, clock: Clock, correlation_id: str
) -> Outgoing:
    """job.cancelled carrying the job as it is now; one event id per job run."""
    job: dict[str, Any] = {
        "id": record.id,
        "type": record.type,
        "status": JobStatus.CANCELLED.value,
        "createdAt": iso(record.created_at),
        "updatedAt": iso(record.updated_at),
        "payload": record.payload,
        "metadata": record.metadata,
        "attempts": record.attempts,
        "run": record.run,
    }
    key = f"{record.id}:{record.run}:cancelled"
    envelope = build_envelope(
        EventType.CANCELLED,
        job,
        producer=producer,
        clock=clock,
        correlation_id=correlation_id,
        idempotency_key=key,
        event_id=str(uuid.uuid5(CANCEL_NAMESPACE, key)),
        occurred_at=iso(record.updated_at),
        trace_id=trace_id(),
    )
    return Outgoing(EventType.CANCELLED, orjson.dumps(envelope), message_id=envelope["eventId"])


def cannot_cancel(job_id: str, status: str) -> Reply:
    return Reply(
        409,
        {
            "error": f"Job {job_id} is {status}; only PENDING jobs or jobs waiting for a retry"
            " can be cancelled",
            "status": status,
        },
    )


def cannot_retry(job_id: str, status: str) -> Reply:
    return Reply(
        409,
        {"error": f"Job {job_id} is {status}; only FAILED jobs can be retried", "status": status},
    )
