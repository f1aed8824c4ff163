"""The metrics engine's batch handlers: lifecycle events and dead letters.

Order of effects for a batch: store the envelopes (idempotent on eventId), then apply
the counter effects (idempotent on their keys), then ack. A crash anywhere in between
is repaired by redelivery, because both steps are idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
import structlog

from observatory.__about__ import __version__
from observatory.core.bus.port import Bus, Delivery, Outcome, Outgoing
from observatory.core.clock import Clock, iso, parse_iso
from observatory.core.contracts.validator import validate
from observatory.core.dead_letters import (
    KEY_HEADER,
    MAX_MESSAGE_BYTES,
    dead_letter,
    message_key,
    parse_envelope,
    rejected,
)
from observatory.core.errors import InvalidMessage
from observatory.core.stores.ports import Counters, EventStore
from observatory.core.stores.records import DeadLetter
from observatory.services.metrics_engine.aggregate import dead_letter_effect, effect_of
from observatory.services.metrics_engine.metrics import MetricsEngineMetrics

log = structlog.get_logger("observatory.metrics_engine")
SERVICE = "metrics-engine"


class EventHandler:
    """Stores and counts lifecycle events; dead-letters invalid ones."""

    def __init__(
        self,
        *,
        bus: Bus,
        events: EventStore,
        counters: Counters,
        clock: Clock,
        metrics: MetricsEngineMetrics,
    ) -> None:
        self.bus, self.events, self.counters = bus, events, counters
        self.clock, self.metrics = clock, metrics

    async def __call__(self, batch: Sequence[Delivery]) -> list[Outcome]:
        outcomes = [Outcome.ACK] * len(batch)
        envelopes: list[dict[str, Any]] = []
        letters: list[Outgoing] = []
        for index, delivery in enumerate(batch):
            try:
                envelopes.append(parse_envelope(delivery.body))
            except InvalidMessage as exc:
                self.metrics.validation_failed.inc()
                letters.append(
                    dead_letter(
                        rejected(delivery.body, exc, delivery.queue),
                        service=SERVICE,
                        clock=self.clock,
                    )
                )
                outcomes[index] = Outcome.REJECT
        if letters:
            await self.bus.publish_many(letters)
        if envelopes:
            await self._store(envelopes)
        return outcomes

    async def _store(self, envelopes: list[dict[str, Any]]) -> None:
        new = set(await self.events.insert(envelopes))
        await self.counters.apply([effect_of(e) for e in envelopes])
        now = self.clock.now()
        for envelope in envelopes:
            if envelope["eventId"] not in new:
                self.metrics.duplicates.inc()
                continue
            self.metrics.processed.labels(envelope["eventType"]).inc()
            lag = (now - parse_iso(envelope["occurredAt"])).total_seconds()
            self.metrics.lag.observe(max(0.0, lag))


class DeadLetterHandler:
    """Stores what lands in jobs.failed.validation so it can be listed."""

    def __init__(
        self, *, events: EventStore, counters: Counters, clock: Clock, metrics: MetricsEngineMetrics
    ) -> None:
        self.events, self.counters, self.clock, self.metrics = events, counters, clock, metrics

    async def __call__(self, batch: Sequence[Delivery]) -> list[Outcome]:
        letters = [self._letter(d) for d in batch]
        added = await self.events.add_dead_letters(letters)
        await self.counters.apply([dead_letter_effect(letter.key) for letter in letters])
        self.metrics.dead_letters.inc(added)
        if added:
            log.warning("dead letters stored", count=added)
        return [Outcome.ACK] * len(batch)

    def _letter(self, delivery: Delivery) -> DeadLetter:
        key = str(delivery.headers.get(KEY_HEADER) or message_key(delivery.body, delivery.queue))
        try:
            document = (
                orjson.loads(delivery.body) if len(delivery.body) <= MAX_MESSAGE_BYTES else None
            )
        except orjson.JSONDecodeError:
            document = None
        if isinstance(document, dict) and not validate("dead-letter", document):
            return DeadLetter(key, document)
        reason = "published straight to jobs.failed.validation; not a dead-letter document"
        raw = rejected(delivery.body, InvalidMessage(reason), delivery.queue)
        return DeadLetter(
            key,
            {
                "original_event": raw.original,
                "validation_error": raw.error,
                "rejected_at": iso(self.clock.now()),
                "correlation_id": raw.correlation_id,
                "service": SERVICE,
                "service_version": __version__,
            },
        )
