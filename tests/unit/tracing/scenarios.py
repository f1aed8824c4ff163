"""Trace-context behaviour of a bus, written once: the unit tests run it on the embedded
bus, tests/integration/ports/test_bus_tracing.py on the real RabbitMQ.

Each scenario takes an opened bus traced through `Tracing(provider)` and the in-memory
exporter of that provider, and asserts what a trace viewer would show.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from tests.waiting import wait_until_async

from observatory.core.bus.isolation import Isolating
from observatory.core.bus.port import Bus, Delivery, Outcome, Outgoing
from observatory.core.bus.topology import DEAD_LETTER_KEY, DEAD_LETTERS, JOBS_CREATED
from observatory.core.bus.tracing import job_attributes, message_span
from observatory.core.tracing.facade import Tracing

ATTEMPT = "x-attempt"


@dataclass
class Spans:
    """A provider whose finished spans are kept in memory."""

    exporter: InMemorySpanExporter = field(default_factory=InMemorySpanExporter)
    provider: TracerProvider = field(default_factory=TracerProvider)

    def __post_init__(self) -> None:
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracing = Tracing(self.provider)
        self.tracer = self.provider.get_tracer("tests")

    def named(self, prefix: str) -> list[ReadableSpan]:
        return [s for s in self.exporter.get_finished_spans() if s.name.startswith(prefix)]

    def one(self, name: str) -> ReadableSpan:
        found = [s for s in self.exporter.get_finished_spans() if s.name == name]
        assert len(found) == 1, f"{name}: {[s.name for s in self.exporter.get_finished_spans()]}"
        return found[0]


def text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def trace_id_of(delivery: Delivery) -> int:
    """The trace id in a delivery's W3C traceparent header (version-traceid-spanid-flags)."""
    return int(text(delivery.headers["traceparent"]).split("-")[1], 16)


def ids(span: ReadableSpan | trace.Span) -> tuple[int, int]:
    """(trace id, span id) of a span."""
    context = span.get_span_context()
    assert context is not None
    return context.trace_id, context.span_id


def linked(span: ReadableSpan) -> list[int]:
    """The span ids `span` links to."""
    return [link.context.span_id for link in span.links]


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


@dataclass
class Recorder:
    """A handler that keeps what arrives and, per delivery, what `react` does first."""

    bus: Bus
    deliveries: list[Delivery] = field(default_factory=list)

    async def react(self, delivery: Delivery) -> None:
        """Nothing by default."""

    async def __call__(self, batch: Sequence[Delivery]) -> list[Outcome]:
        for delivery in batch:
            attributes = job_attributes("job-1", 1, "corr-1")
            event = text(delivery.headers.get("x-event", ""))
            with message_span(delivery, message_id=event, attributes=attributes):
                await self.react(delivery)
            self.deliveries.append(delivery)
        return [Outcome.ACK] * len(batch)


async def context_survives_publish_and_consume(bus: Bus, spans: Spans, exchange: str) -> None:
    recorder = Recorder(bus)
    await bus.consume(JOBS_CREATED, recorder, prefetch=10, batch_size=10)
    with spans.tracer.start_as_current_span("POST /jobs") as request:
        await bus.publish_many(
            [Outgoing("job.created", b'{"job": 1}', {"x-event": "evt-1"}, message_id="evt-1")]
        )
    await wait_until_async(lambda: recorder.deliveries, message="the delivery")

    request_trace, request_span = ids(request)
    assert trace_id_of(recorder.deliveries[0]) == request_trace
    publish = spans.one(f"publish {exchange}")
    assert publish.kind is SpanKind.PRODUCER
    assert parent_id(publish) == request_span
    assert publish.attributes is not None
    assert publish.attributes["messaging.operation"] == "publish"
    assert publish.attributes["messaging.message.id"] == "evt-1"
    await wait_until_async(lambda: spans.named("process "), message="the process spans")
    process = next(s for s in spans.named("process ") if s.name.endswith(JOBS_CREATED))
    assert process.kind is SpanKind.CONSUMER
    assert linked(process) == [ids(publish)[1]]
    message = next(s for s in spans.named("process ") if s.name.endswith(" message"))
    assert ids(message)[0] == request_trace
    assert parent_id(message) == ids(publish)[1]
    assert message.attributes is not None
    assert message.attributes["messaging.message.id"] == "evt-1"
    assert message.attributes["observatory.job.id"] == "job-1"
    assert message.attributes["observatory.job.attempt"] == 1
    assert message.attributes["messaging.message.conversation_id"] == "corr-1"
    assert str(message.attributes["messaging.destination.name"]).endswith(JOBS_CREATED)


