"""The services' own spans (core.tracing.spans): nothing when off; on, request spans that
continue a caller's traceparent, child spans only inside a trace, store spans at the
composition root, trace ids in log lines and exemplars; ODTO_TRACE_URL's template."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, SpanKind, TraceFlags
from pydantic import ValidationError
from tests.unit.tracing.scenarios import Spans

from observatory.core.backends import Adapters
from observatory.core.settings import Backends
from observatory.core.telemetry import add_trace_ids, configure_logging
from observatory.core.tracing import spans
from observatory.core.tracing.facade import Tracing
from observatory.core.tracing.otel_spans import OtelSpans
from observatory.core.tracing.ports import traced_port
from observatory.services.read_model.settings import ReadModelSettings

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{CALLER_TRACE}-00f067aa0ba902b7-01"


@pytest.fixture
def traced() -> Iterator[Spans]:
    memory = Spans()
    spans.install(OtelSpans(memory.tracer))
    try:
        yield memory
    finally:
        spans.install(None)


def test_off_every_hook_is_a_no_op() -> None:
    assert spans.SOURCE is None
    with spans.span("anything", {"a": 1}), spans.request_span("GET", {}) as answered:
        answered("/x", 200)
        assert spans.current_ids() is None
        assert spans.trace_id() is None
        assert spans.exemplar() is None
        assert spans.capture() is None
    with spans.attached(None):
        pass


def test_a_request_continues_the_callers_trace_and_is_named_by_its_route(traced: Spans) -> None:
    headers = {b"traceparent": TRACEPARENT.encode()}
    with spans.request_span("GET", headers, {"url.path": "/jobs/1"}) as answered:
        ids = spans.current_ids()
        with spans.span("inside"):
            pass
        answered("/jobs/{job_id}", 404)
    request = traced.one("GET /jobs/{job_id}")
    assert request.kind is SpanKind.SERVER
    assert f"{request.context.trace_id:032x}" == CALLER_TRACE
    assert request.parent is not None
    assert request.parent.span_id == 0x00F067AA0BA902B7
    assert request.attributes is not None
    assert request.attributes["http.response.status_code"] == 404
    assert ids == (CALLER_TRACE, f"{request.context.span_id:016x}")
    inside = traced.one("inside")
    assert inside.parent is not None
    assert inside.parent.span_id == request.context.span_id


def test_a_span_outside_any_trace_is_not_recorded(traced: Spans) -> None:
    with spans.span("lonely"):
        assert spans.current_ids() is None
    assert traced.exporter.get_finished_spans() == ()


def test_a_captured_context_is_attached_elsewhere(traced: Spans) -> None:
    with traced.tracer.start_as_current_span("attempt"):
        context = spans.capture()
        expected = spans.current_ids()
    assert spans.current_ids() is None
    assert expected is not None
    with spans.attached(context):
        assert spans.current_ids() == expected
        assert spans.exemplar() == {"trace_id": expected[0], "span_id": expected[1]}


async def test_store_calls_inside_a_trace_are_spans_and_pings_are_not(
    traced: Spans, tmp_path: Path
) -> None:
    adapters = Adapters(Backends(data_dir=tmp_path), Tracing(traced.provider))
    jobs = adapters.jobs
    await jobs.open()
    try:
        assert await jobs.ping()
        assert await jobs.get("1b4e28ba-2fa1-11d2-883f-0016d3cca427") is None  # outside a trace
        with traced.tracer.start_as_current_span("request"):
            assert await jobs.count() == 0
    finally:
        await jobs.close()
    names = [s.name for s in traced.exporter.get_finished_spans()]
    assert names == ["job_store.count", "request"]
    count = traced.one("job_store.count")
    assert count.attributes is not None
    assert (count.attributes["db.system"], count.attributes["db.operation"]) == ("sqlite", "count")
    assert Adapters(Backends(data_dir=tmp_path)).jobs.__class__.__name__ == "SqliteJobStore"


async def test_a_traced_port_keeps_what_the_port_answers_and_raises() -> None:
    class Store:
        async def get(self, key: str) -> str:
            await asyncio.sleep(0)
            if key == "bad":
                raise KeyError(key)
            return key.upper()

        def sync(self) -> int:
            return 7

    port = traced_port(Store(), "thing")
    assert await port.get("x") == "X"
    assert port.sync() == 7
    with pytest.raises(KeyError):
        await port.get("bad")


def test_log_lines_inside_a_trace_carry_its_ids(traced: Spans) -> None:
    """configure_logging adds the ids to every line logged inside a sampled span."""
    saved = structlog.get_config()
    try:
        configure_logging("info")
        assert add_trace_ids in structlog.get_config()["processors"]
    finally:
        structlog.configure(**saved)
    assert add_trace_ids(None, "info", {"event": "outside"}) == {"event": "outside"}
    with traced.tracer.start_as_current_span("job attempt") as span:
        line = add_trace_ids(None, "info", {"event": "inside"})
        context = span.get_span_context()
    assert line == {
        "event": "inside",
        "trace_id": f"{context.trace_id:032x}",
        "span_id": f"{context.span_id:016x}",
    }


def test_the_trace_url_is_a_template_with_the_trace_id() -> None:
    template = "http://localhost:16686/trace/{traceId}"
    assert ReadModelSettings(trace_url=template).trace_url == template
    assert ReadModelSettings(trace_url="").trace_url is None
    for bad in ("http://localhost:16686/trace/", "javascript:alert(1)//{traceId}"):
        with pytest.raises(ValidationError, match="ODTO_TRACE_URL"):
            ReadModelSettings(trace_url=bad)


def test_a_captured_context_becomes_the_trace_headers_of_a_message(traced: Spans) -> None:
    """What a grouped publish puts on each job's message: its own job's context, sampled
    or not (an unsampled job's flag keeps the next hops unsampled)."""
    assert spans.carrier(None) == {}
    with traced.tracer.start_as_current_span("attempt") as span:
        headers = spans.carrier(spans.capture())
        context = span.get_span_context()
    _, trace_id, span_id, flags = headers["traceparent"].split("-")
    assert (trace_id, span_id) == (f"{context.trace_id:032x}", f"{context.span_id:016x}")
    assert int(flags, 16) & 1  # sampled
    unsampled = SpanContext(1, 2, is_remote=True, trace_flags=TraceFlags(0))
    with trace.use_span(NonRecordingSpan(unsampled)):
        headers = spans.carrier(spans.capture())
    assert headers["traceparent"] == f"00-{1:032x}-{2:016x}-00"
    spans.install(None)
    assert spans.carrier(object()) == {}
