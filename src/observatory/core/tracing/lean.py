"""Child spans without the SDK's per-span machinery: the cost of tracing at 100 %.

A span of the SDK costs about 20 µs to start and end (the sampler asked, attributes
validated one by one under a lock, a second `ReadableSpan` copied at the end, three
layers of context managers); a job has four or more. Most of ours are children of a
sampled span, which the default sampler (`parentbased_*`) records without asking anyone:
for those, `LeanSpans` builds the span context itself, keeps attributes in a plain dict
and hands one finished `ReadableSpan` to the tracer's span processors (about 6 µs;
`python -m benchmarks.span_cost` measures both ways). A sampled request span is started
the same way from the sampler's answer (`decided`). The exported span is the one the SDK
would have exported: name, kind, parent, ids, links, attributes (cleaned and limited as
the SDK does when one is not a plain value or there are too many), events, status and,
when the block raises, the exception event and ERROR status (`trace.use_span` records
them on any API span).

Anything else goes the standard way: a root span other than a sampled request's (a
consumer batch of several traces), a parent not sampled, a sampler that might say no to
a sampled parent's child, a tracer that is not the SDK's (`LeanSpans.of` answers None).
Processors get `on_end` only: the SDK's batch and simple processors do nothing on start,
and they are the only ones provider.py installs.

Loaded only when tracing is on.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanLimits, Tracer
from opentelemetry.sdk.trace.sampling import SamplingResult
from opentelemetry.sdk.util import BoundedList
from opentelemetry.trace import Link, SpanContext, SpanKind, TraceFlags, TraceState
from opentelemetry.trace.status import Status, StatusCode
from opentelemetry.util import types

_PLAIN = frozenset({str, int, float, bool})
_UNSET = Status(StatusCode.UNSET)
_ALWAYS_ON = "AlwaysOnSampler"
_SAMPLED = TraceFlags(TraceFlags.SAMPLED)
_RANDOM_SAMPLED = TraceFlags(TraceFlags.SAMPLED | TraceFlags.RANDOM_TRACE_ID)


def _children_always_sampled(description: str) -> bool:
    """Whether a sampler (by its description) records every child of a sampled parent:
    the SDK's ParentBased with its default delegates for sampled parents."""
    return (
        description.startswith("ParentBased{")
        and f"remoteParentSampled:{_ALWAYS_ON}" in description
        and f"localParentSampled:{_ALWAYS_ON}" in description
    )


class LeanSpan(trace.Span):
    """A recording span of the API, finished into one ReadableSpan for the processors."""

    __slots__ = (
        "_attributes",
        "_context",
        "_ended",
        "_events",
        "_kind",
        "_links",
        "_name",
        "_parent",
        "_spans",
        "_start",
        "_status",
    )

    def __init__(
        self,
        spans: LeanSpans,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        kind: SpanKind,
        attributes: dict[str, Any],
        links: Sequence[Link],
    ) -> None:
        self._spans = spans
        self._name = name
        self._context = context
        self._parent = parent
        self._kind = kind
        self._attributes = attributes
        self._links = links
        self._events: list[Event] = []
        self._status = _UNSET
        self._start = time.time_ns()
        self._ended = False

    def get_span_context(self) -> SpanContext:
        return self._context

    def is_recording(self) -> bool:
        return not self._ended

    def set_attributes(self, attributes: Mapping[str, types.AttributeValue]) -> None:
        if not self._ended:
            self._attributes.update(attributes)

    def set_attribute(self, key: str, value: types.AttributeValue) -> None:
        if not self._ended:
            self._attributes[key] = value

    def add_event(
        self, name: str, attributes: types.Attributes = None, timestamp: int | None = None
    ) -> None:
        if self._ended:
            return
        limits = self._spans.limits
        cleaned = BoundedAttributes(
            limits.max_event_attributes,
            attributes,
            max_value_len=limits.max_attribute_length,
            immutable=True,
        )
        self._events.append(Event(name, cleaned, timestamp))

    def add_link(self, context: SpanContext, attributes: types.Attributes = None) -> None:
        if not self._ended and context.is_valid:
            self._links = [*self._links, Link(context, attributes)]

    def update_name(self, name: str) -> None:
        if not self._ended:
            self._name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        # as the SDK's: OK is final, UNSET changes nothing
        if self._ended or self._status.status_code is StatusCode.OK:
            return
        if isinstance(status, Status):
            if status.status_code is not StatusCode.UNSET:
                self._status = status
        elif status is not StatusCode.UNSET:
            self._status = Status(status, description)

    def record_exception(
        self,
        exception: BaseException,
        attributes: types.Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        recorded: dict[str, Any] = dict(self._spans.exception_attributes(exception, escaped))
        if attributes:
            recorded.update(attributes)
        self.add_event("exception", recorded, timestamp)

    def end(self, end_time: int | None = None) -> None:
        if self._ended:
            return
        self._ended = True
        self._spans.finish(self, end_time or time.time_ns())


class _Current:
    """`trace.use_span(span, end_on_exit=True)` in one layer instead of two generators:
    `span` is current while the block runs; a block that raises an Exception leaves its
    event and the ERROR status on the span (as use_span records them); the span ends."""

    __slots__ = ("_span", "_token")

    def __init__(self, span: LeanSpan) -> None:
        self._span = span

    def __enter__(self) -> LeanSpan:
        self._token = otel_context.attach(trace.set_span_in_context(self._span))
        return self._span

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        span = self._span
        otel_context.detach(self._token)
        try:
            if isinstance(exc, Exception) and span.is_recording():
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, f"{type(exc).__name__}: {exc}"))
        finally:
            span.end()


