"""Building and reading event envelopes and jobs (the shapes of contracts/schemas)."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Any

from observatory.__about__ import __version__
from observatory.core.clock import Clock, iso

CONTRACT_VERSION = "1.0.0"


@dataclass(frozen=True, slots=True)
class Producer:
    """Who emits an event: service name, instance (host) and package version."""

    service: str
    instance_id: str
    version: str = __version__

    @classmethod
    def for_service(cls, service: str) -> Producer:
        return cls(service=service, instance_id=socket.gethostname() or "unknown")

    def as_dict(self) -> dict[str, str]:
        return {"service": self.service, "instanceId": self.instance_id, "version": self.version}


def build_envelope(
    event_type: str,
    job: dict[str, Any],
    *,
    producer: Producer,
    clock: Clock,
    correlation_id: str,
    idempotency_key: str,
    event_id: str | None = None,
    occurred_at: str | None = None,
    trace_id: str | None = None,
) -> dict[str, Any]:
    """A complete envelope for `event_type` carrying `job` as it is now (a new eventId and
    the clock's now, unless given), with the `traceId` of the trace it was made in, if
    any (tracing on)."""
    envelope = {
        "contractVersion": CONTRACT_VERSION,
        "eventType": event_type,
        "eventId": event_id or clock.new_id(),
        "occurredAt": occurred_at or iso(clock.now()),
        "producer": producer.as_dict(),
        "correlationId": correlation_id,
        "idempotencyKey": idempotency_key,
        "payload": job,
    }
    if trace_id is not None:
        envelope["traceId"] = trace_id
    return envelope


def correlation_of(document: object) -> str | None:
    """The correlationId of a parsed message, if it has a string one."""
    if isinstance(document, dict):
        value = document.get("correlationId")
        if isinstance(value, str):
            return value
    return None
