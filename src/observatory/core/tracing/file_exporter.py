"""A span exporter that appends OTLP JSON lines to a file (ODTO_TRACE_FILE).

Each export appends one line per resource: `{"resourceSpans": [<one ResourceSpans>]}`,
OTLP/JSON as the OTLP/HTTP JSON encoding writes it (hex ids, enum numbers, 64-bit
integers as strings), so each line is also a TracesData the OpenTelemetry Collector's
`otlpjsonfile` receiver reads. Each line is written with one
append, so the services of one system may share a file. Tests and offline use read it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanContext

Json = dict[str, Any]


def _value(value: Any) -> Json:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, (list, tuple)):
        return {"arrayValue": {"values": [_value(item) for item in value]}}
    return {"stringValue": str(value)}


def _attributes(attributes: Mapping[str, Any] | None) -> list[Json]:
    return [{"key": key, "value": _value(value)} for key, value in (attributes or {}).items()]


def _ids(context: SpanContext) -> Json:
    return {"traceId": f"{context.trace_id:032x}", "spanId": f"{context.span_id:016x}"}


def span_json(span: ReadableSpan) -> Json:
    """One span in OTLP/JSON form."""
    context = span.get_span_context()
    assert context is not None  # an SDK span always has one
    document: Json = {
        **_ids(context),
        "name": span.name,
        "kind": span.kind.value + 1,  # the SDK counts from INTERNAL = 0, OTLP from UNSPECIFIED
        "startTimeUnixNano": str(span.start_time or 0),
        "endTimeUnixNano": str(span.end_time or 0),
        "attributes": _attributes(span.attributes),
        "status": {"code": span.status.status_code.value},
    }
    if span.parent is not None:
        document["parentSpanId"] = f"{span.parent.span_id:016x}"
    if context.trace_state:
        document["traceState"] = context.trace_state.to_header()
    if span.status.description:
        document["status"]["message"] = span.status.description
    if span.events:
        document["events"] = [
            {
                "name": event.name,
                "timeUnixNano": str(event.timestamp),
                "attributes": _attributes(event.attributes),
            }
            for event in span.events
        ]
    if span.links:
        document["links"] = [
            {**_ids(link.context), "attributes": _attributes(link.attributes)}
            for link in span.links
        ]
    return document


def resource_spans(spans: Sequence[ReadableSpan]) -> list[Json]:
    """The spans grouped by resource, then by instrumentation scope: ResourceSpans objects."""
    grouped: dict[int, tuple[Any, dict[tuple[str, str], list[Json]]]] = {}
    for span in spans:
        _, scopes = grouped.setdefault(id(span.resource), (span.resource, {}))
        scope = span.instrumentation_scope
        key = (scope.name, scope.version or "") if scope is not None else ("", "")
        scopes.setdefault(key, []).append(span_json(span))
    return [
        {
            "resource": {"attributes": _attributes(resource.attributes)},
            "scopeSpans": [
                {"scope": {"name": name, "version": version}, "spans": documents}
                for (name, version), documents in scopes.items()
            ],
        }
        for resource, scopes in grouped.values()
    ]


class OtlpJsonLinesExporter(SpanExporter):
    """Appends each export's ResourceSpans to `path`, one JSON object per line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = b"".join(
            orjson.dumps({"resourceSpans": [r]}) + b"\n" for r in resource_spans(spans)
        )
        try:
            with self._lock:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                try:
                    os.write(fd, lines)
                finally:
                    os.close(fd)
        except OSError:
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        """Nothing is held open between exports."""

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