async def context_survives_a_scheduled_retry(bus: Bus, spans: Spans) -> None:
    class Retrying(Recorder):
        async def react(self, delivery: Delivery) -> None:
            if ATTEMPT not in delivery.headers:  # the first attempt fails: try again soon
                await self.bus.schedule(JOBS_CREATED, delivery.body, {ATTEMPT: 2}, 0.05)

    recorder = Retrying(bus)
    await bus.consume(JOBS_CREATED, recorder, prefetch=10, batch_size=10)
    with spans.tracer.start_as_current_span("POST /jobs") as request:
        await bus.publish_many([Outgoing("job.created", b'{"job": 2}')])
    await wait_until_async(
        lambda: [d for d in recorder.deliveries if ATTEMPT in d.headers], message="the retry"
    )

    request_trace, _ = ids(request)
    first, retry = recorder.deliveries
    assert trace_id_of(first) == trace_id_of(retry) == request_trace
    schedule = next(s for s in spans.named("publish ") if s.name.endswith(JOBS_CREATED))
    assert ids(schedule)[0] == request_trace  # the retry's publish is in the job's trace


async def a_dead_letter_stays_in_the_rejected_messages_trace(bus: Bus, spans: Spans) -> None:
    async def handle(batch: Sequence[Delivery]) -> list[Outcome]:
        if any(d.body == b"bad" for d in batch):
            raise ValueError("a bad message in the batch")
        return [Outcome.ACK] * len(batch)

    async def poison(delivery: Delivery, reason: str) -> Outcome:
        await bus.publish_many([Outgoing(DEAD_LETTER_KEY, b'{"why": "bad"}', {"x-key": "k"})])
        return Outcome.REJECT

    letters = Recorder(bus)
    with spans.tracer.start_as_current_span("good job") as good:
        await bus.publish_many([Outgoing("job.created", b"good")])
    with spans.tracer.start_as_current_span("bad job") as bad:
        await bus.publish_many([Outgoing("job.created", b"bad")])
    await bus.consume(DEAD_LETTERS, letters, prefetch=10, batch_size=10)
    await bus.consume(JOBS_CREATED, Isolating(handle, poison), prefetch=10, batch_size=10)
    await wait_until_async(lambda: letters.deliveries, message="the dead letter")

    bad_trace, _ = ids(bad)
    good_trace, _ = ids(good)
    assert trace_id_of(letters.deliveries[0]) == bad_trace != good_trace
    assert letters.deliveries[0].headers["x-key"] == "k"  # its own headers are kept


UNSAMPLED_TRACE = 0x5B8AA5A2D2C872E8321CF37308D69DF2


def unsampled_parent() -> Any:
    """A context whose remote parent says "not sampled" (what a caller sends when its
    sampler said no): under the SDK's parent-based sampler, nothing in it is recorded."""
    remote = trace.SpanContext(
        UNSAMPLED_TRACE, 0x051581BF3CB55C13, is_remote=True, trace_flags=trace.TraceFlags(0)
    )
    return trace.set_span_in_context(trace.NonRecordingSpan(remote))


async def an_unsampled_trace_is_forwarded_without_spans(bus: Bus, spans: Spans) -> None:
    """A job whose trace is not sampled (sampling 1 %: 99 jobs in 100) costs no span on
    any hop, yet what its work publishes (a dead letter) and schedules (a retry) carries
    its trace headers on, unchanged, so every later hop knows not to sample it either."""
    recording: list[bool] = []

    class Retrying(Recorder):
        async def react(self, delivery: Delivery) -> None:
            recording.append(trace.get_current_span().is_recording())
            if ATTEMPT not in delivery.headers:
                await self.bus.schedule(JOBS_CREATED, delivery.body, {ATTEMPT: 2}, 0.05)
                await self.bus.publish_many([Outgoing(DEAD_LETTER_KEY, b"{}", {"x-key": "k"})])

    recorder = Retrying(bus)
    letters = Recorder(bus)
    await bus.consume(DEAD_LETTERS, letters, prefetch=10, batch_size=10)
    await bus.consume(JOBS_CREATED, recorder, prefetch=10, batch_size=10)
    with spans.tracer.start_as_current_span("POST /jobs", context=unsampled_parent()) as request:
        assert not request.is_recording()
        await bus.publish_many([Outgoing("job.created", b'{"job": 3}', message_id="evt-3")])
    await wait_until_async(
        lambda: letters.deliveries and [d for d in recorder.deliveries if ATTEMPT in d.headers],
        message="the retry and the dead letter",
    )

    first, retry = recorder.deliveries
    sent = text(first.headers["traceparent"])
    assert sent == f"00-{UNSAMPLED_TRACE:032x}-{ids(request)[1]:016x}-00"
    assert text(retry.headers["traceparent"]) == sent
    assert text(letters.deliveries[0].headers["traceparent"]) == sent
    assert letters.deliveries[0].headers["x-key"] == "k"
    assert recording == [False, False]
    assert spans.exporter.get_finished_spans() == ()  # no publish, batch or message span
