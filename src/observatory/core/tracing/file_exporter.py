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

_TRUE, _FALSE = b'{"boolValue":true}', b'{"boolValue":false}'


def _value(value: Any) -> bytes:
    kind = type(value)
    if kind is str:  # nearly every attribute
        return b'{"stringValue":' + orjson.dumps(value) + b"}"
    if isinstance(value, bool):
        return _TRUE if value else _FALSE
    if isinstance(value, int):
        return b'{"intValue":"%d"}' % value
    if isinstance(value, float):
        return b'{"doubleValue":' + orjson.dumps(value) + b"}"
    if isinstance(value, (list, tuple)):
        return b'{"arrayValue":{"values":[' + b",".join(map(_value, value)) + b"]}}"
    return b'{"stringValue":' + orjson.dumps(str(value)) + b"}"


_KEYS: dict[str, bytes] = {}
"""`{"key":<key>,"value":` by key: spans repeat a few attribute names (bounded)."""
_KEYS_MOST = 1024


def _key(key: str) -> bytes:
    found = _KEYS.get(key)
    if found is None:
        found = b'{"key":' + orjson.dumps(key) + b',"value":'
        if len(_KEYS) < _KEYS_MOST:
            _KEYS[key] = found
    return found


def _attributes(attributes: Mapping[str, Any] | None) -> bytes:
    if not attributes:
        return b"[]"
    return b"[" + b"},".join([_key(k) + _value(v) for k, v in attributes.items()]) + b"}]"


def _ids(context: SpanContext) -> bytes:
    return b'"traceId":"%032x","spanId":"%016x"' % (context.trace_id, context.span_id)


def span_json(span: ReadableSpan) -> bytes:
    """One span in OTLP/JSON form, encoded.

    Built as bytes, not as dicts and lists to serialise: an export of hundreds of spans
    would otherwise make thousands of small containers, and the garbage collector's
    passes over them cost as much as the encoding (measured: half of the export's time).
    """
    context = span.get_span_context()
    assert context is not None  # an SDK span always has one
    status = span.status
    code = status.status_code.value
    parent = span.parent
    # the SDK counts kinds from INTERNAL = 0, OTLP from UNSPECIFIED
    parts = [
        b'{"traceId":"%032x","spanId":"%016x","name":%s,"kind":%d,"startTimeUnixNano":"%d",'
        b'"endTimeUnixNano":"%d","attributes":%s,'
        % (
            context.trace_id,
            context.span_id,
            orjson.dumps(span.name),
            span.kind.value + 1,
            span.start_time or 0,
            span.end_time or 0,
            _attributes(span.attributes),
        )
        + (
            b'"status":{"code":%d,"message":%s}' % (code, orjson.dumps(status.description))
            if status.description
            else b'"status":{"code":%d}' % code
        )
    ]
    if parent is not None:
        parts.append(b'"parentSpanId":"%016x"' % parent.span_id)
    if context.trace_state:
        parts.append(b'"traceState":' + orjson.dumps(context.trace_state.to_header()))
    events = span.events
    if events:
        parts.append(
            b'"events":['
            + b",".join(
                b'{"name":%s,"timeUnixNano":"%d","attributes":%s}'
                % (orjson.dumps(event.name), event.timestamp, _attributes(event.attributes))
                for event in events
            )
            + b"]"
        )
    links = span.links
    if links:
        parts.append(
            b'"links":['
            + b",".join(
                b"{" + _ids(link.context) + b',"attributes":' + _attributes(link.attributes) + b"}"
                for link in links
            )
            + b"]"
        )
    return b",".join(parts) + b"}"


def resource_lines(spans: Sequence[ReadableSpan]) -> bytes:
    """The spans grouped by resource, then by instrumentation scope: one line
    `{"resourceSpans": [<ResourceSpans>]}` per resource."""
    grouped: dict[int, tuple[Any, dict[tuple[str, str], list[bytes]]]] = {}
    for span in spans:
        try:
            document = span_json(span)
        except TypeError:  # text JSON cannot hold (a lone surrogate): this span alone is lost
            continue
        _, scopes = grouped.setdefault(id(span.resource), (span.resource, {}))
        scope = span.instrumentation_scope
        key = (scope.name, scope.version or "") if scope is not None else ("", "")
        scopes.setdefault(key, []).append(document)
    lines = []
    for resource, scopes in grouped.values():
        scope_spans = b",".join(
            b'{"scope":{"name":%s,"version":%s},"spans":[%s]}'
            % (orjson.dumps(name), orjson.dumps(version), b",".join(documents))
            for (name, version), documents in scopes.items()
        )
        lines.append(
            b'{"resourceSpans":[{"resource":{"attributes":%s},"scopeSpans":[%s]}]}\n'
            % (_attributes(resource.attributes), scope_spans)
        )
    return b"".join(lines)


class OtlpJsonLinesExporter(SpanExporter):
    """Appends each export's ResourceSpans to `path`, one JSON object per line."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = resource_lines(spans)
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
