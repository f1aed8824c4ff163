"""The short way for unsampled traces (core.tracing.bus): which headers count as "not
sampled", a batch mixing sampled and unsampled messages, and a captured unsampled context
carried to a grouped publish (the processor's terminal events, its retries)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from opentelemetry import trace
from tests.unit.tracing.scenarios import Spans, ids, linked, unsampled_parent

from observatory.core.bus.port import Delivery, Outcome, Outgoing, Settlement
from observatory.core.bus.tracing import message_span
from observatory.core.tracing import spans
from observatory.core.tracing.bus import (
    _KNOWN,
    GETTER,
    KNOWN_MOST,
    PROPAGATOR,
    OtelBusTracer,
    carried_by,
    producer_context,
    unsampled,
)
from observatory.core.tracing.otel_spans import OtelSpans

pytestmark = pytest.mark.unit

TRACE = "0af7651916cd43dd8448eb211c80319c"
NOT_SAMPLED = f"00-{TRACE}-b7ad6b7169203331-00"
SAMPLED = f"00-{TRACE}-b7ad6b7169203331-01"


@dataclass
class FakeDelivery:
    body: bytes
    headers: Mapping[str, Any] = field(default_factory=dict)
    queue: str = "q"
    redelivered: bool = False

    async def settle(self, outcome: Outcome) -> None:
        """Nothing to settle."""


@pytest.fixture
def memory() -> Iterator[Spans]:
    found = Spans()
    spans.install(OtelSpans(found.tracer))
    try:
        yield found
    finally:
        spans.install(None)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"traceparent": NOT_SAMPLED}, {"traceparent": NOT_SAMPLED}),
        ({"traceparent": NOT_SAMPLED.encode()}, {"traceparent": NOT_SAMPLED}),  # AMQP bytes
        (
            {"traceparent": NOT_SAMPLED, "tracestate": "vendor=x"},
            {"traceparent": NOT_SAMPLED, "tracestate": "vendor=x"},
        ),
        ({"traceparent": NOT_SAMPLED[:-1] + "2"}, {"traceparent": NOT_SAMPLED[:-1] + "2"}),
        ({"traceparent": SAMPLED}, None),
        ({"traceparent": NOT_SAMPLED[:-1] + "3"}, None),  # sampled bit with another flag
        ({}, None),
        ({"traceparent": NOT_SAMPLED.upper()}, None),  # not W3C: lower-case hex only
        ({"traceparent": "ff" + NOT_SAMPLED[2:]}, None),  # version ff is invalid
        ({"traceparent": f"00-{'0' * 32}-b7ad6b7169203331-00"}, None),  # zero trace id
        ({"traceparent": f"00-{TRACE}-{'0' * 16}-00"}, None),  # zero span id
        ({"traceparent": NOT_SAMPLED + "-extra"}, None),
        ({"traceparent": 7}, None),
    ],
)
def test_which_messages_take_the_short_way(
    headers: Mapping[str, Any], expected: dict[str, str] | None
) -> None:
    assert unsampled(headers) == expected


async def test_a_mixed_batch_links_only_its_sampled_messages(memory: Spans) -> None:
    """In a batch with a sampled and an unsampled message, the batch span links to the
    sampled producer only (an unsampled trace is never exported), and the unsampled
    message's work runs outside every span, even the recorded batch's, while what it
    publishes carries its own headers on."""
    tracer = OtelBusTracer(memory.tracer, "embedded")
    published: list[Sequence[Outgoing]] = []
    inside: list[tuple[bool, object]] = []

    async def handler(batch: Sequence[Delivery]) -> list[Settlement]:
        for delivery in batch:
            with message_span(delivery), spans.span("job attempt"):
                inside.append((trace.get_current_span().is_recording(), spans.capture()))
                with tracer.publishing("x", [Outgoing("job.completed", b"{}")]) as sent:
                    published.append(sent)
        return [Outcome.ACK] * len(batch)

    sampled: dict[str, str] = {}
    with memory.tracer.start_as_current_span("producer") as producer:
        PROPAGATOR.inject(sampled)
    batch = [FakeDelivery(b"a", sampled), FakeDelivery(b"b", {"traceparent": NOT_SAMPLED})]
    await tracer.consuming("q", handler)(batch)

    (process,) = [s for s in memory.exporter.get_finished_spans() if s.name == "process q"]
    assert linked(process) == [ids(producer)[1]]
    assert [recording for recording, _ in inside] == [True, False]
    assert spans.carrier(inside[1][1]) == {"traceparent": NOT_SAMPLED}
    assert published[1][0].headers == {"traceparent": NOT_SAMPLED}
    attempts = [s for s in memory.exporter.get_finished_spans() if s.name == "job attempt"]
    assert len(attempts) == 1  # the sampled message's only


async def test_a_captured_unsampled_context_is_carried_to_a_grouped_publish(
    memory: Spans,
) -> None:
    """The processor captures each job's context at the end of its attempt and publishes
    the group's terminal events in one round: an unsampled job's event carries its own
    headers; attached again (a retry), a publish takes them with no span."""
    tracer = OtelBusTracer(memory.tracer, "embedded")
    captured: list[object] = []

    async def handler(batch: Sequence[Delivery]) -> list[Settlement]:
        for delivery in batch:
            with message_span(delivery):
                captured.append(spans.capture())
        return [Outcome.ACK] * len(batch)

    await tracer.consuming("q", handler)([FakeDelivery(b"a", {"traceparent": NOT_SAMPLED})])
    assert spans.carrier(captured[0]) == {"traceparent": NOT_SAMPLED}
    with memory.tracer.start_as_current_span("a sampled batch"), spans.attached(captured[0]):
        assert not trace.get_current_span().is_recording()
        assert spans.exemplar() is None
        with tracer.scheduling("jobs.created", {"x-attempt": 2}) as headers:
            assert headers == {"x-attempt": 2, "traceparent": NOT_SAMPLED}
    assert [s.name for s in memory.exporter.get_finished_spans()] == ["a sampled batch"]


def test_a_publish_under_an_unsampled_request_writes_its_context_and_no_span(
    memory: Spans,
) -> None:
    """The gateway's request span when the sampler said no: the job's message names that
    trace, "not sampled", and no publish span is made."""
    tracer = OtelBusTracer(memory.tracer, "rabbitmq")
    outgoing = [Outgoing("job.created", b"{}", {"x-k": 1})]
    with (
        memory.tracer.start_as_current_span("POST /jobs", context=unsampled_parent()) as request,
        tracer.publishing("x", outgoing) as sent,
    ):
        pass
    trace_id, span_id = ids(request)
    assert dict(sent[0].headers) == {
        "x-k": 1,
        "traceparent": f"00-{trace_id:032x}-{span_id:016x}-00",
    }
    assert memory.exporter.get_finished_spans() == ()


@pytest.mark.parametrize(
    "headers",
    [
        {"traceparent": SAMPLED},
        {"traceparent": SAMPLED.encode()},  # AMQP bytes
        {"traceparent": NOT_SAMPLED},
        {"traceparent": SAMPLED[:-2] + "03"},  # sampled + random-id flag
        {"traceparent": SAMPLED[:-2] + "ff"},  # every flag bit kept
        {"traceparent": "01" + SAMPLED[2:]},  # a later version
        {"traceparent": "01" + SAMPLED[2:] + "-more"},  # a later version may add fields
        {"traceparent": "fe" + SAMPLED[2:]},  # the pattern's fast way stops at ef
        {"traceparent": "ff" + SAMPLED[2:]},  # invalid version
        {"traceparent": SAMPLED + "-extra"},  # version 00 takes no more fields
        {"traceparent": "  " + SAMPLED},  # spaces the propagator allows
        {"traceparent": SAMPLED.upper()},
        {"traceparent": f"00-{'0' * 32}-b7ad6b7169203331-01"},
        {"traceparent": f"00-{TRACE}-{'0' * 16}-01"},
        {"traceparent": SAMPLED, "tracestate": "vendor=x,other=y"},
        {"traceparent": SAMPLED, "tracestate": "x" * 600},  # over the length limit
        {"traceparent": SAMPLED[:-1]},
        {"traceparent": 7},
        {"tracestate": "vendor=x"},
        {},
    ],
)
def test_a_messages_producer_is_read_as_the_propagator_reads_it(
    headers: Mapping[str, Any],
) -> None:
    """producer_context reads our own well-formed `traceparent` without the propagator;
    whatever a message carries, the answer is the propagator's (None where it finds no
    valid context)."""
    standard = trace.get_current_span(PROPAGATOR.extract(headers, getter=GETTER))
    expected = standard.get_span_context()
    assert producer_context(headers) == (expected if expected.is_valid else None)


@pytest.mark.parametrize("state", ["", "vendor=x"])
def test_a_publish_carries_the_headers_the_propagator_would_write(state: str) -> None:
    context = trace.SpanContext(
        int(TRACE, 16),
        0xB7AD6B7169203331,
        False,
        trace.TraceFlags(0x03),
        trace.TraceState.from_header([state]) if state else None,
    )
    current = trace.set_span_in_context(trace.NonRecordingSpan(context))
    written: dict[str, str] = {}
    PROPAGATOR.inject(written, context=current)
    assert carried_by(current) == written
    assert written["traceparent"] == f"00-{TRACE}-b7ad6b7169203331-03"
    assert carried_by(trace.set_span_in_context(trace.INVALID_SPAN)) == {}


def test_answers_are_remembered_per_traceparent_and_the_memory_is_bounded() -> None:
    """A job's deliveries carry one `traceparent`: asked again, the answer is the same
    (one shared mapping); thousands of other traces never grow the memory past its
    bound, and a forgotten answer is worked out again the same."""
    first = unsampled({"traceparent": NOT_SAMPLED})
    assert first == {"traceparent": NOT_SAMPLED}
    assert unsampled({"traceparent": NOT_SAMPLED}) is first
    assert unsampled({"traceparent": SAMPLED}) is None
    assert unsampled({"traceparent": SAMPLED}) is None  # remembered as sampled
    for n in range(KNOWN_MOST + 10):
        other = f"00-{n + 1:032x}-b7ad6b7169203331-00"
        assert unsampled({"traceparent": other}) == {"traceparent": other}
    assert len(_KNOWN) <= KNOWN_MOST
    assert unsampled({"traceparent": NOT_SAMPLED}) == {"traceparent": NOT_SAMPLED}
    assert unsampled({"traceparent": SAMPLED}) is None


def test_a_long_or_stated_traceparent_is_answered_but_not_remembered() -> None:
    """Only a lone `traceparent` of the W3C length is remembered: a forged long value
    (or one with a `tracestate`) costs no memory."""
    _KNOWN.clear()
    assert unsampled({"traceparent": NOT_SAMPLED + "x" * 100_000}) is None
    stated = {"traceparent": NOT_SAMPLED, "tracestate": "vendor=x"}
    assert unsampled(stated) == stated
    assert _KNOWN == {}
