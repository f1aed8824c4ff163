"""What each lifecycle event does to the counters (pure; see SPEC §5.3).

- job.created of run 1 counts a job once per job id (the same id submitted twice is one
  job); a later run (a retry of a FAILED job) counts as retried.
- job.completed / job.failed end a run once: completed+1; failed+1 on a first run; a
  retried run that completes moves the job from failed to completed.
- validated/executed only move `last_event_time`.
"""

from __future__ import annotations

from typing import Any

from observatory.core.clock import iso, parse_iso
from observatory.core.stores.records import CounterEffect


def effect_of(envelope: dict[str, Any]) -> CounterEffect:
    job = envelope["payload"]
    job_id = job["id"]
    run = int(job.get("run") or 1)
    when = iso(parse_iso(envelope["occurredAt"]))
    event_type = envelope["eventType"]
    if event_type == "job.created":
        if run == 1:
            return CounterEffect(f"created:{job_id}", {"total": 1}, when)
        return CounterEffect(f"created:{job_id}:{run}", {"retried": 1}, when)
    if event_type == "job.completed":
        deltas = {"completed": 1, "failed": -1} if run > 1 else {"completed": 1}
        return CounterEffect(f"terminal:{job_id}:{run}", deltas, when)
    if event_type == "job.failed":
        return CounterEffect(f"terminal:{job_id}:{run}", {"failed": 1} if run == 1 else {}, when)
    return CounterEffect(f"event:{envelope['eventId']}", {}, when)


def dead_letter_effect(key: str) -> CounterEffect:
    return CounterEffect(f"dead:{key}", {"dead_letters": 1})
