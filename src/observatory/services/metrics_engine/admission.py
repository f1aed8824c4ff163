"""What the metrics engine admits, and how long it waits for a job it does not know yet.

- Each queue carries only the event types bound to it (core.bus.topology.BINDINGS): a
  schema-valid event on another queue (published straight to the queue, or under a
  forged routing key) is refused with the reason.
- A run's end whose job.created was never counted (see aggregate.py) is not counted now,
  because events of one job travel on different queues and may arrive out of order after
  a backlog. It is put back on its queue through the bus's delay mechanism and checked
  again after 1, 2, 4, ... 64 s (METRICS_ENGINE_JOB_WAIT_SECONDS scales them): 7 more
  checks, about two minutes in all. Then it is dead-lettered ("no job.created seen for
  job <id>"). The number of checks so far rides in a header of the delayed copy, so
  nothing waits forever, even across restarts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from observatory.core.bus.topology import BINDINGS, METRICS_ENGINE_QUEUES

CHECK_HEADER = "x-job-checks"
CHECKS = 7
"""Further checks of an event whose job is unknown, each after twice the wait before."""

EVENT_TYPE_OF = {
    queue: event_type
    for event_type, queues in BINDINGS.items()
    for queue in queues
    if queue in METRICS_ENGINE_QUEUES
}
"""The one event type each metrics-engine queue carries."""


def logical_queue(queue: str) -> str | None:
    """The topology name of a delivery's queue, which carries the namespace as a prefix
    ("<ns>.jobs.completed"); None for a queue the metrics engine does not read."""
    for name in METRICS_ENGINE_QUEUES:
        if queue == name or queue.endswith("." + name):
            return name
    return None


def misplaced(event_type: str, queue: str) -> str | None:
    """Why `event_type` may not be taken from `queue` (a topology name), or None when it
    belongs there."""
    if EVENT_TYPE_OF.get(queue) == event_type:
        return None
    return f"event {event_type} does not belong on queue {queue}"


def checks_done(headers: Mapping[str, Any]) -> int:
    """How many times this event was checked again already (0 on first arrival). A value
    that is not a count is read as "checks used up": it cannot make us wait longer."""
    value = headers.get(CHECK_HEADER)
    if value is None:
        return 0
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return CHECKS


def next_delay(checks: int, first: float) -> float | None:
    """Seconds until the next check after `checks` checks (`first`, then doubling), or
    None when they are used up."""
    return first * 2**checks if checks < CHECKS else None
