"""The words of the contracts as Python names: job statuses and lifecycle event types.

Both are `StrEnum`s, so a member is its contract string wherever it goes (JSON, SQL
parameters, Prometheus labels, comparisons with parsed documents): `JobStatus.FAILED ==
"FAILED"`. The values are those of `schemas/job.json` (`status`) and
`schemas/event-envelope.json` (`eventType`); a unit test keeps them equal.
"""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    """Where a job is in its lifecycle."""

    PENDING = "PENDING"
    VALIDATED = "VALIDATED"
    EXECUTING = "EXECUTING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})
"""The statuses a job run ends in."""


class EventType(StrEnum):
    """What happened to a job: the `eventType` of an envelope and its routing key."""

    CREATED = "job.created"
    VALIDATED = "job.validated"
    EXECUTED = "job.executed"
    COMPLETED = "job.completed"
    FAILED = "job.failed"
    CANCELLED = "job.cancelled"
