"""The OpenTelemetry SpanSource (see spans.py). Loaded only when tracing is on."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import SpanKind, StatusCode

from observatory.core.tracing.bus import GETTER, PROPAGATOR, UNSAMPLED, carried_by, forwarding
from observatory.core.tracing.lean import LeanSpans
from observatory.core.tracing.sampling import RootSampling, Sampled, preset
from observatory.core.tracing.spans import NOTHING, Answered, Attributes, unheard


class OtelSpans:
    """Spans of `tracer`; ids of the current span."""

    def __init__(self, tracer: trace.Tracer) -> None:
        self.tracer = tracer
        self.sampling = RootSampling(tracer)
        self.lean = LeanSpans.of(tracer)

    def span(
        self, name: str, attributes: Attributes, *, server: bool
    ) -> AbstractContextManager[Any]:
        if not server:
            current = trace.get_current_span()
            if not current.is_recording():
                return NOTHING  # outside a trace (or one not sampled): no span of its own
            parent = current.get_span_context()
            if self.lean is not None and parent.trace_flags.sampled:
                return self.lean.child(name, parent, SpanKind.INTERNAL, dict(attributes))
        kind = SpanKind.SERVER if server else SpanKind.INTERNAL
        return self._span(name, attributes, kind, None)

    def request(
        self, method: str, headers: Mapping[bytes, bytes], attributes: Attributes
    ) -> AbstractContextManager[Answered]:
        parent = None
        if b"traceparent" in headers or b"tracestate" in headers:
            carrier: dict[str, Any] = {}
            for key in (b"traceparent", b"tracestate"):
                if key in headers:
                    carrier[key.decode()] = headers[key].decode("latin-1")
            parent = PROPAGATOR.extract(carrier, getter=GETTER)
        refused, sampled = self.sampling.decide(method, parent, attributes)
        if refused is not None:  # not sampled: no span; its work forwards `refused`
            return _Refused(refused)
        return self._recorded(method, parent, attributes, sampled)

    @contextmanager
    def _recorded(
        self,
        method: str,
        parent: otel_context.Context | None,
        attributes: Attributes,
        sampled: Sampled | None,
    ) -> Iterator[Answered]:
        if (
            self.lean is not None
            and sampled is not None
            and sampled.result.decision is Decision.RECORD_AND_SAMPLE
        ):
            started: AbstractContextManager[trace.Span] = self.lean.decided(
                method, sampled.trace_id, sampled.caller, SpanKind.SERVER, sampled.result
            )
        else:
            # the decided id, only while the span starts: no task inherits it
            with preset(None if sampled is None else sampled.new_trace):
                span = self.tracer.start_span(
                    method, context=parent, kind=SpanKind.SERVER, attributes=dict(attributes)
                )
            started = trace.use_span(span, end_on_exit=True)
        with started as span:

            def answered(route: str, status: int) -> None:
                span.update_name(f"{method} {route}")
                span.set_attribute("http.route", route)
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(StatusCode.ERROR)

            yield answered

    @contextmanager
    def _span(
        self,
        name: str,
        attributes: Attributes,
        kind: SpanKind,
        parent: otel_context.Context | None,
    ) -> Iterator[None]:
        with self.tracer.start_as_current_span(
            name, context=parent, kind=kind, attributes=dict(attributes)
        ):
            yield

    def ids(self) -> tuple[str, str] | None:
        context = trace.get_current_span().get_span_context()
        if not context.is_valid or not context.trace_flags.sampled:
            return None
        return f"{context.trace_id:032x}", f"{context.span_id:016x}"

    def capture(self) -> object:
        carried = UNSAMPLED.get()
        if carried is not None and not trace.get_current_span().is_recording():
            return _Unsampled(carried)  # the work of an unsampled message (bus.py)
        return otel_context.get_current()

    def carrier(self, context: object) -> dict[str, str]:
        if isinstance(context, _Unsampled):
            return dict(context.headers)
        assert isinstance(context, otel_context.Context)  # what capture() returned
        return carried_by(context)

    def attach(self, context: object) -> AbstractContextManager[None]:
        if isinstance(context, _Unsampled):
            return forwarding(context.headers)
        assert isinstance(context, otel_context.Context)  # what capture() returned
        return _attached(context)


class _Refused:
    """A request the sampler refused: no span; what its work publishes carries
    `headers` on (bus.py's unsampled short way). A class, not a generator: one per
    request."""

    __slots__ = ("_headers", "_token")

    def __init__(self, headers: Mapping[str, str]) -> None:
        self._headers = headers

    def __enter__(self) -> Answered:
        self._token = UNSAMPLED.set(self._headers)
        return unheard

    def __exit__(self, *exc: object) -> None:
        UNSAMPLED.reset(self._token)


class _Unsampled:
    """A captured context of an unsampled message's work: its trace headers."""

    __slots__ = ("headers",)

    def __init__(self, headers: Mapping[str, str]) -> None:
        self.headers = headers


@contextmanager
def _attached(context: otel_context.Context) -> Iterator[None]:
    token = otel_context.attach(context)
    try:
        yield
    finally:
        otel_context.detach(token)
