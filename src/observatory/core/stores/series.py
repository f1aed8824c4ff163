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
coarsest level whose size divides the step, at most MAX_BUCKETS (360) of them and never
the jobs table: 24 h at a 10-min step reads 144 buckets, 1 h at 10 s and 6 h at 1 min
read 360; merging sums the counts and histograms of a step's buckets and takes the
latest depth sample. Percentiles come from the merged histogram,
interpolated inside the bin that holds the rank (within one bin: at most 19 % off).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

LEVELS = (10, 60, 600)
SERIES_TTL_SECONDS = 26 * 3600
SERIES_FIELDS = ("created", "completed", "failed", "cancelled")
DEPTH = "depth"
LATENCY_BINS_PER_DOUBLING = 4
MAX_BIN = 4 * 30  # 2**30 ms, about 12 days: anything longer lands in the last bin

MAX_WINDOW = 24 * 3600
MAX_POINTS = 360
MAX_BUCKETS = 360  # buckets one query reads: what bounds its cost (benchmarks/README.md)
DEFAULT_STEPS = {15 * 60: 10, 3600: 30, 24 * 3600: 600}
WINDOWS = ("15m", "1h", "24h")

SERIES_HELP = (
    "`window` (default 15m; 1m to 24h) and `step` (default 10s, 30s, 10m for 15m, 1h,"
    " 24h) are durations in s, m or h. The step is 10s, 20s or 30s (windows up to 1h),"
    " whole minutes (windows up to 6h) or whole multiples of 10m (up to 24h); it divides"
    " the window, and window/step is at most 360 points. Each"
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


BOUNDS = [bin_bounds(i) for i in range(MAX_BIN + 1)]


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
    problem = _step_problem(window_s, step_s)
    return ("step", problem) if problem else SeriesQuery(window_s, step_s)


def _step_problem(window: int, step: int) -> str | None:
    if step % 10:
        return "must be a whole multiple of 10s"
    if step < 60 and 60 % step:
        return "under 1m must be 10s, 20s or 30s"
    if step >= 60 and step % 60:
        return "of 1m or more must be whole minutes"
    if step > window or window % step:
        return "must divide the window"
    if window // step > MAX_POINTS:
        return f"window/step is {window // step} points; at most {MAX_POINTS} points"
    level = level_for(step)
    if window // level > MAX_BUCKETS:
        longest = render_duration(MAX_BUCKETS * level)
        if level == LEVELS[0]:
            return f"under 1m reads 10-s buckets: at most {MAX_BUCKETS}, windows up to {longest}"
        return (
            f"not a whole multiple of 10m reads 1-min buckets: at most {MAX_BUCKETS},"
            f" windows up to {longest}"
        )
    return None


def _default_step(window: int) -> int:
    """About 120 points or fewer, on a step the rules accept."""
    for step in (10, 20, 30, 60, 120, 300, 600, 1200, 1800, 3600):
        if window // step <= 120 and _step_problem(window, step) is None:
            return step
    return next(s for s in (60, 600) if _step_problem(window, s) is None)


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


def merge(steps: Sequence[Mapping[str, int]], *, start: int, step: int) -> list[dict[str, Any]]:
    """The points of a window from its steps' summed fields (Counters.series): counts,
    percentiles from the step's histogram, depth the latest sample (carried forward over
    steps without one; None before the first)."""
    out: list[dict[str, Any]] = []
    depth: int | None = None
    for n, fields in enumerate(steps):
        histogram: dict[int, int] = {}
        for name, value in fields.items():
            if name[0] == "h" and name[1:].isdigit():
                histogram[int(name[1:])] = int(value)
        if DEPTH in fields:
            depth = int(fields[DEPTH])
        p50, p95, p99 = percentiles(histogram, (0.5, 0.95, 0.99))
        out.append(
            {
                "t": start + n * step,
                "created": int(fields.get("created", 0)),
                "completed": int(fields.get("completed", 0)),
                "failed": int(fields.get("failed", 0)),
                "cancelled": int(fields.get("cancelled", 0)),
                "p50Ms": p50,
                "p95Ms": p95,
                "p99Ms": p99,
                "queueDepth": depth,
            }
        )
    return out


def percentiles(histogram: Mapping[int, int], qs: Sequence[float]) -> list[float | None]:
    """percentile() of each of `qs` (ascending), rounded to 0.1 ms, in one walk over the
    bins; Nones for an empty histogram."""
    total = sum(histogram.values())
    if total <= 0:
        return [None] * len(qs)
    found: list[float | None] = []
    bins = sorted(histogram.items())
    position, seen = 0, 0
    for q in qs:
        rank = q * total
        while seen + bins[position][1] < rank:
            seen += bins[position][1]
            position += 1
        index, count = bins[position]
        lower, upper = BOUNDS[index]
        found.append(round(lower + (upper - lower) * max(0.0, rank - seen) / count, 1))
    return found


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
