"""The time-series rollup behind `GET /stats/series` (SPEC §13), shared by the counters
adapters (which write it) and the read model (which merges it).

The metrics engine adds each counted lifecycle event to time buckets at three levels
(LEVELS: 10 s, 1 min, 10 min), bucketed by the event's occurredAt, inside the same
exactly-once apply as the counters (the effect key claims both). A bucket holds:

- `created`, `completed`, `failed`, `cancelled`: events of that kind (a job.created of
  run 1 is one job created; every run's end counts where it happened);
- `h<i>`: how many jobs finished (completed or failed) with a submit→done latency in
  histogram bin i (LATENCY_BINS_PER_DOUBLING bins per doubling, from 1 ms);
- `depth`: the queue depth (jobs created and not yet ended: PENDING or EXECUTING) as the
  metrics engine saw it after its last batch within the bucket's time.

Buckets are kept SERIES_TTL_SECONDS (26 h; 24 h is the longest window). A query reads the
coarsest level whose size divides the step, so 24 h at a 10-min step reads 144 buckets
and never the jobs table; merging sums the counts and histograms of a step's buckets
and takes the latest depth sample. Percentiles come from the merged histogram,
interpolated inside the bin that holds the rank (within one bin: at most 19 % off).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

LEVELS = (10, 60, 600)
SERIES_TTL_SECONDS = 26 * 3600
SERIES_FIELDS = ("created", "completed", "failed", "cancelled")
DEPTH = "depth"
LATENCY_BINS_PER_DOUBLING = 4
MAX_BIN = 4 * 30  # 2**30 ms, about 12 days: anything longer lands in the last bin

MAX_WINDOW = 24 * 3600
MAX_POINTS = 1000
FINE_STEP_WINDOW = 3600  # a step under 1 min reads 10-s buckets: windows up to 1 h
DEFAULT_STEPS = {15 * 60: 10, 3600: 30, 24 * 3600: 600}
WINDOWS = ("15m", "1h", "24h")

SERIES_HELP = (
    "`window` (default 15m; 1m to 24h) and `step` (default 10s, 30s, 10m for 15m, 1h,"
    " 24h) are durations in s, m or h. The step is 10s, 20s, 30s (windows up to 1h) or"
    " whole minutes, divides the window, and window/step is at most 1,000 points. Each"
    " point `t` (start of its step, UTC) has the jobs created and the runs completed,"
    " failed and cancelled in it, submit→done latency p50/p95/p99 in ms of the runs that"
    " ended in it (null when none did) and the queue depth (jobs pending or executing) at"
    " its end. The last point is the step in progress."
)

_DURATION = re.compile(r"^([1-9][0-9]{0,5})(s|m|h)$")
_UNIT = {"s": 1, "m": 60, "h": 3600}


def latency_bin(ms: float) -> int:
    """The histogram bin of a latency: bin i holds (2**((i-1)/4), 2**(i/4)] ms; bin 0
    everything up to 1 ms."""
    if ms <= 1:
        return 0
    return min(MAX_BIN, math.ceil(LATENCY_BINS_PER_DOUBLING * math.log2(ms) - 1e-9))


def bin_bounds(index: int) -> tuple[float, float]:
    """(lower, upper) ms of a bin."""
    if index == 0:
        return 0.0, 1.0
    return 2 ** ((index - 1) / LATENCY_BINS_PER_DOUBLING), 2 ** (index / LATENCY_BINS_PER_DOUBLING)


def bucket_fields(series: str | None, latency_ms: float | None) -> list[str]:
    """The bucket fields one counted event adds 1 to."""
    fields = [series] if series else []
    if latency_ms is not None:
        fields.append(f"h{latency_bin(latency_ms)}")
    return fields


def bucket_starts(at: int) -> list[tuple[int, int]]:
    """(level, bucket start) of the moment `at` (epoch seconds) at every level."""
    return [(level, at - at % level) for level in LEVELS]


def level_for(step: int) -> int:
    """The coarsest level whose buckets tile a step."""
    return max(level for level in LEVELS if step % level == 0)


def parse_duration(text: str) -> int | None:
    """Seconds of "10s", "15m", "24h"; None when malformed."""
    match = _DURATION.match(text)
    return int(match.group(1)) * _UNIT[match.group(2)] if match else None


@dataclass(frozen=True, slots=True)
class SeriesQuery:
    window: int
    step: int

    @property
    def points(self) -> int:
        return self.window // self.step


def series_query(window: str | None, step: str | None) -> SeriesQuery | tuple[str, str]:
    """The checked query, or (parameter, what is wrong with it, naming the limit)."""
    window_s = parse_duration("15m" if window is None else window)
    if window_s is None:
        return "window", "a duration such as 15m, 1h or 24h (s, m or h)"
    if not 60 <= window_s <= MAX_WINDOW:
        return "window", "must be from 1m to 24h"
    if step is None:
        step_s = DEFAULT_STEPS.get(window_s) or _default_step(window_s)
    else:
        parsed = parse_duration(step)
        if parsed is None:
            return "step", "a duration such as 10s, 1m or 10m (s, m or h)"
        step_s = parsed
    if step_s % 10:
        return "step", "must be a whole multiple of 10s"
    if step_s < 60 and 60 % step_s:
        return "step", "under 1m must be 10s, 20s or 30s"
    if step_s >= 60 and step_s % 60:
        return "step", "of 1m or more must be whole minutes"
    if step_s > window_s or window_s % step_s:
        return "step", "must divide the window"
    if step_s < 60 and window_s > FINE_STEP_WINDOW:
        return "step", "under 1m is allowed for windows up to 1h"
    if window_s // step_s > MAX_POINTS:
        return "step", f"window/step is {window_s // step_s} points; at most {MAX_POINTS} points"
    return SeriesQuery(window_s, step_s)


def _default_step(window: int) -> int:
    """About 120 points, on a step the rules accept."""
    for step in (10, 20, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if window % step == 0 and window // step <= 120 and (step >= 60 or window <= 3600):
            return step
    return next(s for s in (60, 120, 300, 600, 900, 1800, 3600) if window % s == 0)


def render_duration(seconds: int) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def percentile(histogram: Mapping[int, int], q: float) -> float | None:
    """The q-quantile (0 < q ≤ 1) of a latency histogram, in ms; None when empty."""
    total = sum(histogram.values())
    if total <= 0:
        return None
    rank = q * total
    seen = 0
    for index in sorted(histogram):
        count = histogram[index]
        if count <= 0:
            continue
        if seen + count >= rank:
            lower, upper = bin_bounds(index)
            return lower + (upper - lower) * max(0.0, rank - seen) / count
        seen += count
    return bin_bounds(max(histogram))[1]  # pragma: no cover - rank ≤ total always stops above


def merge(
    buckets: Mapping[int, Mapping[str, int]], *, start: int, step: int, points: int
) -> list[dict[str, Any]]:
    """The points of a window from its buckets (bucket start → fields): counts summed,
    percentiles from the summed histogram, depth the latest sample (carried forward over
    steps without one; None before the first sample)."""
    out: list[dict[str, Any]] = []
    ordered = sorted(buckets.items())
    position = 0
    depth: int | None = None
    for n in range(points):
        lo, hi = start + n * step, start + (n + 1) * step
        counts = dict.fromkeys(SERIES_FIELDS, 0)
        histogram: dict[int, int] = {}
        while position < len(ordered) and ordered[position][0] < hi:
            at, fields = ordered[position]
            position += 1
            if at < lo:
                continue
            for name, value in fields.items():
                if name in counts:
                    counts[name] += int(value)
                elif name == DEPTH:
                    depth = int(value)
                elif name.startswith("h") and name[1:].isdigit():
                    histogram[int(name[1:])] = histogram.get(int(name[1:]), 0) + int(value)
        p50, p95, p99 = (percentile(histogram, q) for q in (0.5, 0.95, 0.99))
        out.append(
            {
                "t": lo,
                **counts,
                "p50Ms": _ms(p50),
                "p95Ms": _ms(p95),
                "p99Ms": _ms(p99),
                "queueDepth": depth,
            }
        )
    return out


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
