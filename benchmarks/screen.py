"""Scenario `screen`: event happens -> visible on the dashboard and in the TUI.

The four services and the web service (`odto serve web`, proxying to this stack's gateway
and read model) run on real backends under a fresh namespace. The dashboard is open in
headless Chromium and the TUI runs headless in a process of its own
(benchmarks/watchers.py, watch_process.py), both live. Jobs are submitted to the gateway
one every `interval` seconds; the event time of a job is its job.completed `occurredAt`,
read as the jobs row's `completed_at` (the same clock reading, at microsecond instead of
millisecond precision). Figure per screen:
first visible as COMPLETED - event time. Browser, services and harness share this
machine's wall clock, so no clock offset enters; times are in ms. Beside them, `stream`:
the same figure for the read model's `/stream` frame itself (what the push costs before
any screen draws), not part of the verdict.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

import orjson

from benchmarks import loadgen, watchers
from benchmarks.loadgen import LoadResult, iso_ms
from benchmarks.pipeline import drain
from benchmarks.stacks import REAL_SERVICES, RealStack
from benchmarks.stores import Backends
from benchmarks.watch_process import ProcessWatch

Log = Callable[[str], None]
SCREENS = ("dashboard", "tui")


@dataclass(frozen=True)
class ScreenPlan:
    jobs: int
    interval: float  # seconds between two submissions
    settle: float = 15.0  # how long to wait for a screen after the last completion


class Watch(Protocol):
    async def seen(self) -> dict[str, tuple[float, str]]: ...


async def submit(gateway: str, plan: ScreenPlan) -> list[str]:
    """`plan.jobs` jobs, one every `plan.interval` s (open loop); the accepted ids."""
    ids: list[str] = []

    def body(result: LoadResult, due: float) -> bytes:
        job_id = str(uuid.uuid4())
        ids.append(job_id)
        job = {"id": job_id, "type": "SCREEN", "status": "PENDING"}
        return orjson.dumps({**job, "createdAt": iso_ms(result.wall(due))})

    rate = 1 / plan.interval
    result = await loadgen.open_loop(
        [gateway + "/jobs"], rate, (plan.jobs + 0.5) * plan.interval, connections=4, body=body
    )
    if result.accepted != len(ids):
        raise RuntimeError(f"the gateway accepted {result.accepted} of {len(ids)} jobs")
    return ids


def figures(events: dict[str, datetime], seen: dict[str, tuple[float, str]]) -> dict[str, Any]:
    lags = {i: seen[i][0] - at.timestamp() * 1000 for i, at in events.items() if i in seen}
    p50, p95, p99 = loadgen.percentiles(list(lags.values()))
    where: dict[str, int] = {}
    for job_id in lags:
        where[seen[job_id][1]] = where.get(seen[job_id][1], 0) + 1
    return {
        "jobs": len(events),
        "seen": len(lags),
        "p50Ms": round(p50, 1),
        "p95Ms": round(p95, 1),
        "p99Ms": round(p99, 1),
        "minMs": round(min(lags.values()), 1) if lags else None,
        "maxMs": round(max(lags.values()), 1) if lags else None,
        "firstShownIn": where,
    }


async def _all_seen(
    screens: dict[str, Watch], ids: list[str], within: float
) -> dict[str, dict[str, tuple[float, str]]]:
    deadline = time.monotonic() + within
    while True:
        seen = {name: await watch.seen() for name, watch in screens.items()}
        if all(set(ids) <= s.keys() for s in seen.values()) or time.monotonic() > deadline:
            return seen
        await asyncio.sleep(0.25)


async def run(
    plan: ScreenPlan, backends: Backends, log_dir: Path, env: dict[str, str], log: Log
) -> dict[str, Any]:
    missing = watchers.unavailable()
    if missing:
        log(f"screen: the dashboard cannot be watched: {missing}")
    stack = await RealStack.start(
        backends, log_dir, kind="screen", services=(*REAL_SERVICES, "web"), env=env
    )
    try:
        assert stack.stores is not None
        gateway, read_model = stack.url("gateway"), stack.url("read-model")
        await submit(gateway, ScreenPlan(1, 0.1))  # consumers bound before anything counts
        if await drain(stack.stores.redis_completed, 1, within=60) < 0:
            raise RuntimeError(f"the first job did not complete:\n{stack.services[0].log_tail()}")
        async with contextlib.AsyncExitStack() as opened:
            screens: dict[str, Watch] = {}
            skipped: dict[str, str] = {"dashboard": missing} if missing else {}
            if not missing:
                log("screen: opening the dashboard in Chromium")
                watch = watchers.DashboardWatch.open(stack.url("web"))
                await _enter(opened, "dashboard", watch, screens, skipped, log)
            log("screen: starting the TUI headless and a stream client, each in its own process")
            for kind, where in (("tui", "jobsTable"), ("stream", "stream")):
                watch_in = ProcessWatch.open(kind, gateway, read_model, where)
                await _enter(opened, kind, watch_in, screens, skipped, log)
            log(f"screen: {plan.jobs} jobs, one every {plan.interval:g} s")
            ids = await submit(gateway, plan)
            events = await _completions(stack, ids, within=60)
            seen = await _all_seen(screens, ids, plan.settle)
    finally:
        await stack.stop()
    result: dict[str, Any] = {
        "jobs": len(ids),
        "intervalS": plan.interval,
        "completed": len(events),
        "clock": "one machine's wall clock; ms",
        "namespace": stack.namespace,
    }
    measured = {name: figures(events, s) for name, s in seen.items()}
    result.update(measured)
    result.update({name: {"skipped": why} for name, why in skipped.items()})
    # the verdict is the screens'; the stream is what feeds them, reported beside them
    shown = {name: m for name, m in measured.items() if name in SCREENS}
    p99s = [m["p99Ms"] for m in shown.values() if m["seen"]]
    result["worstP99Ms"] = max(p99s) if p99s else None
    result["allSeen"] = bool(shown) and all(
        m["seen"] == len(ids) == len(events) for m in shown.values()
    )
    return result


async def _completions(stack: RealStack, ids: list[str], within: float) -> dict[str, datetime]:
    assert stack.stores is not None
    deadline = time.monotonic() + within
    while True:
        done = await stack.stores.completed_at(ids)
        if len(done) == len(ids) or time.monotonic() > deadline:
            return done
        await asyncio.sleep(0.25)


async def _enter(
    opened: contextlib.AsyncExitStack,
    name: str,
    watch: contextlib.AbstractAsyncContextManager[Watch],
    screens: dict[str, Watch],
    skipped: dict[str, str],
    log: Log,
) -> None:
    """Open one watcher; one that cannot start is reported, not fatal to the whole run."""
    try:
        screens[name] = await opened.enter_async_context(watch)
    except Exception as exc:  # a browser or TUI problem must not lose the other figures
        skipped[name] = f"could not start: {type(exc).__name__}: {str(exc)[:300]}"
        log(f"screen: {name} not measured: {skipped[name]}")
