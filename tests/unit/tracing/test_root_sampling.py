"""A request's sampling decided before its span starts (core/tracing/sampling.py): a
refused request gets no span at all, only W3C headers saying "not sampled" that its
messages carry on; a sampled one is the span the sampler was asked about, so a ratio
sampler samples its ratio (not the square of it)."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    Decision,
    ParentBased,
    Sampler,
    TraceIdRatioBased,
)
from tests.unit.tracing.scenarios import Spans

from observatory.core.bus.port import Outgoing
from observatory.core.tracing import spans
from observatory.core.tracing.bus import OtelBusTracer
from observatory.core.tracing.otel_spans import OtelSpans
from observatory.core.tracing.sampling import PresetIds, RootSampling, preset, ratio_bound

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


def _memory(sampler: Sampler) -> Spans:
    return Spans(provider=TracerProvider(sampler=sampler, id_generator=PresetIds()))


@pytest.fixture
def installed() -> Iterator[list[Spans]]:
    made: list[Spans] = []
    try:
        yield made
    finally:
        spans.install(None)


def _install(made: list[Spans], sampler: Sampler) -> Spans:
    memory = _memory(sampler)
    spans.install(OtelSpans(memory.tracer))
    made.append(memory)
    return memory


def _publish_in_request(headers: dict[bytes, bytes], memory: Spans) -> dict[str, str]:
    """What a job published while answering a request with `headers` carries."""
    bus = OtelBusTracer(memory.tracer, "rabbitmq")
    with (
        spans.request_span("POST", headers, {"http.request.method": "POST"}) as answered,
        spans.span("validate job"),
        bus.publishing("x", [Outgoing("job.created", b"{}")]) as sent,
    ):
        answered("/jobs", 202)
    return {k: str(v) for k, v in sent[0].headers.items()}


def test_a_refused_request_has_no_span_and_its_message_says_not_sampled(
    installed: list[Spans],
) -> None:
    memory = _install(installed, ParentBased(ALWAYS_OFF))
    carried = _publish_in_request({}, memory)
    assert memory.exporter.get_finished_spans() == ()
    version, trace_id, span_id, flags = carried["traceparent"].split("-")
    assert (version, len(trace_id), len(span_id)) == ("00", 32, 16)
    assert int(trace_id, 16) != 0
    assert int(span_id, 16) != 0
    assert int(flags, 16) & 0x01 == 0  # not sampled: every later hop takes the short way
    assert "tracestate" not in carried


def test_a_refused_request_has_no_ids_for_logs_or_exemplars(installed: list[Spans]) -> None:
    _install(installed, ParentBased(ALWAYS_OFF))
    with spans.request_span("POST", {}, {}) as answered:
        assert not trace.get_current_span().get_span_context().is_valid  # no span made
        assert spans.current_ids() is None
        assert spans.exemplar() is None
        answered("/jobs", 202)


def test_each_refused_request_names_a_trace_of_its_own(installed: list[Spans]) -> None:
    memory = _install(installed, ParentBased(ALWAYS_OFF))
    traces = {_publish_in_request({}, memory)["traceparent"].split("-")[1] for _ in range(20)}
    assert len(traces) == 20


def test_a_caller_not_sampling_its_trace_is_followed_and_its_state_kept(
    installed: list[Spans],
) -> None:
    memory = _install(installed, ParentBased(ALWAYS_ON))
    headers = {
        b"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-00".encode(),
        b"tracestate": b"vendor=opaque",
    }
    carried = _publish_in_request(headers, memory)
    assert memory.exporter.get_finished_spans() == ()
    _, trace_id, span_id, flags = carried["traceparent"].split("-")
    assert trace_id == CALLER_TRACE  # the caller's trace, a span id of the request's own
    assert span_id != CALLER_SPAN
    assert int(flags, 16) & 0x01 == 0
    assert carried["tracestate"] == "vendor=opaque"


def test_a_sampled_caller_gets_a_request_span_as_its_child(installed: list[Spans]) -> None:
    memory = _install(installed, ParentBased(ALWAYS_OFF))  # the caller's decision wins
    headers = {b"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01".encode()}
    _publish_in_request(headers, memory)
    request = memory.one("POST /jobs")
    assert f"{request.context.trace_id:032x}" == CALLER_TRACE
    assert request.parent is not None
    assert f"{request.parent.span_id:016x}" == CALLER_SPAN
    validate = memory.one("validate job")
    assert validate.parent is not None
    assert validate.parent.span_id == request.context.span_id


def test_a_ratio_sampler_samples_its_ratio_once_per_request(installed: list[Spans]) -> None:
    """Deciding first and starting the span after must not ask the ratio twice about two
    trace ids (that would sample 25 % at 50 %): the sampled span has the decided id."""
    memory = _install(installed, ParentBased(TraceIdRatioBased(0.5)))
    carried = [_publish_in_request({}, memory)["traceparent"] for _ in range(2000)]
    sampled = [c for c in carried if int(c.split("-")[3], 16) & 0x01]
    requests = memory.named("POST /jobs")
    assert len(requests) == len(sampled)
    assert 850 <= len(sampled) <= 1150  # 50 %: 1000 ± 6.7 standard deviations
    bound = TraceIdRatioBased.get_bound_for_rate(0.5)
    for span in requests:  # each span is the trace the sampler said yes to
        assert span.context.trace_id & TraceIdRatioBased.TRACE_ID_LIMIT < bound
    exported = {f"{s.context.trace_id:032x}" for s in requests}
    assert exported == {c.split("-")[1] for c in sampled}


def test_a_new_trace_started_inside_a_request_gets_its_own_id(installed: list[Spans]) -> None:
    """The decided id is for the request's span only: a root started in its block (a
    background task it spawns, a batch of other jobs) is another trace."""
    memory = _install(installed, ALWAYS_ON)
    with spans.request_span("POST", {}, {}) as answered:
        inner = memory.tracer.start_span("another root", context=Context())
        inner.end()
        answered("/jobs", 202)
    request = memory.one("POST /jobs")
    assert memory.one("another root").context.trace_id != request.context.trace_id


def test_a_tracer_without_preset_ids_goes_the_standard_way(installed: list[Spans]) -> None:
    memory = Spans(provider=TracerProvider(sampler=ALWAYS_OFF))
    spans.install(OtelSpans(memory.tracer))
    installed.append(memory)
    with spans.request_span("POST", {}, {}) as answered:
        assert trace.get_current_span().get_span_context().is_valid  # the SDK's own span
        answered("/jobs", 202)
    assert memory.exporter.get_finished_spans() == ()


@pytest.mark.parametrize(
    "sampler",
    [ALWAYS_ON, ALWAYS_OFF, ParentBased(ALWAYS_OFF), TraceIdRatioBased(0.5)],
)
def test_only_the_parent_based_ratio_sampler_is_decided_here(sampler: Sampler) -> None:
    assert ratio_bound(sampler.get_description()) is None


@pytest.mark.parametrize("rate", [0.0, 0.01, 0.5, 1.0])
def test_a_new_traces_decision_here_is_the_ratio_samplers_own(
    installed: list[Spans], rate: float
) -> None:
    """The ratio's rule applied without asking the sampler decides every trace id as the
    sampler would, on both sides of its bound and whatever the id's high bits."""
    sampler: Sampler = ParentBased(TraceIdRatioBased(rate))
    assert ratio_bound(sampler.get_description()) == TraceIdRatioBased.get_bound_for_rate(rate)
    memory = _install(installed, sampler)
    decide = RootSampling(memory.tracer).decide
    bound = TraceIdRatioBased.get_bound_for_rate(rate)
    low = [0, 1, bound - 1, bound, bound + 1, 2**63, 2**64 - 1]
    ids = [high << 64 | value for high in (0, 1, 2**64 - 1) for value in low if 0 <= value < 2**64]
    ids += [random.getrandbits(128) for _ in range(300)]
    attributes = {"http.request.method": "POST"}
    for trace_id in (i for i in ids if i):
        with preset(trace_id):
            refused, sampled = decide("POST", None, attributes)
        said = sampler.should_sample(None, trace_id, "POST", trace.SpanKind.SERVER, attributes)
        assert (sampled is not None) is (said.decision is Decision.RECORD_AND_SAMPLE)
        if sampled is not None:  # the sampler's whole answer: the span starts from it
            assert sampled.result.decision is Decision.RECORD_AND_SAMPLE
            assert dict(sampled.result.attributes) == dict(said.attributes)
            assert sampled.result.trace_state == said.trace_state
            assert (sampled.trace_id, sampled.caller, sampled.new_trace) == (
                trace_id,
                None,
                trace_id,
            )
        if refused is not None:
            _, carried_id, _, flags = refused["traceparent"].split("-")
            assert (int(carried_id, 16), int(flags, 16) & 0x01) == (trace_id, 0)


def test_a_request_inside_a_current_span_is_asked_of_the_sampler(
    installed: list[Spans],
) -> None:
    """ParentBased follows the current span when no caller header names one: a request
    handled inside a sampled span is recorded, although the ratio alone refuses every
    new trace."""
    memory = _install(installed, ParentBased(TraceIdRatioBased(0.0)))
    with spans.request_span("POST", {}, {}) as answered:
        answered("/jobs", 202)
    assert memory.exporter.get_finished_spans() == ()  # the ratio refuses a new trace
    elsewhere = Spans(provider=TracerProvider(sampler=ALWAYS_ON))
    with (
        trace.use_span(elsewhere.tracer.start_span("outer"), end_on_exit=True),
        spans.request_span("POST", {}, {}) as answered,
    ):
        answered("/jobs", 202)
    assert len(memory.named("POST /jobs")) == 1
