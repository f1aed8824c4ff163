"""What POST /jobs takes: a Job (schemas/job.json) as a new job, with bounded simulated work.

A new job may come in short form: only `type` is required (the gateway fills in `id`,
`status` and `createdAt`), its status can only be PENDING, and `payload.simulate`, which
job.json leaves open, holds numbers within `SIMULATE_BOUNDS` (the processor trusts them).
`request_schema()` is that body's JSON Schema for the API docs, built from job.json and
the bounds; `simulate_problems` checks the bounds. The rest of a job is checked against
job.json itself (validator.py).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from observatory.core.contracts.limits import MAX_DURATION_MS
from observatory.core.contracts.validator import Violation, load_schema
from observatory.core.contracts.vocabulary import JobStatus

SHORT_FORM_FIELDS = ("type", "id", "status", "createdAt", "payload", "metadata")
SIMULATE_BOUNDS: dict[str, tuple[int, int]] = {
    "durationMs": (0, MAX_DURATION_MS),
    "failProbability": (0, 1),
    "failAttempts": (0, 100),
}
SIMULATE_PATH = "$.payload.simulate"
JOB_TYPE = re.compile(load_schema("job")["properties"]["type"]["pattern"])
"""job.json's rule for a job type, for edges that take a type alone (a query filter)."""


@cache
def request_schema() -> dict[str, Any]:
    """The JSON Schema of a POST /jobs body (documentation: the checks are job.json's and
    `simulate_problems`)."""
    job = load_schema("job")["properties"]
    properties = {name: dict(job[name]) for name in SHORT_FORM_FIELDS}
    properties["status"]["enum"] = [JobStatus.PENDING.value]
    simulate = {
        key: {"type": "number", "minimum": low, "maximum": high}
        for key, (low, high) in SIMULATE_BOUNDS.items()
    }
    properties["payload"]["properties"] = {"simulate": {"type": "object", "properties": simulate}}
    return {"type": "object", "required": ["type"], "properties": properties}


def simulate_problems(payload: Any) -> list[Violation]:
    """The values of `payload.simulate` outside `SIMULATE_BOUNDS` (booleans are no numbers)."""
    if not isinstance(payload, dict) or "simulate" not in payload:
        return []
    simulate = payload["simulate"]
    if not isinstance(simulate, dict):
        return [Violation(SIMULATE_PATH, "must be an object")]
    problems = []
    for key, (low, high) in SIMULATE_BOUNDS.items():
        if key not in simulate:
            continue
        value = simulate[key]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            problems.append(
                Violation(f"{SIMULATE_PATH}.{key}", f"must be a number from {low} to {high}")
            )
    return problems
