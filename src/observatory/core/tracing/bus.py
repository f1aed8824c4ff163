"""The OpenTelemetry BusTracer (see core.bus.tracing): publish and process spans with the
messaging semantic conventions, W3C trace context in message headers.

Loaded only when tracing is on: it imports the OpenTelemetry API.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import Link, SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from observatory.core.bus.port import BatchHandler, Delivery, Outgoing, Settlement
from observatory.core.bus.tracing import ACTIVE, Attributes

PROPAGATOR = TraceContextTextMapPropagator()
SYSTEM = "messaging.system"
OPERATION = "messaging.operation"
DESTINATION = "messaging.destination.name"
MESSAGE_ID = "messaging.message.id"
BATCH_COUNT = "messaging.batch.message_count"
ROUTING_KEY = "messaging.rabbitmq.destination.routing_key"


class _HeaderGetter(Getter[Mapping[str, Any]]):
    """Reads trace headers from message headers (AMQP may hand strings over as bytes)."""

    def get(self, carrier: Mapping[str, Any], key: str) -> list[str] | None:
        value = carrier.get(key)
        if isinstance(value, bytes):
            value = value.decode("ascii", errors="replace")
        return [value] if isinstance(value, str) else None

    def keys(self, carrier: Mapping[str, Any]) -> list[str]:
        return list(carrier)


GETTER = _HeaderGetter()


def producer_context(headers: Mapping[str, Any]) -> trace.SpanContext | None:
    """The producer's span context a message carries, or None."""
    context = trace.get_current_span(PROPAGATOR.extract(headers, getter=GETTER)).get_span_context()
    return context if context.is_valid else None


class OtelBusTracer:
    """BusTracer over an OpenTelemetry tracer, for the bus `system` (rabbitmq | embedded)."""

    def __init__(self, tracer: trace.Tracer, system: str) -> None:
        self.tracer = tracer
        self.system = system

    @staticmethod
    def _carrier() -> dict[str, str]:
        """The current span's trace-context headers (formatted once per publish)."""
        carrier: dict[str, str] = {}
        PROPAGATOR.inject(carrier)
        return carrier

    @staticmethod
    def _with(headers: Mapping[str, Any], carrier: Mapping[str, str]) -> dict[str, Any]:
        if "traceparent" in headers:  # one that carries its trace on keeps it
            return dict(headers)
        return {**headers, **carrier}

    @contextmanager
    def publishing(
        self, destination: str, messages: Sequence[Outgoing]
    ) -> Iterator[Sequence[Outgoing]]:
        attributes: dict[str, Any] = {
            SYSTEM: self.system,
            OPERATION: "publish",
            DESTINATION: destination,
        }
        if len(messages) == 1:
            if messages[0].message_id:
                attributes[MESSAGE_ID] = messages[0].message_id
            attributes[ROUTING_KEY] = messages[0].routing_key
        else:
            attributes[BATCH_COUNT] = len(messages)
        with self.tracer.start_as_current_span(
            f"publish {destination}", kind=SpanKind.PRODUCER, attributes=attributes
        ):
            carrier = self._carrier()
            yield [dataclasses.replace(m, headers=self._with(m.headers, carrier)) for m in messages]

    @contextmanager
    def scheduling(self, queue: str, headers: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        attributes = {SYSTEM: self.system, OPERATION: "publish", DESTINATION: queue}
        with self.tracer.start_as_current_span(
            f"publish {queue}", kind=SpanKind.PRODUCER, attributes=attributes
        ):
            yield self._with(headers, self._carrier())

    def consuming(self, queue: str, handler: BatchHandler) -> BatchHandler:
        async def traced(batch: Sequence[Delivery]) -> Sequence[Settlement]:
            producers = [producer_context(d.headers) for d in batch]
            links = [Link(p) for p in producers if p is not None]
            queues = {d.queue for d in batch}
            destination = queues.pop() if len(queues) == 1 else queue
            attributes: dict[str, Any] = {
                SYSTEM: self.system,
                OPERATION: "process",
                DESTINATION: destination,
                BATCH_COUNT: len(batch),
            }
            # One message: its work is the producer's child (as well as linked); a batch
            # of several starts its own trace, linked to each of theirs.
            parent = Context()
            if len(batch) == 1 and producers[0] is not None:
                parent = trace.set_span_in_context(trace.NonRecordingSpan(producers[0]))
            with self.tracer.start_as_current_span(
                f"process {destination}",
                context=parent,
                kind=SpanKind.CONSUMER,
                links=links,
                attributes=attributes,
            ):
                token = ACTIVE.set(self)
                try:
                    return await handler(batch)
                finally:
                    ACTIVE.reset(token)

        return traced

    @contextmanager
    def message(
        self, delivery: Delivery, *, message_id: str | None, attributes: Attributes
    ) -> Iterator[None]:
        batch = trace.get_current_span().get_span_context()
        producer = producer_context(delivery.headers)
        parent = (
            trace.set_span_in_context(trace.NonRecordingSpan(producer))
            if producer is not None
            else None
        )
        span_attributes: dict[str, Any] = {
            SYSTEM: self.system,
            OPERATION: "process",
            DESTINATION: delivery.queue,
            **attributes,
        }
        if message_id:
            span_attributes[MESSAGE_ID] = message_id
        with self.tracer.start_as_current_span(
            f"process {delivery.queue} message",
            context=parent,
            kind=SpanKind.CONSUMER,
            links=[Link(batch)] if batch.is_valid else [],
            attributes=span_attributes,
        ):
            yield
