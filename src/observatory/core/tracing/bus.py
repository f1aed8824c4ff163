"""The OpenTelemetry BusTracer (see core.bus.tracing): publish and process spans with the
messaging semantic conventions, W3C trace context in message headers.

Loaded only when tracing is on: it imports the OpenTelemetry API.

Unsampled messages take a short way (the cost of sampling 1 %): a message whose
`traceparent` is well formed and says "not sampled" is handled with no span, no context
extracted and none attached; its trace headers are kept as they came (`UNSAMPLED`) and
forwarded on whatever its work publishes, so every later hop knows the trace is not
sampled and takes the short way too. A publish made under an unsampled span (the
gateway's request, when the sampler said no) opens no publish span either.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.propagators.textmap import Getter
from opentelemetry.trace import Link, SpanKind, TraceFlags
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from observatory.core.bus.port import BatchHandler, Delivery, Outgoing, Settlement
from observatory.core.bus.tracing import ACTIVE, Attributes
from observatory.core.tracing.lean import LeanSpans

PROPAGATOR = TraceContextTextMapPropagator()
SYSTEM = "messaging.system"
OPERATION = "messaging.operation"
DESTINATION = "messaging.destination.name"
MESSAGE_ID = "messaging.message.id"
BATCH_COUNT = "messaging.batch.message_count"
ROUTING_KEY = "messaging.rabbitmq.destination.routing_key"


def _text(value: Any) -> str | None:
    """A header as text (AMQP may hand strings over as bytes); None for anything else."""
    if isinstance(value, bytes):
        return value.decode("ascii", errors="replace")
    return value if isinstance(value, str) else None


class _HeaderGetter(Getter[Mapping[str, Any]]):
    """Reads trace headers from message headers (AMQP may hand strings over as bytes)."""

    def get(self, carrier: Mapping[str, Any], key: str) -> list[str] | None:
        value = _text(carrier.get(key))
        return None if value is None else [value]

    def keys(self, carrier: Mapping[str, Any]) -> list[str]:
        return list(carrier)


GETTER = _HeaderGetter()

_TRACEPARENT = re.compile(r"[0-9a-e][0-9a-f]-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]([0-9a-f])")
_ZERO_TRACE, _ZERO_SPAN = "0" * 32, "0" * 16
_ODD = frozenset("13579bdf")

UNSAMPLED: ContextVar[Mapping[str, str] | None] = ContextVar(
    "observatory_unsampled_trace", default=None
)
"""The trace headers of the unsampled message whose work is running, as they came."""


def _well_formed(parent: str | None) -> re.Match[str] | None:
    """`parent` as a W3C `traceparent` in the form our publishers write (version below
    f0, nothing before or after) naming a valid trace and span; None otherwise."""
    if parent is None:
        return None
    found = _TRACEPARENT.fullmatch(parent)
    if found is None or found[1] == _ZERO_TRACE or found[2] == _ZERO_SPAN:
        return None
    return found


_KNOWN: dict[str, Mapping[str, str] | None] = {}
"""`unsampled`'s answers for a lone `traceparent` of the W3C length: a job's deliveries
all carry the one its gateway request wrote, and a consumer asks twice a delivery (its
batch, its message). Bounded: emptied once it holds `KNOWN_MOST` answers."""
KNOWN_MOST = 4096
_W3C_LENGTH = 55


def unsampled(headers: Mapping[str, Any]) -> Mapping[str, str] | None:
    """The trace headers of a message whose valid `traceparent` says "not sampled" (one
    mapping shared by the messages that carry the same headers: read it, never change
    it); None for a sampled one, one without, or one whose `traceparent` is not valid
    (those go the standard way: extracted, and a new trace started where none is valid)."""
    parent = headers.get("traceparent")
    if parent is None:
        return None
    state = headers.get("tracestate")
    if state is not None or type(parent) is not str or len(parent) != _W3C_LENGTH:
        return _carried(_text(parent), _text(state))
    if parent in _KNOWN:
        return _KNOWN[parent]
    found = _carried(parent, None)
    if len(_KNOWN) >= KNOWN_MOST:
        _KNOWN.clear()
    _KNOWN[parent] = found
    return found


def _carried(parent: str | None, state: str | None) -> Mapping[str, str] | None:
    found = _well_formed(parent)
    if found is None or found[3] in _ODD:
        return None
    carried = {"traceparent": found[0]}
    if state:
        carried["tracestate"] = state
    return carried


def _headers_of(context: trace.SpanContext) -> dict[str, str]:
    """The W3C headers naming `context` (what the propagator would write)."""
    found = {
        "traceparent": f"00-{context.trace_id:032x}-{context.span_id:016x}-"
        f"{context.trace_flags:02x}"
    }
    if context.trace_state:
        found["tracestate"] = context.trace_state.to_header()
    return found


def carried_by(context: Context | None = None) -> dict[str, str]:
    """The W3C headers of the span current in `context` (None: now), what the propagator
    would inject: none outside a valid span."""
    found = trace.get_current_span(context).get_span_context()
    return _headers_of(found) if found.is_valid else {}


def producer_context(headers: Mapping[str, Any]) -> trace.SpanContext | None:
    """The producer's span context a message carries, or None.

    A well-formed `traceparent` alone, what our publishers write, is read here with one
    precompiled match (the propagator compiles its pattern on every call); anything else
    (a `tracestate`, leading spaces, versions from f0, a malformed value) goes to the
    propagator, which answers for those as the W3C rules say."""
    if "tracestate" not in headers:
        parent = _text(headers.get("traceparent"))
        if parent is None:
            return None
        found = _well_formed(parent)
        if found is not None:
            flags = TraceFlags(int(parent[-2:], 16))
            return trace.SpanContext(int(found[1], 16), int(found[2], 16), True, flags)
    context = trace.get_current_span(PROPAGATOR.extract(headers, getter=GETTER)).get_span_context()
    return context if context.is_valid else None


class OtelBusTracer:
    """BusTracer over an OpenTelemetry tracer, for the bus `system` (rabbitmq | embedded)."""

    def __init__(self, tracer: trace.Tracer, system: str) -> None:
        self.tracer = tracer
        self.system = system
        self.lean = LeanSpans.of(tracer)

    def _started(
        self,
        name: str,
        kind: SpanKind,
        attributes: dict[str, Any],
        parent: trace.SpanContext | None = None,
        links: Sequence[Link] = (),
    ) -> AbstractContextManager[Any]:
        """A span current in the block, child of `parent` (None: of the current span, or
        a new trace outside one): lean when that parent is sampled (lean.py)."""
        lean = self.lean
        context = None
        if parent is None:
            current = trace.get_current_span()
            if lean is not None and current.is_recording():
                found = current.get_span_context()
                if found.trace_flags.sampled:
                    return lean.child(name, found, kind, attributes, links)
        elif lean is not None and parent.trace_flags.sampled:
            return lean.child(name, parent, kind, attributes, links)
        else:
            context = trace.set_span_in_context(trace.NonRecordingSpan(parent))
        return self.tracer.start_as_current_span(
            name, context=context, kind=kind, links=links, attributes=attributes
        )

    @staticmethod
    def _unsampled_carrier() -> Mapping[str, str] | None:
        """The headers to forward when the publish happens in an unsampled trace (the
        work of an unsampled message, or under a span the sampler did not record); None
        when a publish span is due (a sampled trace, or no trace at all: a new one)."""
        carried = UNSAMPLED.get()
        current = trace.get_current_span()
        if current.is_recording():
            return None
        if carried is not None:
            return carried
        context = current.get_span_context()
        return _headers_of(context) if context.is_valid else None

    @staticmethod
    def _with(headers: Mapping[str, Any], carrier: Mapping[str, str]) -> Mapping[str, Any]:
        if not headers:  # the usual case: every message of the publish shares `carrier`
            return carrier
        if "traceparent" in headers:  # one that carries its trace on keeps it
            return headers
        return {**headers, **carrier}

    @classmethod
    def _carrying(cls, messages: Sequence[Outgoing], carrier: Mapping[str, str]) -> list[Outgoing]:
        return [
            Outgoing(m.routing_key, m.body, cls._with(m.headers, carrier), m.message_id)
            for m in messages
        ]

    def publishing(
        self, destination: str, messages: Sequence[Outgoing]
    ) -> AbstractContextManager[Sequence[Outgoing]]:
        carried = self._unsampled_carrier()
        if carried is not None:  # no span: the trace is not sampled
            return nullcontext(self._carrying(messages, carried))
        return self._publish_span(destination, messages)

    @contextmanager
    def _publish_span(
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
            attributes[ROUTING_KEY] = str(messages[0].routing_key)  # a plain str: kept as is
        else:
            attributes[BATCH_COUNT] = len(messages)
        with self._started(f"publish {destination}", SpanKind.PRODUCER, attributes):
            yield self._carrying(messages, carried_by())

    def scheduling(
        self, queue: str, headers: Mapping[str, Any]
    ) -> AbstractContextManager[Mapping[str, Any]]:
        carried = self._unsampled_carrier()
        if carried is not None:
            return nullcontext(self._with(headers, carried))
        return self._schedule_span(queue, headers)

    @contextmanager
    def _schedule_span(self, queue: str, headers: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
        attributes = {SYSTEM: self.system, OPERATION: "publish", DESTINATION: queue}
        with self._started(f"publish {queue}", SpanKind.PRODUCER, attributes):
            yield self._with(headers, carried_by())

    def consuming(self, queue: str, handler: BatchHandler) -> BatchHandler:
        async def traced(batch: Sequence[Delivery]) -> Sequence[Settlement]:
            carried = [unsampled(d.headers) for d in batch]
            if all(c is not None for c in carried):
                return await self._untraced(handler, batch)  # nothing in it is sampled
            # an unsampled message's producer is not extracted: it would not be linked
            producers = [
                producer_context(d.headers) if c is None else None
                for d, c in zip(batch, carried, strict=True)
            ]
            # links to the sampled producers only: an unsampled trace is never exported
            links = [Link(p) for p in producers if p is not None and p.trace_flags.sampled]
            queues = {d.queue for d in batch}
            destination = queues.pop() if len(queues) == 1 else queue
            attributes: dict[str, Any] = {
                SYSTEM: self.system,
                OPERATION: "process",
                DESTINATION: destination,
                BATCH_COUNT: len(batch),
            }
            # Messages of one trace only (one message, or one job's events that arrived
            # together): the batch is part of that trace, the child of its first
            # message's producer (and linked to each); a batch of several traces, or with
            # a message of none, starts its own trace, linked to each of theirs.
            name = f"process {destination}"
            first = producers[0]
            if first is not None and all(
                p is not None and p.trace_id == first.trace_id for p in producers
            ):
                started = self._started(name, SpanKind.CONSUMER, attributes, first, links)
            else:
                started = self.tracer.start_as_current_span(
                    name,
                    context=Context(),
                    kind=SpanKind.CONSUMER,
                    links=links,
                    attributes=attributes,
                )
            with started:
                token = ACTIVE.set(self)
                try:
                    return await handler(batch)
                finally:
                    ACTIVE.reset(token)

        return traced

    async def _untraced(
        self, handler: BatchHandler, batch: Sequence[Delivery]
    ) -> Sequence[Settlement]:
        """A batch of unsampled messages: no batch span; each message's work still
        forwards its own trace headers (`message`)."""
        token = ACTIVE.set(self)
        try:
            return await handler(batch)
        finally:
            ACTIVE.reset(token)

    def message(
        self, delivery: Delivery, *, message_id: str | None, attributes: Attributes
    ) -> AbstractContextManager[Any]:
        carried = unsampled(delivery.headers)
        if carried is not None:  # no span; what its work publishes carries its headers on
            return forwarding(carried)
        batch = trace.get_current_span().get_span_context()
        producer = producer_context(delivery.headers)
        span_attributes: dict[str, Any] = {
            SYSTEM: self.system,
            OPERATION: "process",
            DESTINATION: delivery.queue,
            **attributes,
        }
        if message_id:
            span_attributes[MESSAGE_ID] = message_id
        return self._started(
            f"process {delivery.queue} message",
            SpanKind.CONSUMER,
            span_attributes,
            producer,  # None: the batch's child (a message that carries no trace)
            [Link(batch)] if batch.is_valid else [],
        )


class forwarding:
    """Run a block as the work of an unsampled message whose trace headers are
    `carried`: no span is current in it (not even a sampled batch's), and what it
    publishes or schedules carries `carried` on. (A class, not a generator: one per
    unsampled message.)"""

    __slots__ = ("_carried", "_detached", "_token")

    def __init__(self, carried: Mapping[str, str]) -> None:
        self._carried = carried

    def __enter__(self) -> None:
        self._token = UNSAMPLED.set(self._carried)
        recording = trace.get_current_span().is_recording()
        self._detached = otel_context.attach(Context()) if recording else None

    def __exit__(self, *exc: object) -> None:
        if self._detached is not None:
            otel_context.detach(self._detached)
        UNSAMPLED.reset(self._token)
