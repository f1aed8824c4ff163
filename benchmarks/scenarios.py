"""The scenarios: generator ceiling, gateway alone, our pipeline on real backends (latency,
open-loop steps, flat-out headline), the embedded profile, and the Celery baseline. The
read model at scale and event -> screen have modules of their own (readmodel.py,
screen.py)."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks import loadgen
from benchmarks.celery_run import CeleryStack, gated_run
from benchmarks.loadgen import LoadResult, iso_ms
from benchmarks.machine import CpuMark, busy_between
from benchmarks.pipeline import (
    Window,
    drain,
    gateway_accepted_total,
    http_figures,
    load,
    metric_total,
)
from benchmarks.procs import free_port, spawn
from benchmarks.readmodel import ReadModelPlan
from benchmarks.screen import ScreenPlan
from benchmarks.stacks import EmbeddedStack, RealStack
from benchmarks.stores import Backends, queue_depths
from observatory.core.bus.topology import Names

INSERT_TASK, NOOP_TASK = "bench.insert_row", "bench.noop"


@dataclass(frozen=True)
class Plan:
    """Durations (seconds) and rates of one invocation."""

    mode: str
    warmup: float
    headline: float
    step: float
    latency: float
    gateway: float
    embedded: float
    noop: float
    ceiling: float
    rates: tuple[float, ...]
    celery_rates: tuple[float, ...]
    latency_rate: float
    connections: int
    backlog: int
    repeat: int
    log_dir: Path
    backends: Backends
    service_env: dict[str, str]
    readmodel: ReadModelPlan | None = None
    screen: ScreenPlan | None = None
    traced_rate: float | None = None


def _window(result: LoadResult, warmup: float, window: float) -> tuple[float, float]:
    t0 = result.mono_start + warmup
    return t0, t0 + window


async def ceiling(plan: Plan) -> dict[str, Any]:
    """The generator flat out against a do-nothing server: its own ceiling."""
    port = free_port()
    sink = spawn("sink", [sys.executable, "-m", "benchmarks.sink", str(port)], {}, plan.log_dir)
    try:
        for _ in range(100):
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.close()
                break
            except OSError:
                await asyncio.sleep(0.1)
        mark = CpuMark.now()
        result = await loadgen.flat_out(
            [f"http://127.0.0.1:{port}/jobs"], plan.ceiling, connections=plan.connections
        )
        busy = busy_between(mark, CpuMark.now())
    finally:
        sink.stop()
    return {"requestsPerS": round(result.accepted / plan.ceiling, 1), **busy}


async def gateway(plan: Plan, processes: int, connections: int) -> dict[str, Any]:
    """Gateway(s) alone on RabbitMQ, flat out over `connections` keep-alive connections:
    accepted (validated, confirmed) jobs/s."""
    stack = await RealStack.start(
        plan.backends,
        plan.log_dir,
        kind="gw",
        services=("gateway",),
        gateways=processes,
        env=plan.service_env,
    )
    try:
        result, watch = await load(
            stack.gateway_urls,
            rate=None,
            warmup=plan.warmup,
            window=plan.gateway,
            connections=connections,
            services=stack.services,
        )
        figures = http_figures(result, *_window(result, plan.warmup, plan.gateway))
        metric = await gateway_accepted_total(stack.gateway_urls)
        names = Names(stack.namespace)
        depths = await queue_depths(
            plan.backends.rabbitmq, [names.q("jobs.created"), names.q("jobs.created.metrics")]
        )
        verified = result.accepted == metric and all(d == result.accepted for d in depths.values())
    finally:
        await stack.stop()
    return {
        "processes": processes,
        "connections": connections,
        "jobsPerS": figures["acceptedPerS"],
        **figures,
        "accepted": result.accepted,
        "acceptedMetric": metric,
        "queued": list(depths.values()),
        "verified": verified,
        "cpu": watch.cpu,
        "backendCpu": watch.backends,
        **watch.busy,
        "peakRssMb": stack.peak_rss_mb(),
    }


class OurSession:
    """Runs on one stack of ours; remembers how many jobs it accepted in total."""

    def __init__(
        self,
        plan: Plan,
        stack: RealStack | EmbeddedStack,
        body: loadgen.BodyMaker = loadgen.job_body,
    ) -> None:
        self.plan, self.stack, self.body = plan, stack, body
        self.accepted = 0

    async def completed(self) -> int:
        if isinstance(self.stack, RealStack):
            assert self.stack.stores is not None
            return await self.stack.stores.redis_completed()
        assert self.stack.stores is not None
        return await self.stack.stores.completed()

    async def completed_between(self, start: datetime, end: datetime) -> int:
        if isinstance(self.stack, RealStack):
            assert self.stack.stores is not None
            return await self.stack.stores.completed_between(start, end)
        assert self.stack.stores is not None
        return await asyncio.to_thread(
            self.stack.stores.completed_between, iso_ms(start), iso_ms(end)
        )

    async def probe(self) -> None:
        """One job through, so consumers are bound before anything is measured."""
        urls = [url + "/jobs" for url in self.stack.gateway_urls]
        result = await loadgen.open_loop(urls, 2.0, 1.0)
        self.accepted += result.accepted
        if not result.accepted or await drain(self.completed, self.accepted, within=60) < 0:
            raise RuntimeError(
                f"the probe job did not complete:\n{self.stack.services[0].log_tail()}"
            )

    async def run(self, label: str, *, rate: float | None, window: float) -> dict[str, Any]:
        plan, base = self.plan, self.accepted

        async def backlog(result: LoadResult) -> int:
            return base + result.accepted - await self.completed()

        result, watch = await load(
            self.stack.gateway_urls,
            rate=rate,
            warmup=plan.warmup,
            window=window,
            connections=plan.connections,
            backlog=backlog,
            backlog_limit=plan.backlog,
            services=self.stack.services,
            body=self.body,
        )
        self.accepted += result.accepted
        drained = await drain(self.completed, self.accepted)
        t0, t1 = _window(result, plan.warmup, window)
        done = await self.completed_between(result.wall(t0), result.wall(t1))
        figures: dict[str, Any] = {
            "label": label,
            "mode": "open" if rate else "flat",
            "offeredPerS": rate,
            "windowS": window,
            "jobsPerS": round(done / window, 1),
            "keptUp": None
            if rate is None
            else done >= 0.97 * rate * window and drained >= 0 and result.aborted_at is None,
        }
        if isinstance(self.stack, RealStack):
            assert self.stack.stores is not None
            lat = await self.stack.stores.latency(result.wall(t0), result.wall(t1))
            figures["stagesMs"] = await self.stack.stores.stages(result.wall(t0), result.wall(t1))
            figures["processorBatch"] = await self.stack.stores.batches(
                result.wall(t0), result.wall(t1)
            )
            # events the metrics engine put back because their job.created copy had not
            # been counted yet (each one a delayed publish and a second delivery), since
            # the stack started: a run that makes many does more work per job
            engines = [s.url for s in self.stack.services if s.name.startswith("metrics-engine")]
            figures["deferredEvents"] = await metric_total(
                [u for u in engines if u], "metrics_engine_events_deferred_total"
            )
            figures["latencyMs"] = {
                "count": lat.count,
                "p50": round(lat.p50_ms, 1),
                "p95": round(lat.p95_ms, 1),
                "p99": round(lat.p99_ms, 1),
                "max": round(lat.max_ms, 1),
            }
        figures.update(http_figures(result, t0, t1))
        figures.update(
            {"drainS": drained, "cpu": watch.cpu, "backendCpu": watch.backends, **watch.busy}
        )
        return figures

    async def verify(self) -> dict[str, Any]:
        """accepted == gateway metric == rows == COMPLETED rows == counters completed == total,
        once they settle (each consumer queue drains at its own pace)."""
        return await settle(self._counts)

    async def _counts(self) -> dict[str, int]:
        if isinstance(self.stack, RealStack):
            assert self.stack.stores is not None
            tally = await self.stack.stores.tally()
        else:
            assert self.stack.stores is not None
            tally = await asyncio.to_thread(self.stack.stores.tally)
        metric = await gateway_accepted_total(self.stack.gateway_urls)
        return {
            "accepted": self.accepted,
            "acceptedMetric": metric,
            "rows": tally.rows,
            "completedRows": tally.completed_rows,
            "counterCompleted": tally.redis_completed,
            "counterTotal": tally.redis_total,
        }


async def settle(
    counts: Callable[[], Awaitable[dict[str, int]]],
    *,
    pairs: tuple[tuple[str, str], ...] | None = None,
    within: float = 90.0,
    stall: float = 15.0,
) -> dict[str, Any]:
    """Read `counts` until they agree (all equal, or each of `pairs` equal); give up after
    `within` seconds, or `stall` seconds without any change. ok=False means lost or double
    counted jobs."""
    start = time.monotonic()
    last: dict[str, int] = {}
    changed = start
    while True:
        values = await counts()
        agree = (
            len(set(values.values())) == 1
            if pairs is None
            else all(values[a] == values[b] for a, b in pairs)
        )
        now = time.monotonic()
        if values != last:
            last, changed = values, now
        if agree or now - start > within or now - changed > stall:
            return {"ok": agree, "settledAfterS": round(now - start, 1), **values}
        await asyncio.sleep(0.5)


async def embedded(plan: Plan) -> dict[str, Any]:
    """`odto up` (embedded bus and SQLite stores) flat out."""
    stack = await EmbeddedStack.start(plan.log_dir, env=plan.service_env)
    try:
        session = OurSession(plan, stack)
        await session.probe()
        run = await session.run("embedded flat out", rate=None, window=plan.embedded)
        verified = await session.verify()
    finally:
        await stack.stop()
    return {
        "jobsPerS": run["jobsPerS"],
        "run": run,
        "verified": verified,
        "peakRssMb": stack.peak_rss_mb(),
    }


class CelerySession:
    """Runs on the Celery stack; counts what was published to check nothing was lost."""

    def __init__(self, plan: Plan, stack: CeleryStack) -> None:
        self.plan, self.stack = plan, stack
        self.published: dict[str, int] = {INSERT_TASK: 0, NOOP_TASK: 0}

    async def _results(self) -> int:
        return len(await self.stack.results_done())

    async def run(
        self, label: str, task: str, *, rate: float | None, window: float
    ) -> dict[str, Any]:
        plan, stack = self.plan, self.stack
        assert stack.worker is not None
        results_before = await self._results() if task == NOOP_TASK else 0
        watch = Window([stack.worker])
        watcher = asyncio.create_task(watch.watch(plan.warmup, window))
        result = await gated_run(
            stack, task, rate=rate, duration=plan.warmup + window, backlog_limit=plan.backlog
        )
        await watcher
        self.published[task] += result.accepted
        t0, t1 = _window(result, plan.warmup, window)
        w0, w1 = result.wall(t0), result.wall(t1)
        if task == INSERT_TASK:
            drained = await drain(stack.rows, self.published[INSERT_TASK])
            done = await stack.rows_between(w0, w1)
        else:
            target = results_before + result.accepted
            drained = await drain(self._results, target, stall=20)
            done = sum(1 for stamp in await stack.results_done() if w0 <= stamp < w1)
        figures = {
            "label": label,
            "mode": "open" if rate else "flat",
            "offeredPerS": rate,
            "windowS": window,
            "jobsPerS": round(done / window, 1),
            "keptUp": None
            if rate is None
            else done >= 0.97 * rate * window and drained >= 0 and result.aborted_at is None,
            **http_figures(result, t0, t1),
            "drainS": drained,
            "cpu": watch.cpu,
            "backendCpu": watch.backends,
            **watch.busy,
        }
        figures["publishedPerS"] = figures.pop("acceptedPerS")
        figures["publishP50Ms"] = figures.pop("httpP50Ms")
        figures["publishP99Ms"] = figures.pop("httpP99Ms")
        return figures

    async def verify(self) -> dict[str, Any]:
        """published == rows (insert task) and published == results (both tasks)."""
        return await settle(
            self._counts, pairs=(("publishedInsert", "rows"), ("publishedTotal", "results"))
        )

    async def _counts(self) -> dict[str, int]:
        return {
            "publishedInsert": self.published[INSERT_TASK],
            "rows": await self.stack.rows(),
            "publishedTotal": self.published[INSERT_TASK] + self.published[NOOP_TASK],
            "results": await self._results(),
        }


@dataclass(frozen=True)
class Variant:
    """A second stack of ours beside the e2e one, its headline runs interleaved with the
    e2e ones in the same invocation: what one setting or one kind of job costs."""

    scenario: str  # --scenarios name
    key: str  # its runs in the JSON line
    env: dict[str, str]
    body: loadgen.BodyMaker
    about: str
    before: bool  # the variant is the "before" of the e2e runs (else the e2e runs are)


VARIANTS = (
    Variant(
        "pending",
        "e2eNoPendingRows",
        {"GATEWAY_PENDING_ROWS": "false"},
        loadgen.job_body,
        "without PENDING rows (GATEWAY_PENDING_ROWS=false)",
        before=True,
    ),
    Variant(
        "jobmeta",
        "e2eWithMetadata",
        {},
        loadgen.meta_job_body,
        "with two metadata pairs a job (job_meta rows)",
        before=False,
    ),
    Variant(
        "bundles",
        "e2eEventBundles",
        {"ODTO_EVENT_BUNDLES": "true"},
        loadgen.job_body,
        "with event bundles (ODTO_EVENT_BUNDLES=true)",
        before=False,
    ),
)


async def start_variants(plan: Plan, chosen: set[str]) -> list[tuple[Variant, RealStack]]:
    """The variants chosen (each needs e2e), each on a stack of its own."""
    started: list[tuple[Variant, RealStack]] = []
    try:
        for variant in VARIANTS:
            if variant.scenario in chosen and "e2e" in chosen:
                stack = await RealStack.start(
                    plan.backends,
                    plan.log_dir,
                    kind=variant.scenario,
                    env={**plan.service_env, **variant.env},
                )
                started.append((variant, stack))
    except BaseException:
        for _, stack in started:
            await stack.stop()
        raise
    return started


async def start_both(
    plan: Plan, with_ours: bool, with_celery: bool
) -> tuple[RealStack | None, CeleryStack | None]:
    ours = celery = None
    try:
        if with_ours:
            ours = await RealStack.start(
                plan.backends, plan.log_dir, kind="e2e", env=plan.service_env
            )
        if with_celery:
            celery = CeleryStack(plan.backends, plan.log_dir)
            await celery.start()
    except BaseException:
        if ours:
            await ours.stop()
        if celery:
            await celery.stop()
        raise
    return ours, celery
