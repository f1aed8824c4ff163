"""Job intake: `POST /jobs`, and what the other gateway routes borrow from it.

`GatewayRoutes.accept` is the one decision for a submitted job, answered by the FastAPI
route (`submit`) and by the plain-ASGI lane (lane.py) alike. The class also holds what
every write route shares: the actor (access itself is checked at the edge,
core/access_http.py, by the table in roles.py), the publish path (bus, accepted
counter, PENDING row) and the batched audit writer. The route table is router.py; the
operator's actions are operate_routes.py, the read proxies proxies.py.
"""

from __future__ import annotations

from typing import Any

import orjson
import structlog
from fastapi import Request
from starlette.responses import Response

from observatory.core.access_http import identity_of
from observatory.core.actor import actor_of
from observatory.core.audit import Auditor
from observatory.core.bus.port import Bus, Outgoing
from observatory.core.clock import Clock
from observatory.core.contracts.envelope import Producer
from observatory.core.contracts.vocabulary import EventType
from observatory.core.errors import DependencyDown, InvalidMessage, OutcomeUnknown
from observatory.core.http import (
    RETRY_AFTER_SECONDS,
    Reply,
    error_reply,
    is_json,
    reply_for,
)
from observatory.core.stores.ports import EventStore, JobStore
from observatory.core.stores.records import AuditEntry
from observatory.services.gateway.batch_writer import BatchWriter
from observatory.services.gateway.intake import created_event, normalise_job, parse_body
from observatory.services.gateway.metrics import GatewayMetrics
from observatory.services.gateway.pending import PendingWriter, pending_of
from observatory.services.gateway.resubmits import (
    Resubmits,
    Submitted,
    body_digest,
    message_bytes,
)

log = structlog.get_logger("observatory.gateway")


def unknown_outcome(job_id: str) -> Reply:
    """503 for a job that may or may not be on the bus: the broker took the message but
    its confirm never came (or it refused it twice, which may leave copies in some of
    the queues it routes to). Submitting the same id again is safe (idempotent by id)."""
    return Reply(
        503,
        {
            "error": "bus did not confirm the job in time; retry with the same id",
            "jobId": job_id,
            "outcome": "unknown",
        },
        {"Retry-After": RETRY_AFTER_SECONDS},
    )


class GatewayRoutes:
    """The intake and what the other routes share (see module docstring)."""

    def __init__(
        self,
        *,
        bus: Bus,
        jobs: JobStore,
        events: EventStore,
        clock: Clock,
        metrics: GatewayMetrics,
        pending_rows: bool = True,
    ) -> None:
        self.bus, self.jobs, self.events = bus, jobs, events
        self.clock, self.metrics = clock, metrics
        self.pending_rows = pending_rows
        self.producer = Producer.for_service("gateway")
        self.pending = PendingWriter(jobs)
        self.resubmits = Resubmits(clock)
        self.audit_writer: BatchWriter[AuditEntry] = BatchWriter(events.add_audit, name="audit")
        self.auditor = Auditor(events, clock, queue=self.audit_writer.add)

    def actor(self, request: Request) -> str:
        return actor_of(request.headers, identity_of(request.scope))

    async def publish(self, envelope: dict[str, Any], body: bytes | None = None) -> Reply:
        """Publish a job.created envelope (a submit or a retry; `body`: its bytes when
        they were made before, for a resubmit) and queue its PENDING row; the 202 answer."""
        message = Outgoing(
            EventType.CREATED,
            orjson.dumps(envelope) if body is None else body,
            message_id=envelope["eventId"],
        )
        await self.bus.publish_many([message])
        self.metrics.accepted.inc()
        try:  # off the request path: the row only makes the job visible sooner
            if self.pending_rows:
                self.pending.add(pending_of(envelope, self.clock.now()))
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            log.warning("no PENDING row for job", job_id=envelope["payload"]["id"], error=str(exc))
        return Reply(202, {"jobId": envelope["payload"]["id"], "eventId": envelope["eventId"]})

    async def accept(
        self,
        *,
        body: bytes,
        content_type: str,
        correlation_id: str,
        actor: str = "anonymous",
    ) -> Reply:
        """POST /jobs without a framework: what both the route and the gateway's plain-ASGI
        lane (lane.py) answer, once access (core/access_http.py) let the request in."""
        if not is_json(content_type):
            self.metrics.submitted.labels("invalid").inc()
            return error_reply(415, "Content-Type must be application/json")
        try:
            fields = parse_body(body)
            job = normalise_job(fields, self.clock)
        except InvalidMessage as exc:
            self.metrics.submitted.labels("invalid").inc()
            return reply_for(exc) or error_reply(400, exc.reason)
        self.metrics.submitted.labels(self.metrics.type_label(job["type"])).inc()
        found = self._submitted(fields, job, correlation_id)
        if isinstance(found, Reply):
            return found
        submitted, envelope = found
        try:
            reply = await self.publish(envelope, submitted.message)
        except OutcomeUnknown:
            self.resubmits.outcome_unknown(job["id"], submitted)
            return unknown_outcome(job["id"])
        except DependencyDown as exc:
            return reply_for(exc) or error_reply(503, "bus unavailable")
        finally:
            self.resubmits.settled(job["id"], submitted)
        self.resubmits.confirmed(job["id"], submitted)
        # audit: off the request path, batched like the PENDING row
        self.auditor.later(
            self.auditor.entry(
                action="submit",
                actor=actor,
                target=job["id"],
                result={"status": 202, "eventId": envelope["eventId"]},
                correlation_id=correlation_id,
                job_ids=(job["id"],),
            )
        )
        return reply

    def _submitted(
        self, fields: dict[str, Any], job: dict[str, Any], correlation_id: str
    ) -> tuple[Submitted, dict[str, Any]] | Reply:
        """The job.created to publish, and its envelope: the remembered one for a resubmit
        of the same body (resubmits.py), a 409 for the same id with another body, else a
        new one. (A body without an id is the same body as that body with the id the
        gateway gave it.)"""
        digest = body_digest(fields, job["id"])
        known = self.resubmits.recall(job["id"]) if "id" in fields else None
        if known is not None:
            if known.digest == digest:
                return known, orjson.loads(known.message)
            return Reply(
                409,
                {
                    "error": "this job id was submitted with another body; "
                    "send the first body again, or use a new id",
                    "jobId": job["id"],
                },
            )
        envelope = created_event(
            job, producer=self.producer, clock=self.clock, correlation_id=correlation_id
        )
        submitted = Submitted(digest, message_bytes(envelope))
        self.resubmits.publishing(job["id"], submitted)
        return submitted, envelope

    async def submit(self, request: Request) -> Response:
        reply = await self.accept(
            body=await request.body(),
            content_type=request.headers.get("content-type", ""),
            correlation_id=request.scope["state"]["correlation_id"],
            actor=self.actor(request),
        )
        return reply.response()
