"""Gateway routes: job intake, retry, and the Alertmanager/Prometheus proxies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import orjson
import structlog
from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from observatory.core.actor import actor_of
from observatory.core.audit import Auditor
from observatory.core.bus.port import Bus, Outgoing
from observatory.core.clock import Clock
from observatory.core.contracts.envelope import Producer
from observatory.core.contracts.ids import canonical_uuid
from observatory.core.contracts.job_request import request_schema
from observatory.core.contracts.vocabulary import EventType, JobStatus
from observatory.core.errors import (
    Conflict,
    DependencyDown,
    InvalidMessage,
    NotFound,
    OutcomeUnknown,
)
from observatory.core.http import (
    RETRY_AFTER_SECONDS,
    Reply,
    error_reply,
    is_json,
    json_error,
    reply_for,
    token_denied,
)
from observatory.core.stores.ports import EventStore, JobStore
from observatory.core.stores.records import AuditEntry
from observatory.services.gateway.batch_writer import BatchWriter
from observatory.services.gateway.bulk_retry import (
    BULK_HELP,
    BULK_SCHEMA,
    BulkRetry,
    audit_filter,
    parse_request,
    retry_envelope,
)
from observatory.services.gateway.cancel import cancelled_event, cannot_cancel
from observatory.services.gateway.intake import created_event, normalise_job, parse_body
from observatory.services.gateway.metrics import GatewayMetrics
from observatory.services.gateway.pending import PendingWriter, pending_of
from observatory.services.gateway.replay import Replayer, job_ids_of, parse_bulk

log = structlog.get_logger("observatory.gateway")

ACCEPTED: dict[int | str, dict[str, Any]] = {"202": {"description": "Accepted: `{jobId, eventId}`"}}


def unknown_outcome(job_id: str) -> Reply:
    """503 for a job that may or may not be on the bus: the broker took the message but
    its confirm never came. Submitting the same id again is safe (idempotent by id)."""
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
    """Holds what the routes need; `router` exposes them."""

    def __init__(
        self,
        *,
        bus: Bus,
        jobs: JobStore,
        events: EventStore,
        clock: Clock,
        metrics: GatewayMetrics,
        token: str | None,
        alertmanager_url: str | None,
        prometheus_url: str | None,
        proxy_timeout: float,
        pending_rows: bool = True,
    ) -> None:
        self.bus, self.jobs, self.clock, self.metrics = bus, jobs, clock, metrics
        self.pending_rows = pending_rows
        self.token = token
        self.upstreams = {"alertmanager": alertmanager_url, "prometheus": prometheus_url}
        self.proxy_timeout = proxy_timeout
        self.producer = Producer.for_service("gateway")
        self.http = httpx.AsyncClient(timeout=proxy_timeout)
        self.pending = PendingWriter(jobs)
        self.audit_writer: BatchWriter[AuditEntry] = BatchWriter(events.add_audit, name="audit")
        self.auditor = Auditor(events, clock, queue=self.audit_writer.add)
        self.events = events
        self.replayer = Replayer(bus=bus, events=events, clock=clock)
        self.router = APIRouter()
        self.router.add_api_route(
            "/jobs",
            self.submit,
            methods=["POST"],
            status_code=202,
            tags=["jobs"],
            summary="Submit a job (full Job or short form {type, payload?, metadata?, id?})",
            responses={
                **ACCEPTED,
                "400": {"description": "Invalid"},
                "413": {"description": "Too large"},
                "415": {"description": "Not JSON"},
                "503": {"description": "Broker down"},
            },
            openapi_extra={
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": request_schema()}},
                }
            },
        )
        self.router.add_api_route(
            "/jobs/{job_id}/retry",
            self.retry,
            methods=["POST"],
            status_code=202,
            tags=["jobs"],
            summary="Run a FAILED job again",
            responses={**ACCEPTED, "404": {}, "409": {}},
        )
        self.bulk = BulkRetry(jobs=jobs, bus=bus, producer=self.producer, clock=clock)
        self.router.add_api_route(
            "/jobs/retry",
            self.bulk_retry,
            methods=["POST"],
            tags=["jobs"],
            summary="Run again the FAILED jobs a filter selects (dry run: count only)",
            description=BULK_HELP,
            responses={
                "200": {"description": "`{matched, retried, jobIds}`"},
                "400": {"description": "Malformed, or more than 1,000 match without a limit"},
                "503": {"description": "Broker down midway: what was retried, repeat to resume"},
            },
            openapi_extra={
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": BULK_SCHEMA}},
                }
            },
        )
        self.router.add_api_route(
            "/jobs/{job_id}/cancel",
            self.cancel,
            methods=["POST"],
            tags=["jobs"],
            summary="Cancel a PENDING job or one waiting for a retry",
            responses={
                "200": {"description": '`{jobId, status: "CANCELLED"}`'},
                "404": {"description": "Unknown job"},
                "409": {"description": "Running or finished: `{error, status}`"},
            },
        )
        self.router.add_api_route(
            "/dead-letters/replay",
            self.replay_many,
            methods=["POST"],
            tags=["dead letters"],
            summary="Replay the new dead letters a filter matches ({filter, dryRun?, limit?})",
            responses={
                "200": {"description": "`{matched, replayed, failed}`"},
                "400": {"description": "Invalid filter, or more than 1,000 without a limit"},
            },
        )
        self.router.add_api_route(
            "/dead-letters/{letter_id}/replay",
            self.replay_one,
            methods=["POST"],
            status_code=202,
            tags=["dead letters"],
            summary="Replay one dead letter (checked again like a new message)",
            responses={
                "202": {"description": "`{deadLetterId, state}`"},
                "404": {"description": "Unknown dead letter"},
                "409": {"description": "Replayed already: `{error, state}`"},
                "422": {"description": "Invalid again: `{error, details, deadLetterId, state}`"},
            },
        )
        self.router.add_api_route(
            "/proxy/alerts",
            self.proxy_alerts,
            methods=["GET"],
            tags=["proxy"],
            summary="Active alerts from Alertmanager /api/v2/alerts",
        )
        self.router.add_api_route(
            "/proxy/targets",
            self.proxy_targets,
            methods=["GET"],
            tags=["proxy"],
            summary="Scrape targets from Prometheus /api/v1/targets",
        )

    def _denied(self, authorization: str) -> Reply | None:
        return token_denied(self.token, authorization)

    def _authorise(self, request: Request) -> Response | None:
        denied = self._denied(request.headers.get("authorization", ""))
        return denied.response() if denied else None

    def _actor(self, request: Request) -> str:
        return actor_of(request.headers, token=self.token)

    async def _audit(
        self,
        request: Request,
        *,
        action: str,
        target: str,
        result: dict[str, Any],
        job_ids: Sequence[str] = (),
        filter: dict[str, Any] | None = None,
    ) -> None:
        await self.audit_writer.flush()  # queued submits first: the audit keeps their order
        await self.auditor.record(
            action=action,
            actor=self._actor(request),
            target=target,
            result=result,
            correlation_id=request.scope["state"]["correlation_id"],
            filter=filter,
            job_ids=job_ids,
        )

    async def _publish(self, envelope: dict[str, Any]) -> Reply:
        message = Outgoing(
            EventType.CREATED, orjson.dumps(envelope), message_id=envelope["eventId"]
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
        authorization: str,
        correlation_id: str,
        actor: str = "anonymous",
    ) -> Reply:
        """POST /jobs without a framework: what both the route and the gateway's plain-ASGI
        lane (lane.py) answer."""
        denied = self._denied(authorization)
        if denied:
            return denied
        if not is_json(content_type):
            self.metrics.submitted.labels("invalid").inc()
            return error_reply(415, "Content-Type must be application/json")
        try:
            job = normalise_job(parse_body(body), self.clock)
        except InvalidMessage as exc:
            self.metrics.submitted.labels("invalid").inc()
            return reply_for(exc) or error_reply(400, exc.reason)
        self.metrics.submitted.labels(self.metrics.type_label(job["type"])).inc()
        envelope = created_event(
            job, producer=self.producer, clock=self.clock, correlation_id=correlation_id
        )
        try:
            reply = await self._publish(envelope)
        except OutcomeUnknown:
            return unknown_outcome(job["id"])
        except DependencyDown as exc:
            return reply_for(exc) or error_reply(503, "bus unavailable")
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

    async def submit(self, request: Request) -> Response:
        reply = await self.accept(
            body=await request.body(),
            content_type=request.headers.get("content-type", ""),
            authorization=request.headers.get("authorization", ""),
            correlation_id=request.scope["state"]["correlation_id"],
            actor=self._actor(request),
        )
        return reply.response()

    async def retry(self, job_id: str, request: Request) -> Response:
        denied = self._authorise(request)
        if denied:
            return denied
        # Any spelling of a UUID names the job (ids.py); anything else is no job of ours.
        canonical = canonical_uuid(job_id)
        record = await self.jobs.get(canonical) if canonical else None
        if record is None:
            raise NotFound(f"Job {job_id} not found")
        if record.status != JobStatus.FAILED:
            raise Conflict(f"Job {job_id} is {record.status}; only FAILED jobs can be retried")
        envelope = retry_envelope(
            record,
            producer=self.producer,
            clock=self.clock,
            correlation_id=request.scope["state"]["correlation_id"],
        )
        reply = await self._publish(envelope)
        await self._audit(
            request,
            action="retry",
            target=record.id,
            result={"status": reply.status, "run": record.run + 1},
            job_ids=(record.id,),
        )
        return reply.response()

    async def bulk_retry(self, request: Request) -> Response:
        denied = self._authorise(request)
        if denied:
            return denied
        if not is_json(request.headers.get("content-type", "")):
            return json_error(415, "Content-Type must be application/json")
        asked = parse_request(await request.body())
        reply = await self.bulk.run(asked, correlation_id=request.scope["state"]["correlation_id"])
        if not asked.dry_run and "retried" in reply.body:  # also a 503 midway: some went
            await self._audit(
                request,
                action="bulk-retry",
                target="jobs",
                result={"matched": reply.body["matched"], "retried": reply.body["retried"]},
                filter=audit_filter(asked.filter),
                job_ids=reply.body["jobIds"],
            )
        if reply.status == 200:
            self.metrics.accepted.inc(reply.body["retried"])
        return reply.response()

    async def _proxy(self, name: str, path: str) -> Response:
        base = self.upstreams[name]
        label = name.capitalize()
        if not base:
            return json_error(502, f"{label} unavailable", f"{name} is not configured")
        try:
            upstream = await self.http.get(
                base.rstrip("/") + path, headers={"Accept": "application/json"}
            )
        except httpx.TimeoutException:
            return json_error(504, f"{label} timeout")
        except httpx.HTTPError as exc:
            return json_error(502, f"{label} unavailable", type(exc).__name__)
        try:
            body = upstream.json()
        except ValueError:
            return json_error(502, f"{label} unavailable", "upstream did not answer JSON")
        return JSONResponse(body, status_code=upstream.status_code)

    async def proxy_alerts(self) -> Response:
        return await self._proxy("alertmanager", "/api/v2/alerts")

    async def proxy_targets(self) -> Response:
        return await self._proxy("prometheus", "/api/v1/targets")

    async def cancel(self, job_id: str, request: Request) -> Response:
        """POST /jobs/{id}/cancel (cancel.py)."""
        denied = self._authorise(request)
        if denied:
            return denied
        canonical = canonical_uuid(job_id)
        if canonical is None:
            raise NotFound(f"Job {job_id} not found")
        await self.pending.flush()  # a job accepted a moment ago has its row now
        status = await self.jobs.cancel(canonical, self.clock.now())
        record = await self.jobs.get(canonical) if status is not None else None
        if status is None or record is None:
            raise NotFound(f"Job {job_id} not found")
        if status != JobStatus.CANCELLED:
            await self._audit(
                request,
                action="cancel",
                target=record.id,
                result={"status": 409, "jobStatus": status},
                job_ids=(record.id,),
            )
            return cannot_cancel(job_id, status).response()
        event = cancelled_event(
            record,
            producer=self.producer,
            clock=self.clock,
            correlation_id=request.scope["state"]["correlation_id"],
        )
        await self.bus.publish_many([event])
        await self._audit(
            request,
            action="cancel",
            target=record.id,
            result={"status": 200, "jobStatus": JobStatus.CANCELLED.value},
            job_ids=(record.id,),
        )
        return JSONResponse({"jobId": record.id, "status": JobStatus.CANCELLED.value})

    async def replay_one(self, letter_id: str, request: Request) -> Response:
        """POST /dead-letters/{id}/replay (replay.py)."""
        denied = self._authorise(request)
        if denied:
            return denied
        reply, letter = await self.replayer.one(letter_id)
        if letter is not None:
            await self._audit(
                request,
                action="replay",
                target=f"dead-letter:{letter_id}",
                result={"status": reply.status, "state": reply.body.get("state")},
                job_ids=job_ids_of([letter]),
            )
        return reply.response()

    async def replay_many(self, request: Request) -> Response:
        """POST /dead-letters/replay (replay.py)."""
        denied = self._authorise(request)
        if denied:
            return denied
        if not is_json(request.headers.get("content-type", "")):
            return json_error(415, "Content-Type must be application/json")
        bulk = parse_bulk(parse_body(await request.body()))
        result = await self.replayer.bulk(bulk)
        if isinstance(result, Reply):
            return result.response()
        await self._audit(
            request,
            action="bulk-replay",
            target="dead-letters",
            result={**result.as_dict(), "dryRun": bulk.dry_run},
            filter=bulk.filter,
            job_ids=result.job_ids,
        )
        return JSONResponse(result.as_dict())