class LeanSpans:
    """Child spans of sampled parents for `tracer`'s processors (see module docstring)."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        self.limits = SpanLimits()  # what the SDK's provider reads from OTEL_*_LIMIT too
        self._span_id = tracer.id_generator.generate_span_id  # the provider's own ids

    @classmethod
    def of(cls, tracer: trace.Tracer) -> LeanSpans | None:
        """Lean spans for `tracer`, or None when its children must go the standard way."""
        if not isinstance(tracer, Tracer):
            return None
        if not _children_always_sampled(tracer.sampler.get_description()):
            return None
        return cls(tracer)

    def child(
        self,
        name: str,
        parent: SpanContext,
        kind: SpanKind,
        attributes: dict[str, Any],
        links: Sequence[Link] = (),
    ) -> AbstractContextManager[LeanSpan]:
        """A span child of the sampled `parent` (the caller checked `parent.trace_flags
        .sampled`), current while the block runs; `attributes` becomes the span's own."""
        # the SDK's flags for a sampled child: sampled, and the parent's random-id bit
        flags = _RANDOM_SAMPLED if parent.trace_flags.random_trace_id else _SAMPLED
        return self._current(
            name, parent.trace_id, flags, parent.trace_state, parent, kind, attributes, links
        )

    def decided(
        self,
        name: str,
        trace_id: int,
        parent: SpanContext | None,
        kind: SpanKind,
        sampled: SamplingResult,
    ) -> AbstractContextManager[LeanSpan]:
        """A span the sampler already said yes to (`sampled`, asked about `trace_id`, with
        `parent` or none: a new trace of random id), as the SDK would start it with that
        answer: the answer's attributes and trace state."""
        random_id = parent is None or parent.trace_flags.random_trace_id
        return self._current(
            name,
            trace_id,
            _RANDOM_SAMPLED if random_id else _SAMPLED,
            sampled.trace_state,
            parent,
            kind,
            dict(sampled.attributes or {}),
            (),
        )

    def _current(
        self,
        name: str,
        trace_id: int,
        flags: TraceFlags,
        state: TraceState | None,
        parent: SpanContext | None,
        kind: SpanKind,
        attributes: dict[str, Any],
        links: Sequence[Link],
    ) -> _Current:
        context = SpanContext(trace_id, self._span_id(), False, flags, state)  # None: empty
        return _Current(LeanSpan(self, name, context, parent, kind, attributes, links))

    def finish(self, span: LeanSpan, end_time: int) -> None:
        """Hand the ended `span` to the processors as the SDK would have built it."""
        limits = self.limits
        attributes: Mapping[str, Any] = span._attributes
        if not self._plain(attributes):
            attributes = BoundedAttributes(
                limits.max_span_attributes,
                attributes,
                max_value_len=limits.max_span_attribute_length,
                immutable=True,
            )
        # past a count limit the SDK keeps the newest and counts the rest as dropped
        links: Sequence[Link] = span._links
        if limits.max_links is not None and len(links) > limits.max_links:
            links = BoundedList.from_seq(limits.max_links, links)
        events: Sequence[Event] = span._events
        if limits.max_events is not None and len(events) > limits.max_events:
            events = BoundedList.from_seq(limits.max_events, events)
        tracer = self.tracer
        tracer.span_processor.on_end(
            ReadableSpan(
                name=span._name,
                context=span._context,
                parent=span._parent,
                resource=tracer.resource,
                attributes=attributes,
                events=events,
                links=links,
                kind=span._kind,
                status=span._status,
                start_time=span._start,
                end_time=end_time,
                # the tracer's scope (no public accessor; the SDK is pinned in the lock file)
                instrumentation_scope=tracer._instrumentation_scope,
            )
        )

    def _plain(self, attributes: Mapping[str, Any]) -> bool:
        """Whether the SDK would keep `attributes` as they are: few enough, each a plain
        value, no text past the length limit."""
        limits = self.limits
        if limits.max_span_attributes is not None and len(attributes) > limits.max_span_attributes:
            return False
        longest = limits.max_span_attribute_length
        for value in attributes.values():
            if type(value) not in _PLAIN:
                return False
            if longest is not None and type(value) is str and len(value) > longest:
                return False
        return True

    @staticmethod
    def exception_attributes(exception: BaseException, escaped: bool) -> dict[str, str]:
        """The exception event's attributes, as the SDK's Span.record_exception makes them."""
        module = type(exception).__module__
        qualname = type(exception).__qualname__
        kind = f"{module}.{qualname}" if module and module != "builtins" else qualname
        return {
            "exception.type": kind,
            "exception.message": str(exception),
            "exception.stacktrace": "".join(traceback.format_exception(exception)),
            "exception.escaped": str(escaped),
        }
