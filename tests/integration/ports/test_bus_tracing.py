"""Trace context crosses the real RabbitMQ bus: publish → consume, a retry through a delay
queue (RabbitMQ dead-letters it back with its headers) and a dead letter stay in the
trace of the job that caused them. The same scenarios as the embedded bus's unit tests
(tests/unit/tracing/scenarios.py), under a namespace of their own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from tests.integration.ports.engines import delete_rabbit_namespace
from tests.unit.tracing.scenarios import (
    Spans,
    a_dead_letter_stays_in_the_rejected_messages_trace,
    an_unsampled_trace_is_forwarded_without_spans,
    context_survives_a_scheduled_retry,
    context_survives_publish_and_consume,
)

from observatory.core.bus.rabbitmq import RabbitBus

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
