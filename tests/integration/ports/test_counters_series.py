"""The Counters port's time buckets (core.stores.series), proved against every reachable
adapter: an effect's series and latency land in the buckets of its time at every level,
exactly once with its claim; the depth sample is the counters' in-flight figure at that
moment; buckets expire (Redis) or are pruned (embedded) after SERIES_TTL_SECONDS."""

from __future__ import annotations

from pathlib import Path

import pytest

from observatory.core.errors import DependencyDown
from observatory.core.stores.embedded_counters import EmbeddedCounters
from observatory.core.stores.ports import Counters
from observatory.core.stores.records import CounterEffect
from observatory.core.stores.series import LEVELS, SERIES_TTL_SECONDS, latency_bin

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z, a multiple of every level


async def buckets(counters: Counters, step: int, start: int, end: int) -> dict[int, dict[str, int]]:
    """The non-empty steps of `step` seconds in [start, end), by their start."""
    steps = await counters.series(start, step, (end - start) // step)
    return {start + n * step: fields for n, fields in enumerate(steps) if fields}


def created(name: str, at: int) -> CounterEffect:
    return CounterEffect(f"created:{name}", {"total": 1}, None, series="created", at=at)


def ended(name: str, how: str, at: int, latency_ms: float | None = None) -> CounterEffect:
    deltas = {how: 1}
    return CounterEffect(f"terminal:{name}:1", deltas, None, None, how, at, latency_ms)


async def test_effects_land_in_their_buckets_at_every_level_once(counters: Counters) -> None:
    """Two jobs created at T0+3 and T0+65, one completing at T0+12 after 250 ms, one
    failing at T0+70 after 4 s: at 10 s the four events are in four buckets, at 1 min in
    two, at 10 min in one; applying them again changes no bucket."""
    effects = [
        created("a", T0 + 3),
        ended("a", "completed", T0 + 12, 250),
        created("b", T0 + 65),
        ended("b", "failed", T0 + 70, 4000),
    ]
    assert await counters.apply(effects) == 4
    assert await counters.apply(effects) == 0
    fine = await buckets(counters, 10, T0, T0 + 600)
    assert fine == {
        T0: {"created": 1},
        T0 + 10: {"completed": 1, f"h{latency_bin(250)}": 1},
        T0 + 60: {"created": 1},
        T0 + 70: {"failed": 1, f"h{latency_bin(4000)}": 1},
    }
    assert await buckets(counters, 60, T0, T0 + 600) == {
        T0: {"created": 1, "completed": 1, f"h{latency_bin(250)}": 1},
        T0 + 60: {"created": 1, "failed": 1, f"h{latency_bin(4000)}": 1},
    }
    assert await buckets(counters, 600, T0, T0 + 600) == {
        T0: {
            "created": 2,
            "completed": 1,
            "failed": 1,
            f"h{latency_bin(250)}": 1,
            f"h{latency_bin(4000)}": 1,
        }
    }
    assert await buckets(counters, 10, T0 + 20, T0 + 60) == {}


async def test_a_step_sums_its_buckets_and_keeps_its_latest_depth(counters: Counters) -> None:
    """Steps of 30 s read three 10-s buckets each, steps of 2 min two 1-min buckets: their
    counts add up, and the depth is the latest sample inside the step."""
    await counters.apply([created("a", T0 + 1), created("b", T0 + 12)], depth_at=T0 + 12)
    await counters.apply([ended("a", "completed", T0 + 25, 100)], depth_at=T0 + 26)
    await counters.apply([created("c", T0 + 70)], depth_at=T0 + 71)
    steps = await counters.series(T0, 30, 4)
    assert steps[0] == {"created": 2, "completed": 1, f"h{latency_bin(100)}": 1, "depth": 1}
    assert steps[1] == {}
    assert steps[2] == {"created": 1, "depth": 2}
    assert steps[3] == {}
    two_minutes = await counters.series(T0, 120, 2)
    assert two_minutes == [
        {"created": 3, "completed": 1, f"h{latency_bin(100)}": 1, "depth": 2},
        {},
    ]


async def test_an_end_without_counter_deltas_still_claims_and_counts_in_the_series(
    counters: Counters,
) -> None:
    """A failed rerun changes no counter (the job was failed already) but is a failure in
    its step: it claims its key and counts once."""
    rerun = CounterEffect("terminal:r:2", {}, None, None, "failed", T0 + 1, 30)
    assert await counters.apply([rerun]) == 1
    assert await counters.apply([rerun]) == 0
    assert await buckets(counters, 10, T0, T0 + 10) == {T0: {"failed": 1, f"h{latency_bin(30)}": 1}}
    assert await counters.missing(["terminal:r:2"]) == set()


async def test_the_depth_sample_is_in_flight_at_that_moment(counters: Counters) -> None:
    """depth_at records total - completed - failed - cancelled after the effects, in the
    buckets of that moment at every level; a later sample in the same bucket replaces it."""
    await counters.apply([created("a", T0), created("b", T0), created("c", T0)], depth_at=T0 + 1)
    for level in LEVELS:
        assert (await buckets(counters, level, T0, T0 + level))[T0]["depth"] == 3
    await counters.apply([ended("a", "completed", T0 + 4)], depth_at=T0 + 5)
    assert (await buckets(counters, 10, T0, T0 + 10))[T0]["depth"] == 2
    assert await counters.apply([], depth_at=T0 + 15) == 0
    assert (await buckets(counters, 10, T0 + 10, T0 + 20))[T0 + 10] == {"depth": 2}


async def test_old_buckets_are_pruned_by_the_embedded_counters(tmp_path: Path) -> None:
    """The embedded counters delete buckets older than SERIES_TTL_SECONDS when they take
    a depth sample (Redis expires them: test_redis_counters)."""
    counters = EmbeddedCounters(tmp_path / "counters.sqlite3")
    await counters.open()
    try:
        old = T0 - SERIES_TTL_SECONDS - 600
        await counters.apply([created("old", old)], depth_at=old)
        assert await buckets(counters, 600, old, old + 600) != {}
        await counters.apply([created("new", T0)], depth_at=T0)
        assert await buckets(counters, 600, old, old + 600) == {}
        assert await buckets(counters, 600, T0, T0 + 600) == {T0: {"created": 1, "depth": 2}}
    finally:
        await counters.close()


async def test_series_of_closed_counters_is_down(counters: Counters) -> None:
    await counters.close()
    with pytest.raises(DependencyDown):
        await buckets(counters, 10, T0, T0 + 10)
