"""Trace context crosses the embedded bus: publish → consume, a scheduled retry and a dead
letter stay in the trace of the job that caused them (scenarios.py; the same scenarios
run on RabbitMQ in tests/integration/ports/test_bus_tracing.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.unit.tracing.scenarios import (
    Spans,
    a_dead_letter_stays_in_the_rejected_messages_trace,
    context_survives_a_scheduled_retry,
    context_survives_publish_and_consume,
)

from observatory.core.bus.embedded import EmbeddedBus

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
