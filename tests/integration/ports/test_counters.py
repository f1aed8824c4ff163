"""The Counters port's behaviour, proved once against every reachable adapter (SPEC §5.3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from observatory.core.errors import DependencyDown
from observatory.core.stores.embedded_counters import EmbeddedCounters
from observatory.core.stores.ports import Counters
from observatory.core.stores.records import CounterEffect, CounterSnapshot
from observatory.core.stores.redis_counters import RedisCounters


async def test_a_fresh_snapshot_is_zero_and_empty(counters: Counters) -> None:
    """Before any effect every counter is 0, nothing is in flight and lastEventTime is ""."""
    snapshot = await counters.snapshot()
    assert snapshot == CounterSnapshot(0, 0, 0, 0, 0, "")
    assert snapshot.in_flight == 0


async def test_each_effect_applies_exactly_once(counters: Counters) -> None:
    """Applying the same effects again returns 0 new and changes nothing (a redelivered event)."""
    effects = [
        CounterEffect("created:a", {"total": 1}, "2026-03-01T12:00:00.000Z"),
        CounterEffect("created:b", {"total": 1}, "2026-03-01T12:00:01.000Z"),
        CounterEffect("terminal:a:1", {"completed": 1}, "2026-03-01T12:00:02.000Z"),
    ]
    assert await counters.apply(effects) == 3
    after_first = await counters.snapshot()

    assert await counters.apply(effects) == 0
    assert await counters.apply([effects[1]]) == 0
    assert await counters.snapshot() == after_first
    assert (after_first.total, after_first.completed, after_first.in_flight) == (2, 1, 1)


async def test_the_same_key_twice_in_one_batch_counts_once(counters: Counters) -> None:
    """Two effects with one key in a single apply count as one new effect."""
    twice = CounterEffect("created:dup", {"total": 1})
    assert await counters.apply([twice, twice]) == 1
    assert (await counters.snapshot()).total == 1


async def test_deltas_add_up_across_effects(counters: Counters) -> None:
    """Deltas of distinct effects add to every counter they name."""
    await counters.apply(
        [
            CounterEffect("e1", {"total": 3, "completed": 1}),
            CounterEffect("e2", {"total": 2, "failed": 2, "retried": 1}),
            CounterEffect("e3", {"dead_letters": 4, "completed": 1}),
            CounterEffect("e4", {"total": 0}),
        ]
    )
    snapshot = await counters.snapshot()
    assert (snapshot.total, snapshot.completed, snapshot.failed) == (5, 2, 2)
    assert (snapshot.retried, snapshot.dead_letters, snapshot.in_flight) == (1, 4, 1)


async def test_negative_deltas_subtract(counters: Counters) -> None:
    """A retried run that completes moves a job from failed to completed."""
    await counters.apply([CounterEffect("terminal:j:1", {"total": 1, "failed": 1})])
    await counters.apply([CounterEffect("terminal:j:2", {"completed": 1, "failed": -1})])
    snapshot = await counters.snapshot()
    assert (snapshot.total, snapshot.completed, snapshot.failed) == (1, 1, 0)


async def test_cancelled_jobs_are_counted_and_leave_in_flight(counters: Counters) -> None:
    """metrics:jobs:cancelled (SPEC §13) counts cancelled runs; a cancelled job is not in flight,
    and a cancelled rerun of a FAILED job moves it from failed to cancelled."""
    await counters.apply(
        [
            CounterEffect("created:c1", {"total": 1}),
            CounterEffect("created:c2", {"total": 1}),
            CounterEffect("terminal:c1:1", {"cancelled": 1}),
            CounterEffect("terminal:c2:1", {"failed": 1}),
            CounterEffect("terminal:c2:2", {"cancelled": 1, "failed": -1}),
        ]
    )
    snapshot = await counters.snapshot()
    assert (snapshot.total, snapshot.failed, snapshot.cancelled, snapshot.in_flight) == (2, 0, 2, 0)


async def test_last_event_time_keeps_the_latest(counters: Counters) -> None:
    """lastEventTime is the latest occurredAt seen, whatever order events arrive in."""
    times = [
        "2026-03-01T12:00:05.000Z",
        "2026-03-01T12:00:09.250Z",
        "2026-03-01T11:59:59.999Z",
        "2026-03-01T12:00:09.000Z",
    ]
    for n, when in enumerate(times):
        await counters.apply([CounterEffect(f"event:{n}", {}, when)])
        assert (await counters.snapshot()).last_event_time == max(times[: n + 1])
    await counters.apply([CounterEffect("no-time", {"total": 1})])
    assert (await counters.snapshot()).last_event_time == "2026-03-01T12:00:09.250Z"


async def test_an_effect_without_deltas_only_moves_the_event_time(counters: Counters) -> None:
    """A validated/executed event moves lastEventTime, leaves counters alone, and may come
    again; it claims no effect key (a key per event would grow without bound)."""
    effect = CounterEffect("event:validated-1", {}, "2026-03-01T12:00:00.000Z")
    assert await counters.apply([effect]) == 0
    assert await counters.apply([effect, effect]) == 0
    assert await counters.snapshot() == CounterSnapshot(last_event_time="2026-03-01T12:00:00.000Z")


async def test_missing_names_the_keys_never_applied(counters: Counters) -> None:
    """`missing` answers which effect keys were never applied (how the metrics engine knows
    a job's job.created was counted); an effect that only moves the clock claims no key."""
    await counters.apply(
        [
            CounterEffect("created:a", {"total": 1}),
            CounterEffect("event:validated-a", {}, "2026-03-01T12:00:00.000Z"),
        ]
    )
    asked = {"created:a", "created:b", "event:validated-a", "created:a:2"}
    assert await counters.missing(asked) == {"created:b", "event:validated-a", "created:a:2"}
    assert await counters.missing([]) == set()
    assert await counters.missing(["created:a", "created:a"]) == set()


async def test_missing_answers_for_many_keys_at_once(counters: Counters) -> None:
    """A large batch's keys are answered in one call, whatever their number."""
    applied = [CounterEffect(f"created:{n}", {"total": 1}) for n in range(0, 1500, 2)]
    await counters.apply(applied)
    assert await counters.missing([f"created:{n}" for n in range(1500)]) == {
        f"created:{n}" for n in range(1, 1500, 2)
    }


async def test_apply_leaves_requirements_to_the_caller(counters: Counters) -> None:
    """`requires` is for the caller to check with `missing`; apply counts the effect either
    way, so every adapter applies the same effects."""
    terminal = CounterEffect("terminal:x:1", {"completed": 1}, None, requires="created:x")
    assert await counters.apply([terminal]) == 1
    assert await counters.missing([terminal.requires or ""]) == {"created:x"}
    assert (await counters.snapshot()).completed == 1


async def test_closed_counters_are_down(counters_target: tuple[str, str], namespace: str) -> None:
    """Before open() and after close() every call raises DependencyDown and ping is False
    (a closed Redis client must not quietly reconnect)."""
    name, target = counters_target

    def build() -> Counters:
        if name == "embedded":
            return EmbeddedCounters(Path(target))
        return RedisCounters(target, namespace=namespace)

    opened = build()
    await opened.open()
    await opened.close()
    for counters in (build(), opened):
        assert await counters.ping() is False
        calls = [
            counters.apply([CounterEffect("created:z", {"total": 1})]),
            counters.missing(["created:z"]),
            counters.snapshot(),
        ]
        for call in calls:
            with pytest.raises(DependencyDown):
                await call
