"""GET /stats/series through the read model's HTTP API, fed by the metrics engine's
handler over the embedded stores with a fixed clock (SPEC §13): counts per step land in
the step of each event, redelivered events count once, latency percentiles come from
submit→done, the queue depth is sampled per batch, and bad window/step values are 400s
naming the limit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from tests.unit.services.embedded import Embedded, embedded, event, job, lifecycle

from observatory.core.bus.port import Outcome
from observatory.core.settings import HttpSettings
from observatory.services.metrics_engine.handlers import EventHandler
from observatory.services.metrics_engine.metrics import MetricsEngineMetrics
from observatory.services.read_model.app import create_app
from observatory.services.read_model.settings import ReadModelSettings

__all__ = ["embedded"]  # the fixture, imported to be found

QUEUE_OF = {
    "job.created": "jobs.created.metrics",
    "job.validated": "jobs.validated",
    "job.executed": "jobs.executed",
    "job.completed": "jobs.completed",
    "job.failed": "jobs.failed",
    "job.cancelled": "jobs.cancelled",
}


@pytest.fixture
async def client(embedded: Embedded) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        ReadModelSettings(),
        HttpSettings(),
        jobs=embedded.jobs,
        counters=embedded.counters,
        events=embedded.events,
        owned=False,
        clock=embedded.clock,
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://rm") as client:
        yield client


async def count(embedded: Embedded, envelopes: list[dict[str, Any]]) -> None:
    """One batch through the metrics engine's handler; every event acked."""
    handler = EventHandler(
        bus=embedded.bus,
        events=embedded.events,
        counters=embedded.counters,
        clock=embedded.clock,
        metrics=MetricsEngineMetrics(),
    )
    batch = [embedded.message(QUEUE_OF[e["eventType"]], e) for e in envelopes]
    assert set(await handler(batch)) == {Outcome.ACK}


async def series(client: httpx.AsyncClient, query: str = "") -> dict[str, Any]:
    answer = await client.get(f"/stats/series{query}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def sums(points: list[dict[str, Any]]) -> dict[str, int]:
    return {n: sum(p[n] for p in points) for n in ("created", "completed", "failed", "cancelled")}


async def test_each_event_counts_once_in_its_own_step(
    embedded: Embedded, client: httpx.AsyncClient
) -> None:
    """A job completes 3 s after submission, one fails, one is cancelled, a minute apart:
    each end is in the step of its occurredAt, the latency percentiles of the completed
    step are about 3,000 ms (histogram bins are within 19 %), and the same events
    delivered again change nothing."""
    clock = embedded.clock
    clock.advance(5)  # 00:00:05
    done = job(clock)
    first = lifecycle(clock, done)  # created 00:00:05 … completed 00:00:08
    clock.advance(60)
    failed = job(clock)
    second = lifecycle(clock, failed, ends="job.failed")  # 00:01:09 … failed 00:01:12
    clock.advance(60)
    waiting = job(clock)
    third = [event(clock, "job.created", waiting)]
    clock.advance(2)
    third.append(event(clock, "job.cancelled", waiting, status="CANCELLED"))  # 00:02:14
    for batch in (first, second, third, first + second + third):  # the last: redelivery
        await count(embedded, batch)

    body = await series(client, "?window=15m&step=10s")
    assert (body["window"], body["step"], len(body["points"])) == ("15m", "10s", 90)
    points = body["points"]
    assert sums(points) == {"created": 3, "completed": 1, "failed": 1, "cancelled": 1}
    by_time = {p["t"]: p for p in points}
    completed = by_time["2026-01-01T00:00:00.000Z"]
    assert (completed["created"], completed["completed"]) == (1, 1)
    assert 3000 / 1.19 <= completed["p50Ms"] <= completed["p99Ms"] <= 3000 * 1.19
    assert by_time["2026-01-01T00:01:10.000Z"]["failed"] == 1
    assert by_time["2026-01-01T00:01:10.000Z"]["p50Ms"] is not None
    cancelled = by_time["2026-01-01T00:02:10.000Z"]
    assert (cancelled["cancelled"], cancelled["p50Ms"]) == (1, None)
    assert points[-1]["t"] == "2026-01-01T00:02:10.000Z"  # the step in progress is last


async def test_queue_depth_is_sampled_per_batch_and_carried_forward(
    embedded: Embedded, client: httpx.AsyncClient
) -> None:
    """Three jobs submitted: depth 3; a minute later two end: depth 1, and the steps
    between (no batch) keep the last sample. Steps before the first sample have none."""
    clock = embedded.clock
    clock.advance(120)
    jobs = [job(clock) for _ in range(3)]
    await count(embedded, [event(clock, "job.created", j) for j in jobs])
    clock.advance(60)
    ends = [event(clock, "job.completed", j, status="COMPLETED") for j in jobs[:2]]
    await count(embedded, ends)
    clock.advance(30)

    points = (await series(client, "?window=15m&step=30s"))["points"]
    depth = {p["t"][11:19]: p["queueDepth"] for p in points}
    assert depth["00:02:00"] == depth["00:02:30"] == 3
    assert depth["00:03:00"] == depth["00:03:30"] == 1
    assert points[0]["queueDepth"] is None


async def test_windows_and_their_default_steps(client: httpx.AsyncClient) -> None:
    """15m → 10s (90 points), 1h → 30s (120), 24h → 10m (144); no window is 15m; the
    finest steps each window allows. A quiet system has zero counts, no percentiles and
    its current depth (0) everywhere."""
    for query, step, points in (
        ("", "10s", 90),
        ("?window=15m", "10s", 90),
        ("?window=1h", "30s", 120),
        ("?window=24h", "10m", 144),
        ("?window=6h&step=1m", "1m", 360),
        ("?window=24h&step=20m", "20m", 72),
        ("?window=1h&step=1m", "1m", 60),
    ):
        body = await series(client, query)
        assert (body["step"], len(body["points"])) == (step, points), query
        assert sums(body["points"]) == dict.fromkeys(
            ("created", "completed", "failed", "cancelled"), 0
        )
        assert {p["p99Ms"] for p in body["points"]} == {None}
        assert {p["queueDepth"] for p in body["points"]} == {0}


@pytest.mark.parametrize(
    ("query", "field", "limit"),
    [
        ("window=2d", "window", "a duration such as 15m, 1h or 24h"),
        ("window=25h", "window", "from 1m to 24h"),
        ("window=30s", "window", "from 1m to 24h"),
        ("window=", "window", "a duration"),
        ("window=1h&step=0s", "step", "a duration"),
        ("window=1h&step=7s", "step", "multiple of 10s"),
        ("window=1h&step=40s", "step", "10s, 20s or 30s"),
        ("window=1h&step=90s", "step", "whole minutes"),
        ("window=15m&step=7m", "step", "divide the window"),
        ("window=2h&step=30s", "step", "10-s buckets: at most 360, windows up to 1h"),
        ("window=24h&step=5m", "step", "1-min buckets: at most 360, windows up to 6h"),
        ("window=24h&step=2m", "step", "720 points; at most 360 points"),
        ("window=15m&step=" + "9" * 20, "step", "String should have at most 12 characters"),
    ],
)
async def test_bad_window_or_step_is_a_400_naming_the_limit(
    client: httpx.AsyncClient, query: str, field: str, limit: str
) -> None:
    answer = await client.get(f"/stats/series?{query}")
    assert answer.status_code == 400, answer.text
    assert field in answer.text
    assert limit in answer.text
