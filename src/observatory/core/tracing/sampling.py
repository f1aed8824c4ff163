"""The sampling decision for a request, taken before the SDK's span machinery.

At 1 % sampling, 99 of 100 requests end up with a span the SDK does not record; the SDK
still builds it (ids, sampler, span context, a non-recording span, context attach and
detach) and every later step asks it whether it records. `RootSampling` asks the
tracer's own sampler first, with a trace id of its own: a refused request gets only its
W3C headers (flags "not sampled"), which the unsampled short way of bus.py forwards on
whatever the request publishes, and no span at all. A sampled request goes the standard
way with the same trace id (`PresetIds`), so a ratio sampler is asked about one id, once
per decision, and samples exactly its ratio. For the SDK's `parentbased_traceidratio`
and a request that starts a trace, the ratio's rule (a bound on the trace id's low 64
bits) is applied here, as the sampler would, without calling it.

Loaded only when tracing is on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from random import getrandbits
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import Tracer
from opentelemetry.sdk.trace.id_generator import IdGenerator, RandomIdGenerator
from opentelemetry.sdk.trace.sampling import Decision, SamplingResult, TraceIdRatioBased
from opentelemetry.trace import SpanKind, TraceFlags, TraceState

_PRESET: ContextVar[int | None] = ContextVar("observatory_preset_trace_id", default=None)
_RANDOM_NOT_SAMPLED = TraceFlags(TraceFlags.DEFAULT | TraceFlags.RANDOM_TRACE_ID)


class PresetIds(IdGenerator):
    """Random ids (as the SDK's own), except a new trace's id while `preset` holds one."""

    def __init__(self) -> None:
        self._random = RandomIdGenerator()

    def generate_span_id(self) -> int:
        return self._random.generate_span_id()

    def generate_trace_id(self) -> int:
        decided = _PRESET.get()
        return decided if decided is not None else self._random.generate_trace_id()

    def is_trace_id_random(self) -> bool:
        return True


@contextmanager
def preset(trace_id: int | None) -> Iterator[None]:
    """Let a root span started in this block take `trace_id` (nothing for None)."""
    if trace_id is None:
        yield
        return
    token = _PRESET.set(trace_id)
    try:
        yield
    finally:
        _PRESET.reset(token)


@dataclass(frozen=True, slots=True)
class Sampled:
    """A sampler's answer other than DROP, and what it was asked about."""

    result: SamplingResult
    trace_id: int
    caller: trace.SpanContext | None
    """The caller's span context (a `traceparent` the request came with), or None."""

    @property
    def new_trace(self) -> int | None:
        """The trace id a root span must take (None: the caller's trace goes on)."""
        return self.trace_id if self.caller is None else None


class RootSampling:
    """The sampler's decision for a SERVER span, made before starting it.

    Works for a tracer of the SDK whose provider generates ids with `PresetIds`
    (provider.py builds it so); for any other tracer `decide` always says "go the
    standard way" (None, None).
    """

    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer: Tracer | None = None
        self._bound: int | None = None
        if isinstance(tracer, Tracer) and isinstance(tracer.id_generator, PresetIds):
            self._tracer = tracer
            self._bound = ratio_bound(tracer.sampler.get_description())

    def decide(
        self, name: str, parent: Context | None, attributes: Mapping[str, Any]
    ) -> tuple[dict[str, str] | None, Sampled | None]:
        """(headers of a refused span, None) when the sampler says no: the W3C headers
        the request's work forwards, no span to start; (None, answer) when it records
        one (the answer's attributes and trace state are the span's, `new_trace` the id
        to preset for a new trace); (None, None) for a tracer this cannot decide for."""
        tracer = self._tracer
        if tracer is None:
            return None, None
        caller = trace.get_current_span(parent).get_span_context() if parent else None
        if caller is not None and caller.is_valid:
            trace_id, flags = caller.trace_id, caller.trace_flags
        else:
            caller = None
            # a new trace: the ratio sampler's own rule, without asking it (unless a
            # current span is the parent ParentBased would follow); its answer for a
            # sampled id is the request's attributes and no trace state
            trace_id, flags = tracer.id_generator.generate_trace_id(), _RANDOM_NOT_SAMPLED
            if self._bound is not None and not _in_span():
                if trace_id & _LOW_64 >= self._bound:
                    return {"traceparent": _refused_parent(trace_id)}, None
                recorded = SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, None)
                return None, Sampled(recorded, trace_id, None)
        result = tracer.sampler.should_sample(parent, trace_id, name, SpanKind.SERVER, attributes)
        if result.decision is not Decision.DROP:  # recorded (sampled or not): a span
            return None, Sampled(result, trace_id, caller)
        return _refused(tracer, trace_id, flags, result.trace_state), None


def _refused(tracer: Tracer, trace_id: int, flags: int, state: TraceState | None) -> dict[str, str]:
    """The W3C headers of a span the sampler refused (flags without "sampled")."""
    not_sampled = flags & ~TraceFlags.SAMPLED
    span_id = tracer.id_generator.generate_span_id()
    headers = {"traceparent": f"00-{trace_id:032x}-{span_id:016x}-{not_sampled:02x}"}
    if state:
        headers["tracestate"] = state.to_header()
    return headers


def _refused_parent(trace_id: int) -> str:
    """The `traceparent` of a refused request that starts trace `trace_id`: a random span
    id, flags "random trace id", not sampled (what `_refused` writes, in one format)."""
    span_id = getrandbits(64)
    while not span_id:
        span_id = getrandbits(64)
    return f"00-{trace_id:032x}-{span_id:016x}{_REFUSED_FLAGS}"


def _in_span() -> bool:
    """Whether a valid span is current (the parent ParentBased would follow)."""
    return trace.get_current_span().get_span_context().is_valid


_RATIO_ROOT = re.compile(r"ParentBased\{root:TraceIdRatioBased\{([^{}]+)\},")
_LOW_64 = TraceIdRatioBased.TRACE_ID_LIMIT
_REFUSED_FLAGS = f"-{_RANDOM_NOT_SAMPLED & ~TraceFlags.SAMPLED:02x}"


def ratio_bound(description: str) -> int | None:
    """For the SDK's `parentbased_traceidratio` sampler (by its description), the bound
    its root sampler compares a new trace id's low 64 bits with (sampled below it): a
    new trace's decision without asking it. None for any other sampler."""
    found = _RATIO_ROOT.match(description)
    if found is None:
        return None
    try:
        rate = float(found[1])
    except ValueError:
        return None
    return TraceIdRatioBased.get_bound_for_rate(rate)
