"""Names on the bus and how events are routed to queues.

One publish of `job.created` reaches both the processor's work queue and the metrics
engine's copy; every other lifecycle event has its own queue, which the metrics engine
reads. A namespace prefix keeps test runs apart on a shared broker.
"""

from __future__ import annotations

from dataclasses import dataclass

from observatory.core.contracts.vocabulary import EventType

EXCHANGE = "observatory.events"
JOBS_CREATED = "jobs.created"
JOBS_CREATED_METRICS = "jobs.created.metrics"
JOBS_VALIDATED = "jobs.validated"
JOBS_EXECUTED = "jobs.executed"
JOBS_COMPLETED = "jobs.completed"
JOBS_FAILED = "jobs.failed"
JOBS_CANCELLED = "jobs.cancelled"
DEAD_LETTERS = "jobs.failed.validation"
DEAD_LETTER_KEY = "dead-letter"

BINDINGS: dict[str, tuple[str, ...]] = {
    EventType.CREATED: (JOBS_CREATED, JOBS_CREATED_METRICS),
    EventType.VALIDATED: (JOBS_VALIDATED,),
    EventType.EXECUTED: (JOBS_EXECUTED,),
    EventType.COMPLETED: (JOBS_COMPLETED,),
    EventType.FAILED: (JOBS_FAILED,),
    EventType.CANCELLED: (JOBS_CANCELLED,),
    DEAD_LETTER_KEY: (DEAD_LETTERS,),
}

METRICS_ENGINE_QUEUES = (
    JOBS_CREATED_METRICS,
    JOBS_VALIDATED,
    JOBS_EXECUTED,
    JOBS_COMPLETED,
    JOBS_FAILED,
    JOBS_CANCELLED,
)

ALL_QUEUES = (JOBS_CREATED, *METRICS_ENGINE_QUEUES, DEAD_LETTERS)


def logical_name(queue: str) -> str | None:
    """The topology name of a queue's name on the bus ("<ns>.jobs.completed" ->
    "jobs.completed"); None for a queue that is not ours."""
    for name in ALL_QUEUES:
        if queue == name or queue.endswith("." + name):
            return name
    return None


def routing_key_for(queue: str) -> str | None:
    """The routing key that reaches the topology queue `queue` (None for a queue that no
    event is routed to on its own)."""
    for key, queues in BINDINGS.items():
        if queue in queues and key != DEAD_LETTER_KEY:
            return key
    return None


@dataclass(frozen=True, slots=True)
class Names:
    """Queue and exchange names under an optional namespace prefix."""

    namespace: str = ""

    def q(self, name: str) -> str:
        return f"{self.namespace}.{name}" if self.namespace else name

    @property
    def exchange(self) -> str:
        return self.q(EXCHANGE)

    def bound_queues(self, routing_key: str) -> tuple[str, ...]:
        return tuple(self.q(name) for name in BINDINGS.get(routing_key, ()))

    def all_queues(self) -> tuple[str, ...]:
        return tuple(self.q(name) for name in ALL_QUEUES)
