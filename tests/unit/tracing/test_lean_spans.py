"""Lean child spans (core/tracing/lean.py) export what the SDK's own spans would, and are
used only where the SDK would record the child without asking the sampler."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    AlwaysRecordSampler,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)
from opentelemetry.trace import Link, SpanContext, SpanKind, TraceFlags
from opentelemetry.trace.status import Status, StatusCode

from observatory.core.tracing.lean import LeanSpan, LeanSpans
from observatory.core.tracing.otel_spans import OtelSpans
from observatory.core.tracing.sampling import PresetIds


class Recorded:
    def __init__(self, sampler: Sampler | None = None, *, preset_ids: bool = False) -> None:
        self.exporter = InMemorySpanExporter()
        ids = PresetIds() if preset_ids else None  # as provider.py builds it
        self.provider = TracerProvider(sampler=sampler, id_generator=ids)
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.tracer = self.provider.get_tracer("tests")

    def finished(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())


@pytest.fixture
def recorded() -> Iterator[Recorded]:
    found = Recorded()
    yield found
    found.provider.shutdown()


def lean_of(recorded: Recorded) -> LeanSpans:
    lean = LeanSpans.of(recorded.tracer)
    assert lean is not None
    return lean


REMOTE = SpanContext(
    0x0AF7651916CD43DD8448EB211C80319C,
    0xB7AD6B7169203331,
    is_remote=True,
    trace_flags=TraceFlags(TraceFlags.SAMPLED | TraceFlags.RANDOM_TRACE_ID),
)


def shown(span: ReadableSpan) -> dict[str, Any]:
    """What a trace viewer shows of a span, its own id and times aside."""
    assert span.context is not None
    parent = span.parent
    return {
        "name": span.name,
        "kind": span.kind,
        "trace": span.context.trace_id,
        "flags": int(span.context.trace_flags),
        "remote": span.context.is_remote,
        "state": span.context.trace_state.to_header(),
        "parent": None if parent is None else (parent.trace_id, parent.span_id, parent.is_remote),
        "attributes": dict(span.attributes or {}),
        "links": [(link.context.span_id, dict(link.attributes or {})) for link in span.links],
        "events": [
            (e.name, {k: v for k, v in (e.attributes or {}).items() if "stacktrace" not in k})
            for e in span.events
        ],
        "status": (span.status.status_code, span.status.description),
        "dropped": (span.dropped_attributes, span.dropped_links, span.dropped_events),
        "resource": dict(span.resource.attributes),
        "scope": span.instrumentation_scope,
    }


def both_ways(recorded: Recorded, body: Any, **span: Any) -> tuple[ReadableSpan, ReadableSpan]:
    """The span `body` makes inside the SDK's child of REMOTE and inside a lean one."""
    parent = trace.set_span_in_context(trace.NonRecordingSpan(REMOTE))
    name, kind = span.pop("name"), span.pop("kind")
    links = span.pop("links", ())
    for started in (
        lambda: recorded.tracer.start_as_current_span(
            name, context=parent, kind=kind, links=links, attributes=dict(span)
        ),
        lambda: lean_of(recorded).child(name, REMOTE, kind, dict(span), links),
    ):
        try:
            with started() as current:
                body(current)
        except ValueError:
            pass
    sdk, lean = recorded.finished()
    return sdk, lean


def test_a_lean_child_is_exported_as_the_sdk_exports_it(recorded: Recorded) -> None:
    link = SpanContext(7, 8, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))

    def body(current: trace.Span) -> None:
        current.set_attribute("job.attempt", 2)
        current.set_attributes({"http.route": "/jobs", "ok": True})
        current.add_event("retry scheduled", {"delayMs": 250})
        current.update_name("process jobs.created message")
        current.set_status(StatusCode.ERROR, "gave up")

    sdk, lean = both_ways(
        recorded,
        body,
        name="process jobs.created",
        kind=SpanKind.CONSUMER,
        links=[Link(link, {"why": "batch"})],
        **{"messaging.system": "rabbitmq", "job.id": "j-1", "ratio": 0.5},
    )
    assert shown(lean) == shown(sdk)
    assert lean.attributes == {
        "messaging.system": "rabbitmq",
        "job.id": "j-1",
        "ratio": 0.5,
        "job.attempt": 2,
        "http.route": "/jobs",
        "ok": True,
    }
    assert lean.parent == REMOTE
    assert lean.context is not None
    assert not lean.context.is_remote
    assert lean.context.span_id != REMOTE.span_id
    assert lean.start_time is not None
    assert lean.end_time is not None
    assert lean.start_time <= lean.end_time


