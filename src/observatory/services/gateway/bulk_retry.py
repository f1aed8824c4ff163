"""POST /jobs/retry: run again the FAILED jobs a filter selects (SPEC §13).

    body {filter: {type?, from?, to?, error?}, dryRun?: bool, limit?: int}
    →    {matched, retried, jobIds}

At most MAX_JOBS jobs a request: `limit` defaults to it and may not exceed it, and a
filter matching more without a `limit` is refused (400 saying so), so an operator
never retries more than they asked for. A dry run only counts.

Safe to repeat, also after a request stopped midway: a job is selected only while its
row is FAILED, and each is published as job.created with run = its row's run + 1, like
`POST /jobs/{id}/retry`. A repeat before the processor took the first copy publishes
the same run again, which the processor runs once (`processor.lifecycle.decide`: the
second copy finds the run begun or finished). Jobs are published in batches, each
awaiting the broker's confirms; when the broker fails midway the answer is 503 with
exactly what was published (`retried`, `jobIds`) and what may or may not have been
(`unconfirmed`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import orjson

from observatory.core.bus.port import Bus, Outgoing
from observatory.core.clock import Clock, iso
from observatory.core.contracts.envelope import Producer
from observatory.core.contracts.validator import Violation
from observatory.core.contracts.vocabulary import EventType, JobStatus
from observatory.core.errors import DependencyDown, InvalidMessage, OutcomeUnknown
from observatory.core.http import RETRY_AFTER_SECONDS, Reply
from observatory.core.job_filter import parse_filter
from observatory.core.stores.ports import JobStore
from observatory.core.stores.records import JobFilter, JobRecord
from observatory.services.gateway.intake import created_event

MAX_JOBS = 1000
BATCH = 100  # jobs published (and confirmed) together
FILTER_FIELDS = frozenset({"type", "from", "to", "error"})
BODY_FIELDS = frozenset({"filter", "dryRun", "limit"})


@dataclass(frozen=True, slots=True)
class BulkRetryRequest:
    filter: JobFilter  # status is always FAILED
    dry_run: bool
    limit: int | None


def parse_request(raw: bytes) -> BulkRetryRequest:
    """The request a body asks for; InvalidMessage (400) naming each field that is wrong."""
    try:
        body = orjson.loads(raw) if raw.strip() else {}
    except orjson.JSONDecodeError as exc:
        raise InvalidMessage("Malformed JSON", [Violation("$", str(exc))]) from exc
    if not isinstance(body, dict):
        raise InvalidMessage("Invalid request", [Violation("$", "the body must be a JSON object")])
    problems = [
        Violation(f"$.{k}", "is not a field of this request") for k in body.keys() - BODY_FIELDS
    ]
    given = body.get("filter", {})
    if not isinstance(given, dict) or not all(isinstance(v, str) for v in given.values()):
        problems.append(Violation("$.filter", "must be an object of strings"))
        given = {}
    dry_run = body.get("dryRun", False)
    if not isinstance(dry_run, bool):
        problems.append(Violation("$.dryRun", "must be true or false"))
    limit = body.get("limit")
    if limit is not None and (
        isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_JOBS
    ):
        problems.append(Violation("$.limit", f"must be an integer from 1 to {MAX_JOBS}"))
    try:
        job_filter = parse_filter(given, allowed=FILTER_FIELDS)
    except InvalidMessage as exc:
        problems += [
            Violation(v.path.replace("$.", "$.filter.", 1), v.message) for v in exc.violations
        ]
        job_filter = JobFilter()
    if problems:
        raise InvalidMessage("Invalid request", problems)
    return BulkRetryRequest(replace(job_filter, status=JobStatus.FAILED), bool(dry_run), limit)


def retry_envelope(
    record: JobRecord, *, producer: Producer, clock: Clock, correlation_id: str
) -> dict[str, Any]:
    """The job.created envelope that runs a FAILED job again (its next run)."""
    job = {
        "id": record.id,
        "type": record.type,
        "status": JobStatus.PENDING.value,
        "createdAt": record.detail()["createdAt"],
        "payload": record.payload,
        "metadata": record.metadata,
        "attempts": record.attempts,
    }
    return created_event(
        job, producer=producer, clock=clock, correlation_id=correlation_id, run=record.run + 1
    )


def audit_filter(job_filter: JobFilter) -> dict[str, Any]:
    """The filter of a bulk retry as its audit entry shows it (the request's field names)."""
    shown: dict[str, Any] = {"status": JobStatus.FAILED.value}
    if job_filter.type is not None:
        shown["type"] = job_filter.type
    if job_filter.created_from is not None:
        shown["from"] = iso(job_filter.created_from)
    if job_filter.created_to is not None:
        shown["to"] = iso(job_filter.created_to)
    if job_filter.error is not None:
        shown["error"] = job_filter.error
    return shown


class BulkRetry:
    """Selects, counts and republishes; the route only parses and answers."""

    def __init__(self, *, jobs: JobStore, bus: Bus, producer: Producer, clock: Clock) -> None:
        self.jobs, self.bus, self.producer, self.clock = jobs, bus, producer, clock

    async def run(self, request: BulkRetryRequest, *, correlation_id: str) -> Reply:
        """The route audits what ran (`audit_filter`, the answer's counts and jobIds)."""
        matched = await self.jobs.count_matching(request.filter)
        if request.dry_run:
            return Reply(200, {"matched": matched, "retried": 0, "jobIds": [], "cap": MAX_JOBS})
        if matched > MAX_JOBS and request.limit is None:
            raise InvalidMessage(
                f"{matched} FAILED jobs match, more than the {MAX_JOBS} one request may retry",
                [Violation("$.limit", f"pass a limit (at most {MAX_JOBS}) or narrow the filter")],
            )
        page = await self.jobs.page(request.filter, limit=request.limit or MAX_JOBS, cursor=None)
        records = [r for r in page.items if r.status == JobStatus.FAILED]
        retried: list[str] = []
        unconfirmed: list[str] = []
        failure: DependencyDown | None = None
        for start in range(0, len(records), BATCH):
            batch = records[start : start + BATCH]
            messages = [self._message(r, correlation_id) for r in batch]
            try:
                await self.bus.publish_many(messages)
            except OutcomeUnknown as exc:
                unconfirmed = [r.id for r in batch]
                failure = exc
                break
            except DependencyDown as exc:
                failure = exc
                break
            retried += [r.id for r in batch]
        result: dict[str, Any] = {"matched": matched, "retried": len(retried), "jobIds": retried}
        if failure is not None:
            body = {"error": f"{failure.dependency} unavailable midway; repeat to resume", **result}
            if unconfirmed:
                body["unconfirmed"] = unconfirmed
            return Reply(503, body, {"Retry-After": RETRY_AFTER_SECONDS})
        return Reply(200, result)

    def _message(self, record: JobRecord, correlation_id: str) -> Outgoing:
        envelope = retry_envelope(
            record, producer=self.producer, clock=self.clock, correlation_id=correlation_id
        )
        return Outgoing(EventType.CREATED, orjson.dumps(envelope), message_id=envelope["eventId"])


BULK_HELP = """FAILED jobs only, at most 1,000 a request: `limit` defaults to 1,000 and may
not exceed it; more than 1,000 matching without a `limit` is 400. `from`/`to` bound
createdAt (RFC 3339, to exclusive); `error` is a case-insensitive substring of the last
error. `dryRun: true` answers the count and retries nothing. Repeating a request is
safe: only jobs still FAILED are retried, and a job sent twice runs once."""
BULK_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "filter": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "type": {"type": "string"},
                "from": {"type": "string", "format": "date-time"},
                "to": {"type": "string", "format": "date-time"},
                "error": {"type": "string"},
            },
        },
        "dryRun": {"type": "boolean", "default": False},
        "limit": {"type": "integer", "minimum": 1, "maximum": MAX_JOBS},
    },
}
