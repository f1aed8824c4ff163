"""The metrics engine's batch handlers: lifecycle events and dead letters.

Order of effects for a batch: admit each event (valid, on the queue its type is bound
to, countable), learn in one read which runs' job.created was never counted, store the
rest (idempotent on eventId) and apply their counter effects (idempotent on their keys),
dead-letter the refused and put back the events of unknown jobs (admission.py), then
ack. A crash anywhere in between is repaired by redelivery, because every step is
idempotent: a dead letter is stored once per message, a put-back copy only counts once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson
import structlog

from observatory.__about__ import __version__
from observatory.core.bus.declarations import broker_death
from observatory.core.bus.port import Bus, Delivery, Outcome, Outgoing
from observatory.core.bus.tracing import publish_each, within
from observatory.core.clock import Clock, iso, parse_iso
from observatory.core.contracts.validator import validate
from observatory.core.contracts.vocabulary import EventType
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
from observatory.core.stores.records import CounterEffect, DeadLetter
from observatory.services.metrics_engine.admission import (
    CHECK_HEADER,
    checks_done,
    logical_queue,
    misplaced,
    next_delay,
)
from observatory.services.metrics_engine.aggregate import dead_letter_effect, effect_of
from observatory.services.metrics_engine.metrics import MetricsEngineMetrics

log = structlog.get_logger("observatory.metrics_engine")
SERVICE = "metrics-engine"


@dataclass(frozen=True, slots=True)
class Admitted:
    """A valid event on its own queue, with what it does to the counters."""

    index: int
    delivery: Delivery
    queue: str
    envelope: dict[str, Any]
    effect: CounterEffect


class EventHandler:
    """Stores and counts lifecycle events; dead-letters invalid or misplaced ones and
    holds back those of jobs not seen yet."""

    def __init__(
        self,
        *,
        bus: Bus,
        events: EventStore,
        counters: Counters,
        clock: Clock,
        metrics: MetricsEngineMetrics,
        job_wait: float = 1.0,
    ) -> None:
        self.bus, self.events, self.counters = bus, events, counters
        self.clock, self.metrics = clock, metrics
        self.job_wait = job_wait  # first wait for a job not seen yet (admission.py)
        self._queues: dict[str, str | None] = {}  # delivery queue -> topology name

    async def __call__(self, batch: Sequence[Delivery]) -> list[Outcome]:
        outcomes = [Outcome.ACK] * len(batch)
        letters: list[tuple[Delivery, Outgoing]] = []
        admitted: list[Admitted] = []
        for index, delivery in enumerate(batch):
            try:
                admitted.append(self._admit(index, delivery))
            except InvalidMessage as exc:
                letters.append((delivery, self._dead_letter(delivery, exc)))
                outcomes[index] = Outcome.REJECT
        due, unknown = await self._split_unknown(admitted)
        if due:  # first: a batch the store refuses fails before anything is sent
            await self._store(due)
        sends: list[Awaitable[None]] = []
        put_back: set[str] = set()
        for item in unknown:
            delay = next_delay(checks_done(item.delivery.headers), self.job_wait)
            if delay is None:
                job_id = item.envelope["payload"]["id"]
                reason = InvalidMessage(f"no job.created seen for job {job_id}")
                letters.append((item.delivery, self._dead_letter(item.delivery, reason)))
                outcomes[item.index] = Outcome.REJECT
            elif item.envelope["eventId"] not in put_back:  # one copy per event is enough
                put_back.add(item.envelope["eventId"])
                sends.append(within(item.delivery, self._check_later(item, delay)))
        if letters:
            sends.append(publish_each(self.bus, letters))
        if sends:
            await asyncio.gather(*sends)
        return outcomes

    async def reject(self, delivery: Delivery, reason: str) -> Outcome:
        """A message isolated as poison (core.bus.isolation): dead-letter it with the reason."""
        await self.bus.publish_many([self._dead_letter(delivery, InvalidMessage(reason))])
        return Outcome.REJECT

    def _admit(self, index: int, delivery: Delivery) -> Admitted:
        envelope = parse_envelope(delivery.body)
        queue = self._queue_of(delivery.queue)
        reason = misplaced(str(envelope["eventType"]), queue)
        if reason is not None:
            raise InvalidMessage(reason)
        try:
            effect = effect_of(envelope)
        except (ValueError, TypeError, KeyError) as exc:  # what the schema let through
            raise InvalidMessage(f"event cannot be counted: {type(exc).__name__}: {exc}") from exc
        return Admitted(index, delivery, queue, envelope, effect)

    def _queue_of(self, name: str) -> str:
        if name not in self._queues:  # a handful of names: resolved once each
            self._queues[name] = logical_queue(name)
        return self._queues[name] or name

    async def _split_unknown(
        self, admitted: list[Admitted]
    ) -> tuple[list[Admitted], list[Admitted]]:
        """(events that may count now, events whose run's job.created was never counted).

        A job.created earlier or later in the same batch counts as seen: effects within
        one apply are independent, so their order does not matter."""
        here = {a.effect.key for a in admitted if a.effect.requires is None}
        wanted = {a.effect.requires for a in admitted if a.effect.requires} - here
        if not wanted:
            return admitted, []
        missing = await self.counters.missing(wanted)
        if not missing:
            return admitted, []
        due = [a for a in admitted if a.effect.requires not in missing]
        return due, [a for a in admitted if a.effect.requires in missing]

    async def _check_later(self, item: Admitted, delay: float) -> None:
        checks = checks_done(item.delivery.headers) + 1
        self.metrics.deferred.inc()
        await self.bus.schedule(item.queue, item.delivery.body, {CHECK_HEADER: checks}, delay)

    def _dead_letter(self, delivery: Delivery, exc: InvalidMessage) -> Outgoing:
        self.metrics.validation_failed.inc()
        log.warning("event dead-lettered", queue=delivery.queue, reason=exc.describe()[:300])
        return dead_letter(
            rejected(delivery.body, exc, delivery.queue), service=SERVICE, clock=self.clock
        )

    async def _store(self, due: list[Admitted]) -> None:
        envelopes = [a.envelope for a in due]
        new = set(await self.events.insert(envelopes))
        now = self.clock.now()
        # The queue depth is sampled into the buckets of now (core.stores.series).
        await self.counters.apply([a.effect for a in due], depth_at=int(now.timestamp()))
        for envelope in envelopes:
            if envelope["eventId"] not in new:
                self.metrics.duplicates.inc()
                continue
            self.metrics.processed.labels(envelope["eventType"]).inc()
            if envelope["eventType"] == EventType.CANCELLED:
                self.metrics.cancelled.inc()
            lag = (now - parse_iso(envelope["occurredAt"])).total_seconds()
            self.metrics.lag.observe(max(0.0, lag))


class DeadLetterHandler:
    """Stores what lands in jobs.failed.validation so it can be listed."""

    def __init__(
        self, *, events: EventStore, counters: Counters, clock: Clock, metrics: MetricsEngineMetrics
    ) -> None:
        self.events, self.counters, self.clock, self.metrics = events, counters, clock, metrics

    async def __call__(self, batch: Sequence[Delivery]) -> list[Outcome]:
        # a message we rejected was dead-lettered by us already (or dropped on purpose);
        # RabbitMQ's copy of it (quorum queues) is not a second dead letter
        letters = [
            self._letter(d) for d in batch if (broker_death(d.headers) or ("",))[0] != "rejected"
        ]
        added = await self.events.add_dead_letters(letters)
        await self.counters.apply([dead_letter_effect(letter.key) for letter in letters])
        self.metrics.dead_letters.inc(added)
        if added:
            log.warning("dead letters stored", count=added)
        return [Outcome.ACK] * len(batch)

    async def drop(self, delivery: Delivery, reason: str) -> Outcome:
        """A dead letter isolated as poison (core.bus.isolation): it cannot be dead-lettered
        again, and keeping it would block those behind it, so it is logged and dropped."""
        log.error(
            "dead letter could not be stored; dropped",
            key=str(delivery.headers.get(KEY_HEADER) or message_key(delivery.body, delivery.queue)),
            reason=reason[:300],
        )
        return Outcome.REJECT

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
        death = broker_death(delivery.headers)
        if death is not None:  # RabbitMQ's own decision, e.g. the quorum delivery limit
            reason = f"dead-lettered by RabbitMQ from {death[1]}: {death[0]}"
        raw = rejected(delivery.body, InvalidMessage(reason), delivery.queue)
        letter = {
            "original_event": raw.original,
            "validation_error": raw.error,
            "rejected_at": iso(self.clock.now()),
            "correlation_id": raw.correlation_id,
            "service": SERVICE,
            "service_version": __version__,
        }
        if death is not None and death[1]:
            letter["queue"] = death[1]  # where it can be replayed (core.replay)
        return DeadLetter(key, letter)
