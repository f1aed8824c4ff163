"""PENDING rows for accepted jobs, written in batches off the request path.

`POST /jobs` (and a retry) answers 202 once the job is on the bus; then it only queues a
`Pending` row here (batch_writer.py). The row is for visibility only: the processor
creates or moves the row anyway, and accept() never moves a row the processor wrote.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from observatory.core.clock import parse_iso
from observatory.core.stores.ports import JobStore
from observatory.core.stores.records import Pending
from observatory.services.gateway.batch_writer import BatchWriter


def pending_of(envelope: dict[str, Any], at: datetime) -> Pending:
    """The PENDING row of a job.created envelope the gateway just published."""
    job = envelope["payload"]
    return Pending(
        job_id=job["id"],
        type=job["type"],
        payload=job.get("payload") or {},
        metadata=job.get("metadata") or {},
        created_at=parse_iso(job["createdAt"]),
        run=int(job.get("run") or 1),
        event_id=envelope["eventId"],
        correlation_id=envelope["correlationId"],
        at=at,
    )


class PendingWriter(BatchWriter[Pending]):
    """Writes PENDING rows through `JobStore.accept`."""

    def __init__(self, jobs: JobStore, **options: Any) -> None:
        super().__init__(jobs.accept, name="pending", **options)
