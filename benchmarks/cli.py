"""`python -m benchmarks` (`make bench`): see benchmarks/README.md.

Runs the selected scenarios in order, prints progress on stderr, then a table and one
JSON line on stdout. Everything it starts it stops by pid; every namespace it creates on
RabbitMQ, PostgreSQL and Redis it deletes.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import uvloop

from benchmarks import machine, options, readmodel, report, scenarios, screen, search, traced
from benchmarks.calibrate import calibrate
from benchmarks.celery_run import client_ceiling
from benchmarks.procs import ROOT
from benchmarks.scenarios import INSERT_TASK, NOOP_TASK, CelerySession, OurSession, Plan
from benchmarks.stacks import NAMESPACES
from observatory.__about__ import __version__

KEYS = (
    "benchmark",
    "version",
    "date",
    "mode",
    "command",
    "commit",
    "machine",
    "loadAvgEnd",
    "elapsedS",
    "generator",
    "celeryClientCeilingPerS",
    "gateway",
    "latencyRate",
    "latency",
    "e2eOpenLoop",
    "e2eFlatOut",
    "e2eJobsPerS",
    "e2eNoPendingRows",
    "e2eWithMetadata",
    "e2eEventBundles",
    "variants",
    "embedded",
    "celeryOpenLoop",
    "celeryInsert",
    "celeryInsertPerS",
    "celeryNoop",
    "celeryNoopPerS",
    "peakRssMb",
    "screen",
    "readModel",
    "search",
    "traced",
    "verified",
    "bars",
    "namespaces",
)


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def run_all(args: argparse.Namespace, plan: Plan, summary: dict[str, Any]) -> None:
    chosen = set(args.scenarios.split(","))
    if "calibrate" in chosen:
        log("calibrating: confirmed publishes, PostgreSQL inserts, Redis INCR")
        summary["calibration"] = {"start": await calibrate(plan.backends, plan.ceiling / 2)}
    if "ceiling" in chosen:
        log(f"generator ceiling ({plan.ceiling:g} s flat out against a do-nothing server)")
        summary["generator"] = await scenarios.ceiling(plan)
    if "gateway" in chosen:
        summary["gateway"] = []
        for processes in args.gateway_processes:
            for connections in args.gateway_connections:
                log(
                    f"gateway alone, {int(processes)} process(es), {int(connections)} "
                    f"connections, {plan.gateway:g} s flat out"
                )
                found = await scenarios.gateway(plan, int(processes), int(connections))
                summary["gateway"].append(found)
    if "embedded" in chosen:
        log(f"embedded profile (odto up), {plan.embedded:g} s flat out")
        summary["embedded"] = await scenarios.embedded(plan)
        summary["verified"]["embedded"] = summary["embedded"].pop("verified")
        summary["peakRssMb"]["embedded (odto up)"] = summary["embedded"]["peakRssMb"]["embedded"]
    ours_needed = bool(chosen & {"latency", "e2e"})
    if ours_needed or "celery" in chosen:
        log(
            "starting "
            + " and ".join(
                n
                for n, on in (
                    ("our four services", ours_needed),
                    ("the Celery worker", "celery" in chosen),
                )
                if on
            )
        )
    ours, celery = await scenarios.start_both(plan, ours_needed, "celery" in chosen)
    variants: list[tuple[scenarios.Variant, Any]] = []
    try:
        variants = await scenarios.start_variants(plan, chosen)
        await _on_stacks(plan, chosen, summary, ours, celery, variants)
    finally:
        for variant, stack in variants:
            summary["peakRssMb"].update(
                {f"{k} ({variant.scenario})": v for k, v in stack.peak_rss_mb().items()}
            )
            await stack.stop()
        if ours or celery:
            log("stopping and cleaning up")
        if ours:
            summary["peakRssMb"].update(ours.peak_rss_mb())
            await ours.stop()
        if celery:
            if celery.worker:
                summary["peakRssMb"]["celery worker (x2 prefork, total)"] = round(
                    celery.worker.peak_rss_kib / 1024, 1
                )
            await celery.stop()
    if "traced" in chosen:
        summary["traced"] = await traced.run(plan, log)
        summary["verified"]["traced"] = summary["traced"].pop("verified")
    await _own_stacks(plan, chosen, summary)


async def _own_stacks(plan: Plan, chosen: set[str], summary: dict[str, Any]) -> None:
    """The scenarios with a stack of their own, after the throughput runs (the read model's
    data set is large: its load and clean-up should not overlap a throughput window)."""
    env = plan.service_env
    if "screen" in chosen and plan.screen:
        log("screen: event -> visible on the dashboard and in the TUI")
        summary["screen"] = await screen.run(plan.screen, plan.backends, plan.log_dir, env, log)
    if "readmodel" in chosen and plan.readmodel:
        then = search.searches_on if plan.readmodel.with_searches else None
        summary["readModel"] = await readmodel.run(
            plan.readmodel, plan.backends, plan.log_dir, env, log, then
        )
    if "search" in chosen and plan.readmodel:
        summary["search"] = await search.run(plan.readmodel, plan.backends, plan.log_dir, env, log)


async def _steps(
    rates: tuple[float, ...], who: str, run: Callable[[float], Awaitable[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Open-loop steps in rising order; once one is not sustained, the higher ones are skipped."""
    runs: list[dict[str, Any]] = []
    for rate in sorted(rates):
        if runs and not runs[-1]["keptUp"]:
            log(f"{who}: skipping {rate:g}/s ({runs[-1]['label']} was not sustained)")
            continue
        log(f"{who}: open loop at {rate:g}/s")
        runs.append(await run(rate))
    return runs


