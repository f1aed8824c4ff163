"""Scenario `readmodel`: the read model alone (`odto serve read-model`) on real backends,
its namespace filled with N jobs / 5 N events (benchmarks/dataset.py), then one open loop
of GETs per route at a fixed rate, each request for another random existing job or
status. Latency is the client's: from the moment a request was due to its last byte.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

from benchmarks import dataset, loadgen
from benchmarks.pipeline import Window
from benchmarks.stacks import RealStack
from benchmarks.stores import Backends

Log = Callable[[str], None]
PAGE = 50  # items per /jobs page, the read model's default
DAYS_IN_DATASET = dataset.DAYS


@dataclass(frozen=True)
class ReadModelPlan:
    jobs: int
    rate: float  # requests per second offered to each route
    warmup: float
    window: float
    seed: int = 1
    with_searches: bool = False  # readmodel: the searches too, on the same data set


@dataclass(frozen=True)
class Route:
    name: str
    path: Callable[[], str]  # the next request's path and query
    check: Callable[[Any], bool]  # on the parsed JSON answer: is it the answer we expect?


def _checked(route: Route) -> Callable[[bytes], bool]:
    def check(body: bytes) -> bool:
        try:
            return bool(route.check(orjson.loads(body)))
        except (orjson.JSONDecodeError, AttributeError, TypeError, KeyError):
            return False

    return check


def routes(
    loaded: dataset.Loaded, statuses: list[str], cursors: list[str], rng: random.Random
) -> list[Route]:
    """The routes PERFORMANCE.md names (/stats, /jobs?status= one page, /events?jobId=),
    a page deep into one status via a cursor an earlier answer gave, /jobs/{id}, and
    /stats/series: the dashboard's 24 h window (144 ten-minute buckets) and 6 h at 1 min
    (360 one-minute buckets, the most one request may read), each answer checked to
    hold the jobs of its window."""

    jobs = loaded.jobs

    def holds_the_day(d: dict[str, Any], hours: int = 24) -> bool:
        """At least 90 % of the jobs created in the window counted, and latencies there.
        The dataset's jobs end where its load began: a 10M load takes half an hour, so
        the window's expected jobs are those of its overlap with the dataset's span."""
        overlap = loaded.data_end - (time.time() - hours * 3600)
        expected = int(jobs * max(0.0, overlap) / (DAYS_IN_DATASET * 86400))
        created = sum(p["created"] for p in d["points"])
        return created >= expected * 9 // 10 and any(p["p99Ms"] is not None for p in d["points"])

    def any_job() -> str:
        return dataset.job_id(rng.randint(1, jobs))

    found = [
        Route("/stats", lambda: "/stats", lambda d: d["totalJobs"] == jobs),
        Route(
            "/jobs?status=",
            lambda: f"/jobs?status={rng.choice(statuses)}&limit={PAGE}",
            lambda d: len(d["items"]) > 0,
        ),
    ]
    if cursors:
        found.append(
            Route(
                "/jobs?status=FAILED&cursor=",
                lambda: f"/jobs?status=FAILED&limit={PAGE}&cursor={rng.choice(cursors)}",
                lambda d: len(d["items"]) > 0,
            )
        )
    found += [
        Route("/events?jobId=", lambda: f"/events?jobId={any_job()}", lambda d: len(d) > 0),
        Route(
            "/jobs/{id}",
            lambda: f"/jobs/{any_job()}",
            lambda d: bool(d["id"] and d["events"] and d["attemptHistory"]),
        ),
        Route(
            "/stats/series?window=24h",
            lambda: "/stats/series?window=24h",
            lambda d: len(d["points"]) == 144 and holds_the_day(d),
        ),
        Route(
            "/stats/series?window=6h&step=1m",
            lambda: "/stats/series?window=6h&step=1m",
            lambda d: len(d["points"]) == 360 and holds_the_day(d, hours=6),
        ),
    ]
    return found


async def cursors_to_middle(url: str, failed: int) -> tuple[list[str], int, int]:
    """Walk the FAILED jobs page by page down to their middle; the cursors met on the
    way, the walk's page size and the depth reached (rows)."""
    page = max(1, min(200, failed // 10))
    found: list[str] = []
    depth, cursor = 0, None
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        while depth + page <= failed // 2 and len(found) < 400:
            params: dict[str, Any] = {"status": "FAILED", "limit": page}
            if cursor:
                params["cursor"] = cursor
            response = await client.get("/jobs", params=params)
            response.raise_for_status()
            cursor = response.json()["nextCursor"]
            if not cursor:
                break
            depth += page
            found.append(cursor)
    return found, page, depth


async def measure(route: Route, url: str, plan: ReadModelPlan, stack: RealStack) -> dict[str, Any]:
    """One open loop on `route`: warm-up, then the window's latency percentiles."""
    watch = Window(stack.services)
    watcher = asyncio.create_task(watch.watch(plan.warmup, plan.window))
    result = await loadgen.open_loop_get(
        url, plan.rate, plan.warmup + plan.window, path=route.path, check=_checked(route)
    )
    await watcher
    t0 = result.mono_start + plan.warmup
    shots = result.in_window(t0, t0 + plan.window)
    good = [(s.done - s.due) * 1000 for s in shots if s.status == 200]
    p50, p95, p99 = loadgen.percentiles(good)
    return {
        "route": route.name,
        "offeredPerS": plan.rate,
        "windowS": plan.window,
        "sent": len(shots),
        "ok": len(good),
        "errors": result.errors(),
        "p50Ms": round(p50, 2),
        "p95Ms": round(p95, 2),
        "p99Ms": round(p99, 2),
        "maxMs": round(max(good), 2) if good else None,
        "generatorMaxLagMs": round(result.max_lag * 1000, 1),
        "cpu": watch.cpu,
        "backendCpu": watch.backends,
        **watch.busy,
    }


Then = Callable[[str, ReadModelPlan, RealStack, Log], Awaitable[dict[str, Any]]]


def judged(measured: list[dict[str, Any]]) -> dict[str, Any]:
    """The worst p99 of `measured` routes, and whether every answer was the expected one."""
    worst = max(measured, key=lambda r: r["p99Ms"] if r["ok"] else float("inf"))
    return {
        "worstRoute": worst["route"],
        "worstP99Ms": worst["p99Ms"],
        "answersOk": all(not r["errors"] and r["ok"] == r["sent"] for r in measured),
    }


async def run(
    plan: ReadModelPlan,
    backends: Backends,
    log_dir: Path,
    env: dict[str, str],
    log: Log,
    then: Then | None = None,
) -> dict[str, Any]:
    """The routes on the loaded data set; `then` measures more on the same data (the
    scale run's searches: one load serves both) and is kept as `searches`."""
    stack = await RealStack.start(backends, log_dir, kind="rm", services=("read-model",), env=env)
    more: dict[str, Any] = {}
    try:
        ns = stack.namespace
        log(f"readmodel: loading {plan.jobs:,} jobs / {plan.jobs * 5:,} events into {ns}")
        loaded = await dataset.load(backends.postgres, backends.redis, stack.namespace, plan.jobs)
        took = loaded.as_dict()
        steps = ", ".join(f"{k} {v:g}" for k, v in took["loadStepsS"].items())
        log(f"readmodel: loaded in {took['loadS']:g} s ({steps}); {took['diskMb']:,} MB")
        url = stack.url("read-model")
        cursors, page, depth = await cursors_to_middle(url, loaded.statuses.get("FAILED", 0))
        statuses = sorted(loaded.statuses)
        rng = random.Random(plan.seed)
        runs = []
        for route in routes(loaded, statuses, cursors, rng):
            seconds = f"{plan.warmup:g} + {plan.window:g} s"
            log(f"readmodel: GET {route.name} at {plan.rate:g}/s for {seconds}")
            runs.append(await measure(route, url, plan, stack))
        if then is not None:
            more["searches"] = await then(url, plan, stack, log)
    finally:
        await stack.stop()
    return {
        **took,
        "routes": runs,
        "cursorPages": {"pageSize": page, "deepestRow": depth, "cursors": len(cursors)},
        **judged(runs),
        **more,
        "peakRssMb": stack.peak_rss_mb(),
        "namespace": stack.namespace,
    }
