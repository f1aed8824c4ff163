"""Trace context crosses the real RabbitMQ bus: publish → consume, a retry through a delay
queue (RabbitMQ dead-letters it back with its headers) and a dead letter stay in the
trace of the job that caused them. The same scenarios as the embedded bus's unit tests
(tests/unit/tracing/scenarios.py), under a namespace of their own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from opentelemetry.trace import set_span_in_context
from tests.integration.ports.engines import delete_rabbit_namespace
from tests.unit.tracing.scenarios import (
    Recorder,
    Spans,
    a_dead_letter_stays_in_the_rejected_messages_trace,
    an_unsampled_trace_is_forwarded_without_spans,
    context_survives_a_scheduled_retry,
    context_survives_publish_and_consume,
    ids,
    linked,
    parent_id,
    trace_id_of,
)
from tests.waiting import wait_until_async

from observatory.core.bus.port import Outgoing
from observatory.core.bus.rabbitmq import RabbitBus
from observatory.core.bus.topology import JOBS_COMPLETED
from observatory.core.tracing.bus import carried_by

pytestmark = pytest.mark.integration


@pytest.fixture
def spans() -> Spans:
    return Spans()


@pytest.fixture
async def bus(rabbitmq_url: str, namespace: str, spans: Spans) -> AsyncIterator[RabbitBus]:
    bus = RabbitBus(rabbitmq_url, namespace=namespace, tracer=spans.tracing.bus("rabbitmq"))
    await bus.open()
    try:
        yield bus
    finally:
        await bus.close()
        await delete_rabbit_namespace(rabbitmq_url, namespace)


async def test_a_consumer_joins_the_producers_trace(bus: RabbitBus, spans: Spans) -> None:
    await context_survives_publish_and_consume(bus, spans, bus.names.exchange)
    systems = {(s.attributes or {}).get("messaging.system") for s in spans.named("p")}
    assert systems == {"rabbitmq"}


async def test_a_retry_through_a_delay_queue_keeps_the_trace(bus: RabbitBus, spans: Spans) -> None:
    await context_survives_a_scheduled_retry(bus, spans)


async def test_a_dead_letter_keeps_the_rejected_messages_trace(
    bus: RabbitBus, spans: Spans
) -> None:
    await a_dead_letter_stays_in_the_rejected_messages_trace(bus, spans)


async def test_an_unsampled_trace_is_forwarded_without_spans(bus: RabbitBus, spans: Spans) -> None:
    await an_unsampled_trace_is_forwarded_without_spans(bus, spans)


async def test_events_that_travel_in_one_bundle_stay_in_their_own_traces(
    rabbitmq_url: str, namespace: str, spans: Spans
) -> None:
    """With event bundles (ODTO_EVENT_BUNDLES), two jobs' completions published in one
    round are one message; each event's work is still a span of its own job's trace, the
    child of the span that published it, and the bundle's process span links to both."""
    bus = RabbitBus(
        rabbitmq_url, namespace=namespace, tracer=spans.tracing.bus("rabbitmq"), bundle_events=True
    )
    await bus.open()
    try:
        jobs = [spans.tracer.start_span(f"job {n}") for n in (1, 2)]
        messages = [
            Outgoing(
                "job.completed", f'{{"job": {n}}}'.encode(), carried_by(set_span_in_context(j))
            )
            for n, j in enumerate(jobs, start=1)
        ]
        for job in jobs:
            job.end()
        await bus.publish_many(messages)
        assert await bus.queue_depth(JOBS_COMPLETED) == 1  # one message for both

        recorder = Recorder(bus)
        await bus.consume(JOBS_COMPLETED, recorder, prefetch=10, batch_size=10)
        await wait_until_async(lambda: len(recorder.deliveries) == 2, message="both events")
        await wait_until_async(
            lambda: len(spans.named("process ")) == 3, message="a batch span and two messages'"
        )
        assert [trace_id_of(d) for d in recorder.deliveries] == [ids(j)[0] for j in jobs]
        works = sorted(
            (s for s in spans.named("process ") if s.name.endswith(" message")),
            key=lambda s: [ids(j)[0] for j in jobs].index(ids(s)[0]),
        )
        assert [parent_id(s) for s in works] == [ids(j)[1] for j in jobs]
        [batch] = [s for s in spans.named("process ") if not s.name.endswith(" message")]
        assert sorted(linked(batch)) == sorted(ids(j)[1] for j in jobs)
    finally:
        await bus.close()
        await delete_rabbit_namespace(rabbitmq_url, namespace)
