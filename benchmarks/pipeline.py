"""Runs against our system: one load run (open loop or flat out) with warm-up and a
measured window, completions counted from the stores, then a drain and the totals check."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from benchmarks import loadgen
from benchmarks.loadgen import LoadResult
from benchmarks.machine import CpuMark, backend_cpu, busy_between
from benchmarks.procs import Service

Completed = Callable[[], Awaitable[int]]


@dataclass
class Window:
    """Per-service CPU and machine busy-ness over the measured window."""

    services: list[Service]
    cpu: dict[str, float] = field(default_factory=dict)
    busy: dict[str, float] = field(default_factory=dict)
    backends: dict[str, float] = field(default_factory=dict)

    async def watch(self, warmup: float, window: float) -> None:
        await asyncio.sleep(warmup)
        before = {s.name: s.cpu() for s in self.services}
        backends = await asyncio.to_thread(backend_cpu)
        mark = CpuMark.now()
        await asyncio.sleep(window)
        end = CpuMark.now()
        after = await asyncio.to_thread(backend_cpu)
        self.busy = busy_between(mark, end)
        self.cpu = {s.name: round((s.cpu() - before[s.name]) / window, 2) for s in self.services}
        self.backends = {k: round((after[k] - backends[k]) / window, 2) for k in after}
        accounted = sum(self.cpu.values()) + sum(self.backends.values())
        self.busy["otherCores"] = round(
            max(0.0, self.busy["machineBusyCores"] - accounted - self.busy["generatorCores"]), 2
        )


@dataclass
class Ledger:
    """Accepted jobs so far on one stack, to compute the backlog and check totals."""

    accepted: int = 0


async def load(
    urls: list[str],
    *,
    rate: float | None,
    warmup: float,
    window: float,
    connections: int,
    backlog: loadgen.Backlog | None = None,
    backlog_limit: int = 10_000,
    services: list[Service] | None = None,
    body: loadgen.BodyMaker = loadgen.job_body,
) -> tuple[LoadResult, Window]:
    """Run the generator for warm-up + window; watch CPU over the window meanwhile."""
    watch = Window(services or [])
    watcher = asyncio.create_task(watch.watch(warmup, window))
    urls = [url.rstrip("/") + "/jobs" for url in urls]
    if rate:
        result = await loadgen.open_loop(
            urls,
            rate,
            warmup + window,
            connections=max(connections, 256),
            backlog=backlog,
            abort_over=abort_over(rate),
            body=body,
        )
    else:
        result = await loadgen.flat_out(
            urls,
            warmup + window,
            connections=connections,
            backlog=backlog,
            backlog_limit=backlog_limit,
            body=body,
        )
    await watcher
    return result, watch


async def drain(
    completed: Completed, target: int, *, within: float = 180.0, stall: float = 20.0
) -> float:
    """Wait until `completed()` reaches `target`; give up after `within` or `stall` seconds
    without progress. Returns the seconds waited (negative when it gave up)."""
    start = time.monotonic()
    last, last_change = -1, start
    while True:
        value = await completed()
        now = time.monotonic()
        if value >= target:
            return round(now - start, 2)
        if value != last:
            last, last_change = value, now
        if now - start > within or now - last_change > stall:
            return -round(now - start, 2)
        await asyncio.sleep(0.25)


def abort_over(rate: float) -> int:
    """An open-loop step stops once this many accepted jobs are unfinished (3 s of load)."""
    return int(max(1000.0, 3 * rate))


def http_figures(result: LoadResult, t0: float, t1: float) -> dict[str, Any]:
    shots = result.in_window(t0, t1)
    ok = [s for s in shots if s.status == 202]
    p50, p99 = loadgen.percentiles([(s.done - s.due) * 1000 for s in ok], (0.5, 0.99))
    return {
        "sent": len(shots),
        "acceptedPerS": round(len(ok) / (t1 - t0), 1),
        "httpP50Ms": round(p50, 1),
        "httpP99Ms": round(p99, 1),
        "errorsAll": result.errors(),
        "generatorMaxLagMs": round(result.max_lag * 1000, 1),
        "pausedS": round(result.paused, 1),
        "gateErrors": result.gate_errors,  # backlog polls that failed (0 in a clean run)
        # open loop stopped early, this many seconds after the start (warm-up included)
        "stoppedAfterS": None
        if result.aborted_at is None
        else round(result.aborted_at - result.mono_start, 1),
    }


async def metric_total(urls: list[str], name: str) -> int:
    """Sum of the unlabelled metric `name` over the services' /metrics at `urls`."""
    total = 0.0
    pattern = re.compile(rf"^{re.escape(name)}\s+([0-9.e+]+)$", re.MULTILINE)
    async with httpx.AsyncClient(timeout=5) as client:
        for url in urls:
            match = pattern.search((await client.get(url + "/metrics")).text)
            total += float(match.group(1)) if match else 0.0
    return int(total)


async def gateway_accepted_total(urls: list[str]) -> int:
    """Sum of gateway_jobs_accepted_total over the gateways' /metrics."""
    return await metric_total(urls, "gateway_jobs_accepted_total")
