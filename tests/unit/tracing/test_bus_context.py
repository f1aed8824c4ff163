"""Trace context crosses the embedded bus: publish → consume, a scheduled retry and a dead
letter stay in the trace of the job that caused them (scenarios.py; the same scenarios
run on RabbitMQ in tests/integration/ports/test_bus_tracing.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from tests.unit.tracing.scenarios import (
    Spans,
    a_dead_letter_stays_in_the_rejected_messages_trace,
    context_survives_a_scheduled_retry,
    context_survives_publish_and_consume,
)
from tests.waiting import wait_until_async

from observatory.core.bus.embedded import EmbeddedBus
from observatory.core.bus.port import Delivery, Outcome, Outgoing
from observatory.core.bus.topology import DEAD_LETTER_KEY, DEAD_LETTERS
from observatory.core.bus.tracing import trace_headers

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
