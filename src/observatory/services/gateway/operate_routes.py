"""The operator's write actions on the gateway (SPEC §13), each audited.

- `POST /jobs/{id}/retry`: a FAILED job runs again (409 `{error, status}` otherwise).
- `POST /jobs/retry`: the FAILED jobs a filter selects (bulk_retry.py), dry run first.
- `POST /jobs/{id}/cancel`: a waiting job becomes CANCELLED (cancel.py).
- `POST /dead-letters/{id}/replay`, `POST /dead-letters/replay`: replay.py.

Every answer that did something, or counted what it would do (a dry run), leaves an audit
entry (core/audit.py) before it is sent, so the audit is never behind what the operator
was told. The intake (routes.py) lends its publish path and its audit
writer: submits queued there are written before an operator's entry, keeping the order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Request
from starlette.responses import JSONResponse, Response

from observatory.core.contracts.ids import canonical_uuid
from observatory.core.contracts.vocabulary import JobStatus
from observatory.core.errors import NotFound
from observatory.core.http import Reply, is_json, json_error
from observatory.services.gateway.bulk_retry import (
    BulkRetry,
    audit_filter,
    parse_request,
    retry_envelope,
)
from observatory.services.gateway.cancel import cancelled_event, cannot_cancel, cannot_retry
from observatory.services.gateway.intake import parse_body
from observatory.services.gateway.replay import Replayer, job_ids_of, parse_bulk
from observatory.services.gateway.routes import GatewayRoutes


class OperateRoutes:
    """Retry, bulk retry, cancel and replay over the intake's ports (see module docstring)."""

    def __init__(self, intake: GatewayRoutes, *, replayer: Replayer, bulk: BulkRetry) -> None:
        self.intake = intake
        self.jobs, self.bus, self.clock = intake.jobs, intake.bus, intake.clock
        self.replayer, self.bulk = replayer, bulk

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
        await self.intake.audit_writer.flush()  # queued submits first: the audit keeps order
        await self.intake.auditor.record(
            action=action,
            actor=self.intake.actor(request),
            target=target,
            result=result,
            correlation_id=request.scope["state"]["correlation_id"],
            filter=filter,
            job_ids=job_ids,
        )

    async def retry(self, job_id: str, request: Request) -> Response:
        # Any spelling of a UUID names the job (ids.py); anything else is no job of ours.
        canonical = canonical_uuid(job_id)
        record = await self.jobs.get(canonical) if canonical else None
        if record is None:
            raise NotFound(f"Job {job_id} not found")
        if record.status != JobStatus.FAILED:
            return cannot_retry(job_id, record.status).response()
        envelope = retry_envelope(
            record,
            producer=self.intake.producer,
            clock=self.clock,
            correlation_id=request.scope["state"]["correlation_id"],
        )
        reply = await self.intake.publish(envelope)
        await self._audit(
            request,
            action="retry",
            target=record.id,
            result={"status": reply.status, "run": record.run + 1},
            job_ids=(record.id,),
        )
        return reply.response()

    async def bulk_retry(self, request: Request) -> Response:
        if not is_json(request.headers.get("content-type", "")):
            return json_error(415, "Content-Type must be application/json")
        asked = parse_request(await request.body())
        reply = await self.bulk.run(asked, correlation_id=request.scope["state"]["correlation_id"])
        if "retried" in reply.body:  # also a dry run, and a 503 midway: some went
            await self._audit(
                request,
                action="bulk-retry",
                target="jobs",
                result={
                    "matched": reply.body["matched"],
                    "retried": reply.body["retried"],
                    "dryRun": asked.dry_run,
                },
                filter=audit_filter(asked.filter),
                job_ids=reply.body["jobIds"],
            )
        if reply.status == 200:
            self.intake.metrics.accepted.inc(reply.body["retried"])
        return reply.response()

    async def cancel(self, job_id: str, request: Request) -> Response:
        """POST /jobs/{id}/cancel (cancel.py)."""
        canonical = canonical_uuid(job_id)
        if canonical is None:
            raise NotFound(f"Job {job_id} not found")
        await self.intake.pending.flush()  # a job accepted a moment ago has its row now
        outcome = await self.jobs.cancel(canonical, self.clock.now())
        record = await self.jobs.get(canonical) if outcome is not None else None
        if outcome is None or record is None:
            raise NotFound(f"Job {job_id} not found")
        status, cancelled_now = outcome
        if status == JobStatus.CANCELLED:
            # Announced now, or announced again for a job cancelled before: the event id
            # is the same, so consumers count it once, and a job.cancelled lost with an
            # earlier answer (a 503 after the row changed) is not lost for good.
            await self.bus.publish_many(
                [
                    cancelled_event(
                        record,
                        producer=self.intake.producer,
                        clock=self.clock,
                        correlation_id=request.scope["state"]["correlation_id"],
                    )
                ]
            )
        if not cancelled_now:
            await self._audit(
                request,
                action="cancel",
                target=record.id,
                result={"status": 409, "jobStatus": status},
                job_ids=(record.id,),
            )
            return cannot_cancel(job_id, status).response()
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
