"""What one sampled child span costs in process, the SDK's way against the lean way
(core/tracing/lean.py), in the same run: `python -m benchmarks.span_cost [--spans N]`.

Each way starts and ends N children of one sampled span (six attributes, as the
processor's message span has) on a tracer whose processor keeps nothing, so the figure
is the span's own cost on the thread that makes it (export happens elsewhere). Prints
one JSON line: microseconds per span, best of five rounds, for both ways and their ratio.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.trace import SpanKind

from observatory.core.tracing.lean import LeanSpans

ATTRIBUTES: dict[str, str | int] = {
    "messaging.system": "rabbitmq",
    "messaging.operation": "process",
    "messaging.destination.name": "jobs.created",
    "messaging.message.id": "0b7e1c4e-6f7a-4a5e-9d61-3c1f8f0e2a10",
    "observatory.job.id": "9d0c4a3e-2b1f-4c8e-8f3a-7e6d5c4b3a21",
    "observatory.job.attempt": 1,
}


class Kept(SpanProcessor):
    """Counts the ended spans and keeps none."""

    def __init__(self) -> None:
        self.ended = 0

    def on_end(self, span: ReadableSpan) -> None:
        self.ended += 1


def best_of(rounds: int, spans: int, make: Callable[[], None]) -> float:
    """Microseconds per span, the fastest of `rounds` rounds of `spans` spans."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        for _ in range(spans):
            make()
        times.append((time.perf_counter() - started) / spans * 1e6)
    return round(min(times), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=50_000, help="spans a round (default 50000)")
    args = parser.parse_args()
    kept = Kept()
    provider = TracerProvider()
    provider.add_span_processor(kept)
    tracer = provider.get_tracer("benchmarks")
    lean = LeanSpans.of(tracer)
    assert lean is not None  # the default sampler records every sampled parent's child

    def sdk() -> None:
        with tracer.start_as_current_span("span", kind=SpanKind.CONSUMER, attributes=ATTRIBUTES):
            pass

    with tracer.start_as_current_span("parent") as parent:
        context = parent.get_span_context()

        def lean_way() -> None:
            with lean.child("span", context, SpanKind.CONSUMER, dict(ATTRIBUTES)):
                pass

        sdk_us = best_of(5, args.spans, sdk)
        lean_us = best_of(5, args.spans, lean_way)
    assert kept.ended == 10 * args.spans + 1, kept.ended  # every span of both ways ended
    print(
        json.dumps(
            {
                "benchmark": "span_cost",
                "spans": args.spans,
                "sdkUsPerSpan": sdk_us,
                "leanUsPerSpan": lean_us,
                "ratio": round(sdk_us / lean_us, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
