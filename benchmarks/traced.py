"""What tracing costs: our pipeline on the real backends, flat out, untraced and traced
at 100 % and 1 % sampling, each on a fresh stack, the three alternated in the same
invocation (`--repeat` rounds, the order turning each round), so the machine's weather
is shared.

Traced runs export with the file exporter (ODTO_TRACE_FILE, OTLP JSON lines in the log
directory, deleted after each run): every sampled span is encoded and written, as an
exporter to a collector would encode and send it. The sampler is the SDK's
`parentbased_traceidratio` (OTEL_TRACES_SAMPLER[_ARG]): the gateway decides per job, and
every later hop follows its decision. Each run's window starts right after a PostgreSQL
CHECKPOINT (stores.checkpoint): every run at the same point of PostgreSQL's checkpoint
cycle.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from typing import Any

from benchmarks.report import median
from benchmarks.scenarios import OurSession, Plan
from benchmarks.stacks import RealStack
from benchmarks.stores import checkpoint

SAMPLINGS: tuple[tuple[str, str | None], ...] = (
    ("untraced", None),
    ("traced 100 %", "1.0"),
    ("traced 1 %", "0.01"),
)
EXPORTER = "file (ODTO_TRACE_FILE: OTLP JSON lines)"


def rotated(ways: tuple[tuple[str, str | None], ...], index: int) -> list[tuple[str, str | None]]:
    """The three ways in round `index`'s order: each round starts with the next one, so
    none always runs first on a fresh machine or last after the others' load."""
    shift = index % len(ways)
    return [*ways[shift:], *ways[:shift]]


def _env(plan: Plan, ratio: str | None, index: int) -> tuple[dict[str, str], Any]:
    env = dict(plan.service_env)
    if ratio is None:
        return env, None
    trace_file = plan.log_dir / f"traces-{ratio}-{index}.jsonl"
    env.update(
        {
            "ODTO_TRACE_FILE": str(trace_file),
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": ratio,
        }
    )
    return env, trace_file


async def run(plan: Plan, log: Callable[[str], None]) -> dict[str, Any]:
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in SAMPLINGS}
    at_rate: dict[str, list[dict[str, Any]]] = {label: [] for label, _ in SAMPLINGS}
    verified = True
    for index in range(plan.repeat):
        for label, ratio in rotated(SAMPLINGS, index):
            env, trace_file = _env(plan, ratio, index)
            log(f"tracing cost: {label}, flat out {plan.headline:g} s ({index + 1}/{plan.repeat})")
            stack = await RealStack.start(plan.backends, plan.log_dir, kind="trace", env=env)
            try:
                session = OurSession(plan, stack)
                await session.probe()
                checkpointed = await checkpoint(plan.backends.postgres)
                figures = await session.run(
                    f"{label} #{index + 1}", rate=None, window=plan.headline
                )
                if plan.traced_rate:
                    at_rate[label].append(
                        await session.run(
                            f"{label} #{index + 1} at {plan.traced_rate:g}/s",
                            rate=plan.traced_rate,
                            window=plan.headline,
                        )
                    )
                check = await session.verify()
            finally:
                await stack.stop()
            verified = verified and bool(check["ok"])
            figures["verified"] = check["ok"]
            figures["checkpointed"] = checkpointed
            if trace_file is not None:
                figures["traceFileMb"] = (
                    round(trace_file.stat().st_size / 2**20, 1) if trace_file.exists() else 0.0
                )
                trace_file.unlink(missing_ok=True)
            runs[label].append(figures)
    per_s = {label: median([r["jobsPerS"] for r in found]) for label, found in runs.items()}
    cpu = {label: median([cpu_ms_per_job(r) for r in found], 3) for label, found in runs.items()}
    found = {
        "exporter": EXPORTER,
        "sampler": "parentbased_traceidratio",
        "jobsPerS": per_s,
        "lossPct": _against_untraced(per_s, lambda traced, base: 1 - traced / base),
        "rounds": round_losses(runs),
        "cpuMsPerJob": cpu,
        "cpuCostPct": _against_untraced(cpu, lambda traced, base: traced / base - 1),
        "runs": runs,
        "verified": {"ok": verified},
    }
    if plan.traced_rate:
        # at a rate every way keeps up with, the batches are alike: CPU per job compares
        # the ways' own work, without flat out's queues and batch sizes moving with it
        rated = {k: median([cpu_ms_per_job(r) for r in v], 3) for k, v in at_rate.items()}
        found["atRate"] = {
            "offeredPerS": plan.traced_rate,
            "cpuMsPerJob": rated,
            "cpuCostPct": _against_untraced(rated, lambda traced, base: traced / base - 1),
            "runs": at_rate,
        }
    return found


def cpu_ms_per_job(run: dict[str, Any]) -> float | None:
    """CPU of our services and the backends over the window, per job completed in it (ms):
    what tracing adds per job, with less of the machine's weather than throughput."""
    used = sum(run.get("cpu", {}).values()) + sum(run.get("backendCpu", {}).values())
    jobs = run.get("jobsPerS")
    return round(1000 * used / jobs, 3) if jobs else None


def _against_untraced(
    figures: dict[str, float | None], change: Callable[[float, float], float]
) -> dict[str, float | None]:
    base = figures["untraced"]
    return {
        label: None if not base or value is None else round(100 * change(value, base), 1)
        for label, value in figures.items()
        if label != "untraced"
    }


def round_losses(runs: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Each round's own loss (its traced run against its untraced one, the pairs sharing
    the round's weather): the losses, their mean with its standard error, their median."""
    out: dict[str, dict[str, Any]] = {}
    for label, found in runs.items():
        if label == "untraced":
            continue
        pairs = zip(runs["untraced"], found, strict=False)
        losses = [
            round(100 * (1 - t["jobsPerS"] / u["jobsPerS"]), 1)
            for u, t in pairs
            if u.get("jobsPerS") and t.get("jobsPerS") is not None
        ]
        spread = statistics.stdev(losses) / math.sqrt(len(losses)) if len(losses) > 1 else None
        out[label] = {
            "losses": losses,
            "mean": round(statistics.fmean(losses), 1) if losses else None,
            "standardError": None if spread is None else round(spread, 1),
            "median": median(losses),
        }
    return out
