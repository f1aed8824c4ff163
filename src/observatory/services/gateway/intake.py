"""Turning a POST /jobs body into a validated Job and its job.created envelope.

Pure functions over bytes and a clock: the route only does HTTP and publishing.
"""

from __future__ import annotations

from typing import Any

import orjson

from observatory.core.clock import Clock, iso
from observatory.core.contracts.envelope import Producer, build_envelope
from observatory.core.contracts.ids import canonical_uuid
from observatory.core.contracts.job_request import simulate_problems
from observatory.core.contracts.limits import (
    nul_in_text,
    timestamp_problem,
    too_deep,
    too_deep_in_text,
)
from observatory.core.contracts.validator import Violation, validate, validate_event
from observatory.core.contracts.vocabulary import EventType, JobStatus
from observatory.core.errors import InvalidMessage
from observatory.core.tracing.spans import span, trace_id


def parse_body(raw: bytes) -> dict[str, Any]:
    """Parse JSON; raise InvalidMessage when it is not a JSON object."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        # orjson gives up past 1024 levels; name the place that breaks our own limit instead
        # (each field of the body is limited, not the body around them: outer=1).
        deep = too_deep_in_text(raw, outer=1)
        if deep is not None:
            raise InvalidMessage("Invalid job data", [deep]) from exc
        raise InvalidMessage("Malformed JSON", [Violation("$", str(exc))]) from exc
    if not isinstance(body, dict):
        raise InvalidMessage("Invalid job data", [Violation("$", "the body must be a JSON object")])
    return body


def normalise_job(body: dict[str, Any], clock: Clock) -> dict[str, Any]:
    """Fill id/status/createdAt for the short form; reject anything but a PENDING job, and
    values past the edge limits (nesting of payload, metadata or any extra field; createdAt's
    range). Traced as `validate job`."""
    with span("validate job"):
        return _normalised(body, clock)


def _normalised(body: dict[str, Any], clock: Clock) -> dict[str, Any]:
    deep = [v for key, value in body.items() if (v := too_deep(value, f"$.{key}")) is not None]
    if deep:  # checked first: nothing below should walk a document this deep
        raise InvalidMessage("Invalid job data", deep)
    nul = [v for key in ("payload", "metadata") if (v := nul_in_text(body.get(key), f"$.{key}"))]
    if nul:
        raise InvalidMessage("Invalid job data", nul)
    job = dict(body)
    # any spelling of a UUID is the one job id (a client retrying in upper case included)
    job["id"] = (canonical_uuid(job["id"]) or job["id"]) if "id" in job else clock.new_id()
    job.setdefault("createdAt", iso(clock.now()))
    status = job.setdefault("status", JobStatus.PENDING.value)
    problems = validate("job", job)
    if status != JobStatus.PENDING and not any(p.path == "$.status" for p in problems):
        problems.append(Violation("$.status", "a new job must have status PENDING"))
    if "type" not in body:
        problems = [p for p in problems if "'type'" not in p.message]
        problems.insert(0, Violation("$.type", "is required"))
    created = job["createdAt"]
    if isinstance(created, str) and not any(p.path == "$.createdAt" for p in problems):
        problems += [v for v in [timestamp_problem(created, "$.createdAt")] if v is not None]
    problems += simulate_problems(job.get("payload"))
    if problems:
        raise InvalidMessage("Invalid job data", problems)
    job.pop("attempts", None)
    job.pop("run", None)
    return job


def created_event(
    job: dict[str, Any], *, producer: Producer, clock: Clock, correlation_id: str, run: int = 1
) -> dict[str, Any]:
    """The job.created envelope for `job` (idempotencyKey = job id, or id:run for reruns).

    A first run's job has just passed `normalise_job`, so only the envelope around it is
    checked; a rerun's job is rebuilt from the job store and is checked whole."""
    if run > 1:
        job = {**job, "run": run}
    envelope = build_envelope(
        EventType.CREATED,
        job,
        producer=producer,
        clock=clock,
        correlation_id=correlation_id,
        idempotency_key=job["id"] if run == 1 else f"{job['id']}:run{run}",
        trace_id=trace_id(),
    )
    problems = validate("event-envelope", envelope) if run == 1 else validate_event(envelope)
    if problems:  # cannot happen for a job that passed normalise_job; guard the contract anyway
        raise InvalidMessage("Internal contract violation", problems)
    return envelope
