"""What went wrong, and therefore what happens next.

    ObservatoryError
    ├── InvalidMessage      a message breaks its contract  → dead-letter, never requeue
    ├── DependencyDown      a backend does not answer      → retry with back-off / HTTP 503
    │   └── OutcomeUnknown  a publish left, its confirm never came → 503 naming the job
    ├── NotFound            the thing asked for is absent  → HTTP 404
    ├── Conflict            the thing is in the wrong state → HTTP 409
    └── ConfigurationError  the service cannot start as configured

In consumers, `core.dead_letters` turns a message that is not a valid envelope into a
dead-letter document (the delivery is rejected, never requeued); `core.bus.isolation`
splits a batch that fails on one item until that item is found and hands it to the
service's poison handler; `core.bus.runner` retries, after a back-off, a batch whose
handler still raised (DependencyDown or anything unexpected). HTTP apps map these errors
to status codes in exception handlers (`core.http.install_edges`, `reply_for`).
"""

from __future__ import annotations

from observatory.core.contracts.validator import Violation


class ObservatoryError(Exception):
    """Base of every error the system raises on purpose."""


class InvalidMessage(ObservatoryError):
    """A message or request breaks its contract; retrying cannot help."""

    def __init__(self, reason: str, violations: list[Violation] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.violations = violations or []

    def describe(self) -> str:
        if not self.violations:
            return self.reason
        listed = "; ".join(str(v) for v in self.violations[:5])
        return f"{self.reason}: {listed}"


class DependencyDown(ObservatoryError):
    """A backend (bus, database, cache) is unreachable or timed out."""

    def __init__(self, dependency: str, detail: str = "") -> None:
        super().__init__(f"{dependency} unavailable{': ' + detail if detail else ''}")
        self.dependency = dependency


class OutcomeUnknown(DependencyDown):
    """A message left for the broker but its confirm never arrived: it may or may not be
    stored. Retrying with the same ids is safe (every consumer is idempotent by id)."""


class NotFound(ObservatoryError):
    """The requested resource does not exist."""


class Conflict(ObservatoryError):
    """The resource exists but is in a state that forbids the request."""


class ConfigurationError(ObservatoryError):
    """Settings are missing or contradictory; the process should not start."""