async def _on_stacks(
    plan: Plan,
    chosen: set[str],
    summary: dict[str, Any],
    ours: Any,
    celery: Any,
    variants: list[tuple[scenarios.Variant, Any]],
) -> None:
    mine = OurSession(plan, ours) if ours else None
    base = CelerySession(plan, celery) if celery else None
    others = [(v, OurSession(plan, stack, v.body)) for v, stack in variants]
    if mine:
        await mine.probe()
    for _, session in others:
        await session.probe()
    if mine and "latency" in chosen:
        log(f"latency: open loop at {plan.latency_rate:g} jobs/s for {plan.latency:g} s")
        summary["latency"] = await mine.run("latency", rate=plan.latency_rate, window=plan.latency)
    if mine and "e2e" in chosen:
        summary["e2eOpenLoop"] = await _steps(
            plan.rates,
            "ours",
            lambda rate: mine.run(f"open {rate:g}/s", rate=rate, window=plan.step),
        )
    if base:
        log("Celery client ceiling")
        summary["celeryClientCeilingPerS"] = await client_ceiling(celery, plan.ceiling)
        summary["celeryOpenLoop"] = await _steps(
            plan.celery_rates,
            "Celery insert",
            lambda rate: base.run(
                f"insert open {rate:g}/s", INSERT_TASK, rate=rate, window=plan.step
            ),
        )
    summary["e2eFlatOut"], summary["celeryInsert"] = [], []
    for variant, _ in others:
        summary[variant.key] = []
    for index in range(plan.repeat):
        # the order turns each round, so a machine getting busier (or quieter) during the
        # invocation does not always fall on the same stack
        stacks: list[tuple[scenarios.Variant, OurSession] | None] = [None, *others]
        turn = index % len(stacks)
        order = stacks[turn:] + stacks[:turn]
        for item in order:
            if item is None:
                if mine and "e2e" in chosen:
                    log(f"ours: flat out {plan.headline:g} s (headline {index + 1}/{plan.repeat})")
                    summary["e2eFlatOut"].append(
                        await mine.run(f"flat out #{index + 1}", rate=None, window=plan.headline)
                    )
                continue
            variant, session = item
            log(f"ours {variant.about}: flat out {plan.headline:g} s ({index + 1}/{plan.repeat})")
            summary[variant.key].append(
                await session.run(
                    f"{variant.scenario} flat #{index + 1}", rate=None, window=plan.headline
                )
            )
        if base:
            log(f"Celery insert: flat out {plan.headline:g} s ({index + 1}/{plan.repeat})")
            summary["celeryInsert"].append(
                await base.run(
                    f"insert flat #{index + 1}", INSERT_TASK, rate=None, window=plan.headline
                )
            )
    if base:
        log(f"Celery no-op: flat out {plan.noop:g} s")
        summary["celeryNoop"] = await base.run("no-op flat", NOOP_TASK, rate=None, window=plan.noop)
        summary["celeryNoopPerS"] = summary["celeryNoop"]["jobsPerS"]
        summary["verified"]["celery"] = await base.verify()
    summary["e2eJobsPerS"] = report.median([r["jobsPerS"] for r in summary["e2eFlatOut"]])
    summary["celeryInsertPerS"] = report.median([r["jobsPerS"] for r in summary["celeryInsert"]])
    if mine:
        summary["verified"]["e2e"] = await mine.verify()
    summary["variants"] = {}
    for variant, session in others:
        summary["verified"][variant.key] = await session.verify()
        summary["variants"][variant.key] = report.variant_cost(
            summary["e2eJobsPerS"],
            [r["jobsPerS"] for r in summary[variant.key]],
            about=variant.about,
            before=variant.before,
        )


async def amain(args: argparse.Namespace) -> dict[str, Any]:
    plan = options.make_plan(args)
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    summary: dict[str, Any] = dict.fromkeys(KEYS)
    summary.update(
        {
            "benchmark": "task-observatory",
            "version": __version__,
            "mode": plan.mode,
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "command": "python -m benchmarks " + " ".join(sys.argv[1:])
            if args.argv is None
            else "",
            "machine": machine.describe(),
            "commit": machine.git_commit(ROOT),
            "latencyRate": plan.latency_rate,
            "peakRssMb": {},
            "verified": {},
        }
    )
    log(
        f"mode {plan.mode}; service logs in {plan.log_dir}; "
        f"load average {summary['machine']['loadAvg1m']}"
    )
    started = time.monotonic()
    await run_all(args, plan, summary)
    if "calibrate" in args.scenarios.split(","):
        summary["calibration"]["end"] = await calibrate(plan.backends, plan.ceiling / 2)
    summary["elapsedS"] = round(time.monotonic() - started, 1)
    summary["loadAvgEnd"] = round(os.getloadavg()[0], 2)
    summary["bars"] = report.bars(summary)
    summary["namespaces"] = list(NAMESPACES)
    return summary


def finite(value: Any) -> Any:
    """NaN and infinities become null, so the JSON line is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def main(argv: list[str] | None = None) -> int:
    args = options.parse(argv, __doc__ or "")
    args.argv = argv
    try:
        summary = uvloop.run(amain(args))
    except (KeyboardInterrupt, asyncio.CancelledError):
        log("interrupted; everything started was stopped")
        return 130
    summary = finite(summary)
    if not args.json_only:
        print(report.render(summary), flush=True)
    print(json.dumps(summary, separators=(",", ":"), default=str, allow_nan=False), flush=True)
    with contextlib.suppress(Exception):
        checks = [c.get("ok") for c in summary["verified"].values() if c]
        if not all(checks):
            return 1
    return 0
