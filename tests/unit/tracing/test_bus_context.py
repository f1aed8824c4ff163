"""Trace context crosses the embedded bus: publish → consume, a scheduled retry and a dead
letter stay in the trace of the job that caused them (scenarios.py; the same scenarios
run on RabbitMQ in tests/integration/ports/test_bus_tracing.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext
from tests.unit.tracing.scenarios import (
    Spans,
    a_dead_letter_stays_in_the_rejected_messages_trace,
    an_unsampled_trace_is_forwarded_without_spans,
    context_survives_a_scheduled_retry,
    context_survives_publish_and_consume,
    trace_id_of,
)
from tests.waiting import wait_until_async

from observatory.core.bus.embedded import EmbeddedBus
from observatory.core.bus.port import Delivery, Outcome, Outgoing
from observatory.core.bus.topology import DEAD_LETTER_KEY, DEAD_LETTERS, JOBS_CREATED
from observatory.core.bus.tracing import publish_each, trace_headers
from observatory.core.contracts.vocabulary import EventType

pytestmark = pytest.mark.unit


@pytest.fixture
def spans() -> Spans:
    return Spans()


@pytest.fixture
async def bus(tmp_path: Path, spans: Spans) -> AsyncIterator[EmbeddedBus]:
    bus = EmbeddedBus(tmp_path / "bus.sqlite3", poll=0.02, tracer=spans.tracing.bus("embedded"))
    await bus.open()
    try:
        yield bus
    finally:
        await bus.close()


async def test_a_consumer_joins_the_producers_trace(bus: EmbeddedBus, spans: Spans) -> None:
    await context_survives_publish_and_consume(bus, spans, bus.names.exchange)


async def test_a_scheduled_retry_keeps_the_trace(bus: EmbeddedBus, spans: Spans) -> None:
    await context_survives_a_scheduled_retry(bus, spans)


async def test_a_dead_letter_keeps_the_rejected_messages_trace(
    bus: EmbeddedBus, spans: Spans
) -> None:
    await a_dead_letter_stays_in_the_rejected_messages_trace(bus, spans)


async def test_spans_name_the_embedded_system(bus: EmbeddedBus, spans: Spans) -> None:
    await context_survives_publish_and_consume(bus, spans, bus.names.exchange)
    systems = {(s.attributes or {}).get("messaging.system") for s in spans.named("p")}
    assert systems == {"embedded"}


async def test_a_message_that_carries_a_trace_on_keeps_its_traceparent(
    bus: EmbeddedBus, spans: Spans
) -> None:
    """What a consumer forwards with trace_headers (a dead letter of the original, a retry)
    arrives with the original's traceparent, not the publisher's."""
    original = {"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
    got: list[Delivery] = []

    async def handler(batch: Sequence[Delivery]) -> list[Outcome]:
        got.extend(batch)
        return [Outcome.ACK] * len(batch)

    await bus.consume(DEAD_LETTERS, handler, prefetch=1, batch_size=1)
    with spans.tracer.start_as_current_span("rejecting"):
        forwarded = {**trace_headers({**original, "x-other": 1}), "x-key": "k"}
        await bus.publish_many([Outgoing(DEAD_LETTER_KEY, b"{}", forwarded)])
    await wait_until_async(lambda: got, message="the dead letter")
    assert dict(got[0].headers) == {**original, "x-key": "k"}


async def test_dead_letters_from_a_batch_of_many_stay_in_each_messages_trace(
    bus: EmbeddedBus, spans: Spans
) -> None:
    """Two jobs from two traces arrive in one batch (whose span is a trace of its own);
    `publish_each` dead-letters each inside its own message's span."""
    letters: list[Delivery] = []
    batches: list[int] = []

    async def keep(batch: Sequence[Delivery]) -> list[Outcome]:
        letters.extend(batch)
        return [Outcome.ACK] * len(batch)

    async def reject_all(batch: Sequence[Delivery]) -> list[Outcome]:
        batches.append(len(batch))
        await publish_each(
            bus, [(d, Outgoing(DEAD_LETTER_KEY, b"{}", {"x-of": d.body.decode()})) for d in batch]
        )
        return [Outcome.REJECT] * len(batch)

    traces = {}
    for name in ("one", "two"):
        with spans.tracer.start_as_current_span(name) as span:
            await bus.publish_many([Outgoing("job.created", name.encode())])
            traces[name] = span.get_span_context().trace_id
    await bus.consume(DEAD_LETTERS, keep, prefetch=10, batch_size=10)
    await bus.consume(JOBS_CREATED, reject_all, prefetch=10, batch_size=10)
    await wait_until_async(lambda: len(letters) == 2, message="both dead letters")

    assert batches == [2]  # one batch of two: its own span, linked to both
    for letter in letters:
        of = str(letter.headers["x-of"])
        assert trace_id_of(letter) == traces[of], of


async def test_an_unsampled_trace_is_forwarded_without_spans(
    bus: EmbeddedBus, spans: Spans
) -> None:
    await an_unsampled_trace_is_forwarded_without_spans(bus, spans)


def context_of(span: ReadableSpan) -> SpanContext:
    context = span.get_span_context()
    assert context is not None  # a finished SDK span has one
    return context


@pytest.mark.parametrize("one_trace", [True, False])
async def test_a_batch_of_one_traces_messages_is_part_of_that_trace(
    bus: EmbeddedBus, spans: Spans, one_trace: bool
) -> None:
    """Two messages taken in one batch: from one trace (one job's events arriving
    together), the batch span is that trace's, the child of the first message's producer;
    from two traces, it starts its own. Linked to both producers either way."""
    batches: list[int] = []

    async def take(batch: Sequence[Delivery]) -> list[Outcome]:
        batches.append(len(batch))
        return [Outcome.ACK] * len(batch)

    with spans.tracer.start_as_current_span("job") as job:
        for name in ("first", "second"):
            # the same job's trace, or each a new trace of its own
            with spans.tracer.start_as_current_span(name, context=None if one_trace else Context()):
                await bus.publish_many([Outgoing("job.created", name.encode())])
    producers = [context_of(s) for s in spans.named("publish ")]
    await bus.consume(JOBS_CREATED, take, prefetch=10, batch_size=10)
    await wait_until_async(lambda: sum(batches) == 2, message="both messages taken")

    assert batches == [2]
    (batch,) = [s for s in spans.named("process ") if s.kind.name == "CONSUMER"]
    assert [link.context.span_id for link in batch.links] == [p.span_id for p in producers]
    if one_trace:
        assert context_of(batch).trace_id == job.get_span_context().trace_id
        assert batch.parent is not None
        assert batch.parent.span_id == producers[0].span_id
    else:
        assert len({p.trace_id for p in producers}) == 2
        assert batch.parent is None
        assert context_of(batch).trace_id not in {p.trace_id for p in producers}


async def test_a_publish_span_names_its_routing_key_as_plain_text(
    bus: EmbeddedBus, spans: Spans
) -> None:
    """The gateway publishes with an EventType as routing key: the span keeps the key as
    text (a str, what every exporter writes as a string), not the enum member."""
    with spans.tracer.start_as_current_span("request", context=Context()):
        await bus.publish_many([Outgoing(EventType.CREATED, b"{}", message_id="m-1")])
    (published,) = spans.named("publish ")
    key = (published.attributes or {})["messaging.rabbitmq.destination.routing_key"]
    assert (type(key), key) == (str, "job.created")