def test_an_exception_through_a_lean_span_is_recorded_as_the_sdk_records_it(
    recorded: Recorded,
) -> None:
    def body(current: trace.Span) -> None:
        raise ValueError("payload too deep")

    sdk, lean = both_ways(recorded, body, name="validate job", kind=SpanKind.INTERNAL)
    assert shown(lean) == shown(sdk)
    assert lean.status.status_code is StatusCode.ERROR
    assert lean.status.description == "ValueError: payload too deep"
    (event,) = lean.events
    assert event.attributes is not None
    assert event.attributes["exception.type"] == "ValueError"
    assert "payload too deep" in str(event.attributes["exception.stacktrace"])


def test_values_the_sdk_would_clean_are_cleaned_the_same_way(
    recorded: Recorded, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "8")
    monkeypatch.setenv("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "4")
    odd = Recorded()  # limits are read when the provider and the lean spans are made

    def body(current: trace.Span) -> None:
        current.set_attribute("list", [1, 2, 3])  # a list, as callers may pass
        current.set_attribute("none", None)  # what the SDK does with None
        current.set_attribute("long", "x" * 50)

    sdk, lean = both_ways(odd, body, name="n", kind=SpanKind.INTERNAL, a="1", b=2)
    assert shown(lean)["attributes"] == shown(sdk)["attributes"]
    # four at most, the oldest dropped first; lists kept as tuples; text cut at 8
    assert len(lean.attributes or {}) == 4
    assert "a" not in (lean.attributes or {})
    assert (lean.attributes or {})["list"] == (1, 2, 3)
    assert (lean.attributes or {})["long"] == "x" * 8


def test_past_the_link_and_event_limits_the_newest_are_kept_as_the_sdk_keeps_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_SPAN_LINK_COUNT_LIMIT", "2")
    monkeypatch.setenv("OTEL_SPAN_EVENT_COUNT_LIMIT", "2")
    limited = Recorded()
    links = [Link(SpanContext(9, n, is_remote=True, trace_flags=TraceFlags(1))) for n in (1, 2, 3)]

    def body(current: trace.Span) -> None:
        for n in range(3):
            current.add_event(f"event {n}")

    sdk, lean = both_ways(limited, body, name="batch", kind=SpanKind.CONSUMER, links=links)
    assert shown(lean) == shown(sdk)
    assert [link.context.span_id for link in lean.links] == [2, 3]
    assert [event.name for event in lean.events] == ["event 1", "event 2"]
    assert (lean.dropped_links, lean.dropped_events) == (1, 1)


def test_an_ended_span_changes_no_more_and_ok_is_final(recorded: Recorded) -> None:
    with lean_of(recorded).child("n", REMOTE, SpanKind.INTERNAL, {}) as current:
        assert isinstance(current, LeanSpan)
        assert current.is_recording()
        current.set_status(Status(StatusCode.OK))
        current.set_status(StatusCode.ERROR, "too late")
    current.set_attribute("after", 1)
    current.update_name("renamed")
    current.end()
    (span,) = recorded.finished()
    assert span.name == "n"
    assert dict(span.attributes or {}) == {}
    assert span.status.status_code is StatusCode.OK
    assert not current.is_recording()


@pytest.mark.parametrize(
    ("sampler", "lean"),
    [
        (None, True),  # the SDK's default: ParentBased(ALWAYS_ON)
        (ParentBased(TraceIdRatioBased(0.01)), True),  # parentbased_traceidratio
        (TraceIdRatioBased(0.5), False),  # decides children too
        (ALWAYS_ON, False),
        (ParentBased(ALWAYS_ON, local_parent_sampled=ALWAYS_OFF), False),
        (ParentBased(ALWAYS_ON, remote_parent_sampled=ALWAYS_OFF), False),
    ],
)
def test_lean_only_where_the_sampler_records_every_sampled_parents_child(
    sampler: Sampler | None, lean: bool
) -> None:
    assert (LeanSpans.of(Recorded(sampler).tracer) is not None) is lean
    assert LeanSpans.of(trace.NoOpTracer()) is None


def test_a_sampler_that_refuses_children_is_still_obeyed() -> None:
    refusing = Recorded(ParentBased(ALWAYS_ON, local_parent_sampled=ALWAYS_OFF))
    spans = OtelSpans(refusing.tracer)
    with (
        refusing.tracer.start_as_current_span("request"),
        spans.span("validate job", {}, server=False),
    ):
        pass
    assert [s.name for s in refusing.finished()] == ["request"]


def test_a_service_span_is_lean_current_and_the_child_of_the_current_span(
    recorded: Recorded,
) -> None:
    spans = OtelSpans(recorded.tracer)
    with recorded.tracer.start_as_current_span("POST /jobs") as request:
        with spans.span("validate job", {"job.type": "x"}, server=False):
            inside = spans.ids()
            assert isinstance(trace.get_current_span(), LeanSpan)
        assert trace.get_current_span() is request
    validate, post = recorded.finished()
    assert validate.name == "validate job"
    assert validate.parent == request.get_span_context()
    assert validate.context is not None
    assert post.context is not None
    assert validate.context.trace_id == post.context.trace_id
    assert inside == (f"{post.context.trace_id:032x}", f"{validate.context.span_id:016x}")
    assert validate.context.trace_flags == post.context.trace_flags


def test_a_recorded_but_unsampled_parent_gets_the_sdks_child() -> None:
    keep = AlwaysRecordSampler(ALWAYS_OFF)  # records, never samples
    record_only = Recorded(
        ParentBased(ALWAYS_ON, remote_parent_not_sampled=keep, local_parent_not_sampled=keep)
    )
    spans = OtelSpans(record_only.tracer)
    unsampled = SpanContext(1, 2, is_remote=True, trace_flags=TraceFlags(TraceFlags.DEFAULT))
    parent = trace.set_span_in_context(trace.NonRecordingSpan(unsampled))
    with (
        record_only.tracer.start_as_current_span("root", context=parent),
        spans.span("child", {}, server=False),
    ):
        child = trace.get_current_span()
        assert child.is_recording()
        assert not isinstance(child, LeanSpan)
        assert not child.get_span_context().trace_flags.sampled
    assert record_only.finished() == []  # neither is sampled: nothing exported


@pytest.mark.parametrize(
    "headers",
    [
        {},  # a new trace
        {b"traceparent": b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"},
        {
            b"traceparent": b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03",
            b"tracestate": b"vendor=x",
        },
    ],
)
def test_a_sampled_request_span_is_exported_as_the_sdk_exports_it(
    headers: dict[bytes, bytes],
) -> None:
    shown_ways = []
    for lean in (False, True):
        memory = Recorded(ParentBased(ALWAYS_ON), preset_ids=True)
        way = OtelSpans(memory.tracer)
        assert way.lean is not None
        if not lean:
            way.lean = None  # the SDK's own way
        with way.request("POST", headers, {"http.request.method": "POST"}) as answered:
            assert isinstance(trace.get_current_span(), LeanSpan) is lean
            answered("/jobs", 503)
        (span,) = memory.finished()
        shown_ways.append(shown(span))
    sdk, lean_shown = shown_ways
    if not headers:  # each way's new trace has its own random id
        assert sdk.pop("trace") != lean_shown.pop("trace")
    assert lean_shown == sdk
    assert lean_shown["name"] == "POST /jobs"
    assert lean_shown["status"] == (StatusCode.ERROR, None)
    assert lean_shown["attributes"] == {
        "http.request.method": "POST",
        "http.route": "/jobs",
        "http.response.status_code": 503,
    }
