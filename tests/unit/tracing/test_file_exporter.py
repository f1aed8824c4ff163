"""ODTO_TRACE_FILE's exporter writes OTLP JSON lines that read back as the spans made."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, SpanKind, StatusCode

from observatory.core.tracing.file_exporter import OtlpJsonLinesExporter

pytestmark = pytest.mark.unit


def attribute(attributes: list[dict[str, Any]], key: str) -> dict[str, Any]:
    return next(a["value"] for a in attributes if a["key"] == key)


def test_spans_are_written_as_otlp_json_lines_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "traces" / "spans.jsonl"
    provider = TracerProvider(resource=Resource.create({"service.name": "gateway"}))
    provider.add_span_processor(BatchSpanProcessor(OtlpJsonLinesExporter(path)))
    tracer = provider.get_tracer("observatory", "1.0")
    with tracer.start_as_current_span("POST /jobs", kind=SpanKind.SERVER) as request:
        other = tracer.start_span("elsewhere")
        other.end()
        with tracer.start_as_current_span(
            "publish observatory.events",
            kind=SpanKind.PRODUCER,
            links=[Link(other.get_span_context(), {"why": "batch"})],
            attributes={"n": 3, "ratio": 0.5, "ok": True, "keys": ("a", "b"), "name": "x"},
        ) as publish:
            publish.set_status(StatusCode.ERROR, "refused")
            publish.add_event("retry", {"attempt": 2})
    provider.shutdown()

    lines = path.read_text().splitlines()
    documents = [json.loads(line) for line in lines]
    assert all(len(d["resourceSpans"]) == 1 for d in documents)  # one ResourceSpans a line
    resource = documents[0]["resourceSpans"][0]["resource"]
    assert attribute(resource["attributes"], "service.name") == {"stringValue": "gateway"}
    spans = {
        s["name"]: s
        for d in documents
        for scope in d["resourceSpans"][0]["scopeSpans"]
        for s in scope["spans"]
    }
    assert documents[0]["resourceSpans"][0]["scopeSpans"][0]["scope"] == {
        "name": "observatory",
        "version": "1.0",
    }
    server, producer = spans["POST /jobs"], spans["publish observatory.events"]
    trace_id = f"{request.get_span_context().trace_id:032x}"
    assert server["traceId"] == producer["traceId"] == trace_id
    assert len(producer["spanId"]) == 16
    assert "parentSpanId" not in server
    assert producer["parentSpanId"] == server["spanId"]
    assert (server["kind"], producer["kind"]) == (2, 4)  # OTLP SERVER and PRODUCER
    assert int(producer["endTimeUnixNano"]) >= int(producer["startTimeUnixNano"]) > 0
    assert producer["status"] == {"code": 2, "message": "refused"}
    assert producer["links"] == [
        {
            "traceId": f"{other.get_span_context().trace_id:032x}",
            "spanId": f"{other.get_span_context().span_id:016x}",
            "attributes": [{"key": "why", "value": {"stringValue": "batch"}}],
        }
    ]
    assert producer["events"][0]["name"] == "retry"
    assert attribute(producer["events"][0]["attributes"], "attempt") == {"intValue": "2"}
    values = producer["attributes"]
    assert attribute(values, "n") == {"intValue": "3"}
    assert attribute(values, "ratio") == {"doubleValue": 0.5}
    assert attribute(values, "ok") == {"boolValue": True}
    assert attribute(values, "name") == {"stringValue": "x"}
    assert attribute(values, "keys") == {
        "arrayValue": {"values": [{"stringValue": "a"}, {"stringValue": "b"}]}
    }


def test_exports_append_to_what_the_file_already_holds(tmp_path: Path) -> None:
    path = tmp_path / "spans.jsonl"
    path.write_text('{"resourceSpans": []}\n')
    for service in ("gateway", "processor"):  # two processes sharing one file
        provider = TracerProvider(resource=Resource.create({"service.name": service}))
        provider.add_span_processor(BatchSpanProcessor(OtlpJsonLinesExporter(path)))
        provider.get_tracer("t").start_span("work").end()
        provider.shutdown()
    services = [
        attribute(d["resourceSpans"][0]["resource"]["attributes"], "service.name")
        for d in map(json.loads, path.read_text().splitlines()[1:])
    ]
    assert services == [{"stringValue": "gateway"}, {"stringValue": "processor"}]
    assert trace.get_current_span() is trace.INVALID_SPAN  # nothing leaked into the test


def test_text_that_json_must_escape_reads_back_as_it_was(tmp_path: Path) -> None:
    """The lines are encoded piece by piece: quotes, backslashes, control characters and
    non-ASCII text in names, keys, values, scope and resource stay one line each and read
    back unchanged; a big integer keeps every digit, a NaN becomes JSON's null."""
    path = tmp_path / "spans.jsonl"
    odd = 'say "hi"\\\n\t\u2028 ☃ é'
    provider = TracerProvider(resource=Resource.create({"service.name": odd}))
    provider.add_span_processor(BatchSpanProcessor(OtlpJsonLinesExporter(path)))
    tracer = provider.get_tracer(odd, odd)
    with tracer.start_as_current_span(odd, attributes={odd: odd, "big": 2**62}) as span:
        span.set_attribute("nan", float("nan"))
        span.set_attribute("flags", (True, False))
        span.set_status(StatusCode.ERROR, odd)
        span.add_event(odd, {odd: 1.5})
    provider.shutdown()

    (line, end) = path.read_text().split("\n")  # JSON lines end at "\n" only (not U+2028)
    assert end == ""
    (resource_spans,) = json.loads(line)["resourceSpans"]
    assert attribute(resource_spans["resource"]["attributes"], "service.name") == {
        "stringValue": odd
    }
    (scope,) = resource_spans["scopeSpans"]
    assert scope["scope"] == {"name": odd, "version": odd}
    (written,) = scope["spans"]
    assert written["name"] == odd
    assert written["status"] == {"code": 2, "message": odd}
    assert attribute(written["attributes"], odd) == {"stringValue": odd}
    assert attribute(written["attributes"], "big") == {"intValue": str(2**62)}
    assert attribute(written["attributes"], "nan") == {"doubleValue": None}
    assert attribute(written["attributes"], "flags") == {
        "arrayValue": {"values": [{"boolValue": True}, {"boolValue": False}]}
    }
    assert written["events"][0]["name"] == odd
    assert attribute(written["events"][0]["attributes"], odd) == {"doubleValue": 1.5}


def test_a_span_json_cannot_hold_is_lost_alone(tmp_path: Path) -> None:
    """A lone surrogate is text no JSON encoder writes: that span is left out, the others
    of its export are written."""
    path = tmp_path / "spans.jsonl"
    provider = TracerProvider(resource=Resource.create({"service.name": "gateway"}))
    provider.add_span_processor(BatchSpanProcessor(OtlpJsonLinesExporter(path)))
    tracer = provider.get_tracer("t")
    tracer.start_span("before").end()
    tracer.start_span("bad", attributes={"url.path": "/jobs/\ud800"}).end()
    tracer.start_span("after").end()
    provider.shutdown()

    (line,) = path.read_text().splitlines()
    (scope,) = json.loads(line)["resourceSpans"][0]["scopeSpans"]
    assert [s["name"] for s in scope["spans"]] == ["before", "after"]
