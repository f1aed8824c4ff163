"""The series rollup's arithmetic (core.stores.series): latency bins, percentiles from a
histogram, and merging steps into points."""

from __future__ import annotations

import random

import pytest

from observatory.core.stores.series import (
    bin_bounds,
    latency_bin,
    merge,
    percentile,
    percentiles,
)


@pytest.mark.parametrize("ms", [0, 0.5, 1, 1.01, 3, 250, 999, 1000, 60_000, 3_600_000])
def test_a_latency_falls_inside_its_bin(ms: float) -> None:
    lower, upper = bin_bounds(latency_bin(ms))
    assert lower <= ms <= upper or (ms <= 1 and latency_bin(ms) == 0)


def test_percentiles_are_within_a_bin_of_the_exact_ones() -> None:
    """Against 5,000 random latencies the histogram's p50/p95/p99 are within 19 % (one
    bin's width) of the sorted list's, and one walk gives what percentile() gives."""
    rng = random.Random(7)
    values = sorted(rng.lognormvariate(5, 1.2) for _ in range(5000))
    histogram: dict[int, int] = {}
    for v in values:
        histogram[latency_bin(v)] = histogram.get(latency_bin(v), 0) + 1
    walked = percentiles(histogram, (0.5, 0.95, 0.99))
    for q, found in zip((0.5, 0.95, 0.99), walked, strict=True):
        exact = values[int(q * len(values)) - 1]
        assert found is not None
        assert exact / 1.19 <= found <= exact * 1.19
        assert found == round(percentile(histogram, q) or 0, 1)
    assert percentiles({}, (0.5, 0.99)) == [None, None]


def test_merge_sums_counts_and_carries_the_depth_forward() -> None:
    steps = [
        {},
        {"created": 2, "depth": 2},
        {"completed": 1, "h28": 1},
        {"depth": 1, "failed": 1, "h40": 1},
    ]
    points = merge(steps, start=100, step=10)
    assert [p["t"] for p in points] == [100, 110, 120, 130]
    assert [p["queueDepth"] for p in points] == [None, 2, 2, 1]
    assert [p["created"] for p in points] == [0, 2, 0, 0]
    lower, upper = bin_bounds(28)
    assert lower <= points[2]["p50Ms"] <= points[2]["p99Ms"] <= upper
    assert points[1]["p99Ms"] is None
    assert points[3]["failed"] == 1
