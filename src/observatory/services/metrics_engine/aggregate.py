"""What each lifecycle event does to the counters (pure functions over events).

- job.created of run 1 counts a job once per job id (the same id submitted twice is one
  job); a later run (a retry of a FAILED job) counts as retried.
- job.completed / job.failed end a run once: completed+1; failed+1 on a first run; a
  retried run that completes moves the job from failed to completed.
- job.cancelled ends a run the same way (one terminal effect per run): cancelled+1; a
  cancelled rerun of a FAILED job moves it from failed to cancelled.
- validated/executed only move `last_event_time`.
- For the time series (core.stores.series) a run-1 job.created is one `created`; every
  run's end is one `completed`, `failed` or `cancelled` at its occurredAt, and a completed
  or failed run adds its submit→done latency (occurredAt - the job's createdAt).

A run's end counts only after its run began: the terminal effect of run 1 requires
`created:<id>`, of run N `created:<id>:<N>`, so a completion of a job that was never
created moves nothing (the handler holds it back until the job.created is counted).
A job.created requires nothing: the gateway is where jobs are admitted.

Job ids are keyed in their canonical spelling, so every spelling of one id is one job.
An event the system could not hold (no UTC time within 1970-9999 for occurredAt, or for
a job.created's createdAt, as the processor's job store refuses it) is refused with
InvalidMessage, so the counters never count a job the processor dead-letters.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from observatory.core.clock import iso, parse_iso
from observatory.core.contracts.ids import canonical_uuid
from observatory.core.contracts.times import RANGE_TEXT, as_utc
from observatory.core.contracts.vocabulary import EventType
from observatory.core.errors import InvalidMessage
from observatory.core.stores.records import CounterEffect


def effect_of(envelope: dict[str, Any]) -> CounterEffect:
    """The effect of a schema-valid envelope; InvalidMessage when it cannot count."""
    job = envelope["payload"]
    job_id = canonical_uuid(job.get("id"))
    if job_id is None:
        raise InvalidMessage("payload.id is not a UUID")
    run = int(job.get("run") or 1)
    occurred = _in_range(envelope["occurredAt"], "occurredAt")
    when, at = iso(occurred), int(occurred.timestamp())
    event_type = envelope["eventType"]
    created_at = job.get("createdAt")
    if event_type == EventType.CREATED:
        if isinstance(created_at, str):  # the schema requires it; the check is the range
            _in_range(created_at, "payload.createdAt")
        if run == 1:
            return CounterEffect(
                created_key(job_id, run), {"total": 1}, when, series="created", at=at
            )
        return CounterEffect(created_key(job_id, run), {"retried": 1}, when)
    requires = created_key(job_id, run)
    key = f"terminal:{job_id}:{run}"
    latency = _latency_ms(created_at, occurred)
    if event_type == EventType.COMPLETED:
        deltas = {"completed": 1, "failed": -1} if run > 1 else {"completed": 1}
        return CounterEffect(key, deltas, when, requires, "completed", at, latency)
    if event_type == EventType.FAILED:
        deltas = {"failed": 1} if run == 1 else {}
        return CounterEffect(key, deltas, when, requires, "failed", at, latency)
    if event_type == EventType.CANCELLED:
        deltas = {"cancelled": 1, "failed": -1} if run > 1 else {"cancelled": 1}
        return CounterEffect(key, deltas, when, requires, "cancelled", at)
    return CounterEffect(f"event:{envelope['eventId']}", {}, when)


def _latency_ms(created_at: Any, done: datetime) -> float | None:
    """Submit (the job's createdAt) to done, in ms, as the processor's latency histogram
    measures it; None without a createdAt the system could hold (the end still counts)."""
    try:
        submitted = as_utc(parse_iso(str(created_at))) if isinstance(created_at, str) else None
    except (ValueError, OverflowError):
        return None
    if submitted is None:
        return None
    return max(0.0, (done - submitted).total_seconds() * 1000)


def _in_range(text: str, field: str) -> datetime:
    moment = as_utc(parse_iso(text))
    if moment is None:
        raise InvalidMessage(f"{field} is not a time within {RANGE_TEXT}")
    return moment


def created_key(job_id: str, run: int) -> str:
    """The effect key of a run's job.created."""
    return f"created:{job_id}" if run == 1 else f"created:{job_id}:{run}"


def dead_letter_effect(key: str) -> CounterEffect:
    return CounterEffect(f"dead:{key}", {"dead_letters": 1})
