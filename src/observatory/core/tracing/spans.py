"""The services' own spans, and the current trace's ids for logs, events and exemplars.

Imports nothing of OpenTelemetry. Tracing off (the default), `SOURCE` is None and
`span(...)` is a shared `nullcontext`: the hot path pays one global lookup. Tracing on,
`Tracing.from_settings` (facade.py) installs the process's source
(`observatory.core.tracing.otel_spans`), over the same tracer provider as the buses.

One process has one source: `odto up` runs every service in one process with one tracer
provider, `odto serve <service>` runs one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Protocol

Attributes = Mapping[str, str | int | float | bool]

Answered = Callable[[str, int], None]
"""Called once a request is answered, with its route template and status."""

NOTHING: AbstractContextManager[None] = nullcontext()


def unheard(route: str, status: int) -> None:
    """Nothing to record: tracing is off, or the request's trace is not sampled."""


UNTRACED_REQUEST: AbstractContextManager[Answered] = nullcontext(unheard)


class SpanSource(Protocol):
    """What tracing on provides (otel_spans.OtelSpans)."""

    def span(
        self, name: str, attributes: Attributes, *, server: bool
    ) -> AbstractContextManager[None]:
        """A span, child of the current one (`server`: kind SERVER)."""

    def request(
        self, method: str, headers: Mapping[bytes, bytes], attributes: Attributes
    ) -> AbstractContextManager[Answered]:
        """A SERVER span for an HTTP request, child of the caller's `traceparent` if it
        sends one; named `<method> <route>` once the request is answered."""

    def ids(self) -> tuple[str, str] | None:
        """(trace id, span id) of the current sampled span, hex; None outside one."""

    def capture(self) -> object:
        """The current context, to `attach` later (another task, a grouped write)."""

    def carrier(self, context: object) -> dict[str, str]:
        """The W3C trace headers (`traceparent`, `tracestate`) of a captured context."""

    def attach(self, context: object) -> AbstractContextManager[None]:
        """Run a block in a context `capture` returned."""


SOURCE: SpanSource | None = None


def install(source: SpanSource | None) -> None:
    """Set (or, with None, remove) the process's span source."""
    global SOURCE
    SOURCE = source


def span(name: str, attributes: Attributes | None = None) -> AbstractContextManager[None]:
    """A span named `name` around a block, child of the current span; nothing when
    tracing is off or no sampled span is current (no trace of its own)."""
    source = SOURCE
    if source is None:
        return NOTHING
    return source.span(name, attributes or {}, server=False)


def request_span(
    method: str, headers: Mapping[bytes, bytes], attributes: Attributes | None = None
) -> AbstractContextManager[Answered]:
    """The SERVER span of an HTTP request (ASGI headers), yielding what to call with the
    route and status once answered; nothing when tracing is off."""
    source = SOURCE
    if source is None:
        return UNTRACED_REQUEST
    return source.request(method, headers, attributes or {})


def current_ids() -> tuple[str, str] | None:
    """(trace id, span id) of the current sampled span; None when off or outside one."""
    source = SOURCE
    return None if source is None else source.ids()


def trace_id() -> str | None:
    """The current trace's id (32 hex digits), or None."""
    ids = current_ids()
    return None if ids is None else ids[0]


def exemplar() -> dict[str, str] | None:
    """The exemplar of a histogram observation made now: the current trace and span ids,
    or None (tracing off, outside a sampled trace). Prometheus shows it in OpenMetrics."""
    ids = current_ids()
    if ids is None:
        return None
    return {"trace_id": ids[0], "span_id": ids[1]}


def carrier(context: object | None) -> dict[str, str]:
    """The trace headers naming `context` (from `capture`) as a message's parent, so a
    message published in a group of other jobs' messages stays in its own job's trace;
    {} when off."""
    source = SOURCE
    return {} if source is None or context is None else source.carrier(context)


def capture() -> object | None:
    """The current trace context (None when off), for `attached`."""
    source = SOURCE
    return None if source is None else source.capture()


def attached(context: object | None) -> AbstractContextManager[None]:
    """Run a block in a context `capture` returned (nothing for None)."""
    source = SOURCE
    if source is None or context is None:
        return NOTHING
    return source.attach(context)
