"""Turning the figures into PASS/MISS rows against PERFORMANCE.md, a table and a JSON line."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

MB_FIRST, MB_GOAL, UP_GOAL_MB = 250.0, 120.0, 100.0
RM_JOBS, RM_FIRST_MS, RM_GOAL_MS = 1_000_000, 50.0, 10.0
RM_SCALE_JOBS, RM_SCALE_MS = 10_000_000, 50.0  # the scale run's goal, every route
SCREEN_FIRST_MS, SCREEN_GOAL_MS = 2000.0, 100.0
LATENCY_FIRST = (200.0, 500.0)  # (at least this rate, p99 at most this many ms)
LATENCY_GOAL = (500.0, 50.0)
PENDING_FIRST_PCT, PENDING_GOAL_PCT = 10.0, 3.0


def median(values: Sequence[float | None], digits: int = 1) -> float | None:
    """The median of the values that are numbers, rounded to `digits`; None if none are."""
    clean = [v for v in values if v is not None and not math.isnan(v)]
    return round(statistics.median(clean), digits) if clean else None


def variant_cost(
    e2e: float | None, runs: list[float], *, about: str, before: bool
) -> dict[str, Any]:
    """A variant's median against the e2e median of the same invocation, and what the
    difference costs in % of the "before" figure (the variant's when `before`, else
    e2e's): positive = the change made the pipeline slower."""
    theirs = median(runs)
    cost = None
    if e2e and theirs:
        old, new = (theirs, e2e) if before else (e2e, theirs)
        cost = round(100 * (old - new) / old, 1)
    return {"about": about, "jobsPerS": theirs, "runs": runs, "e2eJobsPerS": e2e, "costPct": cost}


def _verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def _best_gateway(summary: dict[str, Any], processes: int) -> float | None:
    """The highest accepted rate of the gateway runs with `processes` processes (one run
    per connection count), or None."""
    found = [g["jobsPerS"] for g in summary.get("gateway") or [] if g["processes"] == processes]
    return max(found) if found else None


def _gateway_measured(summary: dict[str, Any], one: float | None, two: float | None) -> Any:
    """`one / two`, naming the connection counts tried when there were several."""
    if one is None:
        return None
    text: Any = one if two is None else f"{one} / {two}"
    tried = sorted({g["connections"] for g in summary["gateway"] if g.get("connections")})
    if len(tried) > 1:
        text = f"{text} (best of {', '.join(str(c) for c in tried)} connections)"
    return text


def bars(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per PERFORMANCE.md target this benchmark measures."""
    rows: list[dict[str, Any]] = []

    e2e, celery = summary.get("e2eJobsPerS"), summary.get("celeryInsertPerS")
    verified = (summary.get("verified") or {}).get("e2e") or {}
    lost_ok = verified.get("ok") if verified else None
    first = goal = None
    if e2e is not None and celery is not None:
        first = e2e > 0 and e2e >= celery and lost_ok is not False
        goal = e2e > 0 and e2e >= 2 * celery and lost_ok is not False
    rows.append(
        {
            "figure": "End-to-end throughput, real backends (jobs/s, flat out, nothing lost)",
            "measured": e2e,
            "firstBar": f">= Celery insert ({celery})"
            if celery is not None
            else ">= Celery (not run)",
            "goal": f">= 2x Celery ({round(2 * celery, 1)})"
            if celery is not None
            else ">= 2x Celery",
            "first": _verdict(first),
            "goalMet": _verdict(goal),
        }
    )

    one, two = _best_gateway(summary, 1), _best_gateway(summary, 2)
    rows.append(
        {
            "figure": "Gateway accepted jobs/s (1 process / 2 processes)",
            "measured": _gateway_measured(summary, one, two),
            "firstBar": ">= 2500 (1 process)",
            "goal": ">= 3000 (1 process), >= 5000 (2)",
            "first": _verdict(None if one is None else one >= 2500),
            "goalMet": _verdict(
                None if one is None or two is None else one >= 3000 and two >= 5000
            ),
        }
    )

    rows.append(_latency_bar(summary))

    embedded = (summary.get("embedded") or {}).get("jobsPerS")
    up_mb = (summary.get("peakRssMb") or {}).get("embedded (odto up)")
    emb_ok = ((summary.get("verified") or {}).get("embedded") or {}).get("ok")
    rows.append(
        {
            "figure": "End-to-end throughput, embedded profile (jobs/s; odto up peak RSS MB)",
            "measured": embedded if up_mb is None else f"{embedded} ({up_mb} MB)",
            "firstBar": ">= 300",
            "goal": f">= 1000, <= {UP_GOAL_MB:g} MB",
            "first": _verdict(
                None if embedded is None else embedded >= 300 and emb_ok is not False
            ),
            "goalMet": _verdict(
                None
                if embedded is None
                else embedded >= 1000
                and emb_ok is not False
                and (up_mb is None or up_mb <= UP_GOAL_MB)
            ),
        }
    )

    rss = summary.get("peakRssMb") or {}
    services = {
        k: v
        for k, v in rss.items()
        if k in ("gateway", "processor", "metrics-engine", "read-model")
    }
    worst = max(services.values()) if services else None
    rows.append(
        {
            "figure": "Peak resident memory per service, throughput run (MB, worst service)",
            "measured": worst,
            "firstBar": f"<= {MB_FIRST:.0f}",
            "goal": f"<= {MB_GOAL:.0f}",
            "first": _verdict(None if worst is None else worst <= MB_FIRST),
            "goalMet": _verdict(None if worst is None else worst <= MB_GOAL),
        }
    )
    rows.append(_pending_bar(summary))
    rows.append(_tracing_bar(summary.get("traced"), summary.get("verified") or {}))
    rows.append(_read_model_bar(summary.get("readModel")))
    rows.append(_search_bar(summary.get("search")))
    rows.append(_screen_bar(summary.get("screen")))
    return rows


def _latency_bar(summary: dict[str, Any]) -> dict[str, Any]:
    """Submit -> COMPLETED: the first bar holds at >= 200 jobs/s, the goal at >= 500
    (a run at a lower rate says nothing about the goal: n/a)."""
    lat = (summary.get("latency") or {}).get("latencyMs")
    rate = float(summary.get("latencyRate") or 0)

    def met(bar: tuple[float, float]) -> bool | None:
        at_least, p99 = bar
        return None if not lat or rate < at_least else lat["p99"] <= p99

    return {
        "figure": f"Submit -> COMPLETED latency at {rate:g} jobs/s (p50/p95/p99 ms)",
        "measured": None if not lat else f"{lat['p50']} / {lat['p95']} / {lat['p99']}",
        "firstBar": f"p99 <= {LATENCY_FIRST[1]:g} ms at {LATENCY_FIRST[0]:g}/s",
        "goal": f"p99 <= {LATENCY_GOAL[1]:g} ms at {LATENCY_GOAL[0]:g}/s",
        "first": _verdict(met(LATENCY_FIRST)),
        "goalMet": _verdict(met(LATENCY_GOAL)),
    }


def _pending_bar(summary: dict[str, Any]) -> dict[str, Any]:
    """e2e flat out with PENDING rows against without them, same invocation (medians)."""
    figure = "Cost of PENDING rows written at acceptance (e2e flat out, medians)"
    cost = ((summary.get("variants") or {}).get("e2eNoPendingRows") or {}).get("costPct")
    if cost is None:
        return _not_run(figure)
    return {
        "figure": figure,
        "measured": f"{cost} %",
        "firstBar": f"<= {PENDING_FIRST_PCT:g} %",
        "goal": f"<= {PENDING_GOAL_PCT:g} %",
        "first": _verdict(cost <= PENDING_FIRST_PCT),
        "goalMet": _verdict(cost <= PENDING_GOAL_PCT),
    }


def _tracing_bar(tr: dict[str, Any] | None, verified: dict[str, Any]) -> dict[str, Any]:
    """Throughput lost to tracing, against the untraced runs of the same invocation."""
    figure = "Tracing cost, e2e flat out (throughput loss at 100 % / 1 % sampling)"
    if not tr:
        return _not_run(figure)
    full, one = tr["lossPct"].get("traced 100 %"), tr["lossPct"].get("traced 1 %")
    ok = (verified.get("traced") or {}).get("ok") is not False
    rounds, cpu = tr.get("rounds") or {}, tr.get("cpuCostPct") or {}
    paired = [
        f"{label[len('traced ') :]}: round mean {_fmt(r['mean'])} ± {_fmt(r['standardError'])} %,"
        f" CPU/job {_signed(cpu.get(label))} %"
        for label, r in rounds.items()
    ]
    return {
        "figure": figure,
        "measured": f"{_fmt(full)} % / {_fmt(one)} %"
        + (f" ({'; '.join(paired)})" if paired else "")
        + ("" if ok else ", JOBS LOST"),
        "firstBar": "<= 15 % at 100 %",
        "goal": "<= 15 % at 100 %, <= 3 % at 1 %",
        "first": _verdict(None if full is None else ok and full <= 15),
        "goalMet": _verdict(
            None if full is None or one is None else ok and full <= 15 and one <= 3
        ),
    }


def _read_model_bar(rm: dict[str, Any] | None) -> dict[str, Any]:
    """Worst route's p99 (every answer 200 with the expected content, else MISS)."""
    return _p99_bar("Read model", rm)


def _search_bar(se: dict[str, Any] | None) -> dict[str, Any]:
    """Worst search's open-loop p99 (every answer 200 with the expected content)."""
    return _p99_bar("Job search", se)


def _p99_bar(name: str, run: dict[str, Any] | None) -> dict[str, Any]:
    """The bar of a scenario at 1,000,000 jobs judged by its worst p99 and its answers; at
    10,000,000 (the scale run) by the scale goal, the searches on the same data included."""
    figure = f"{name} at 1,000,000 jobs (p99)"
    if not run:
        return _not_run(figure)
    worst, ok, where = run.get("worstP99Ms"), run.get("answersOk"), run.get("worstRoute")
    first, goal = RM_FIRST_MS, RM_GOAL_MS
    searched = run.get("searches")
    if searched and worst is not None and searched["worstP99Ms"] > worst:
        worst, where = searched["worstP99Ms"], f"search {searched['worstRoute']}"
    if searched:
        ok = ok and searched["answersOk"]
    if run["jobs"] == RM_SCALE_JOBS:
        figure, first = f"{name} at {run['jobs']:,} jobs, scale run (p99)", RM_SCALE_MS
        goal = RM_SCALE_MS
    elif run["jobs"] != RM_JOBS:
        figure = f"{name} at {run['jobs']:,} jobs (p99; target: at 1,000,000)"
    return {
        "figure": figure,
        "measured": f"{worst} ms ({where})" + ("" if ok else ", BAD ANSWERS"),
        "firstBar": f"p99 <= {first:g} ms",
        "goal": f"p99 <= {goal:g} ms",
        "first": _verdict(None if worst is None else bool(ok) and worst <= first),
        "goalMet": _verdict(None if worst is None else bool(ok) and worst <= goal),
    }


def _screen_bar(sc: dict[str, Any] | None) -> dict[str, Any]:
    """Worst screen's p99 of completed -> visible (every job seen on every screen)."""
    figure = "Event -> visible on dashboard/TUI"
    if not sc:
        return _not_run(figure)
    parts = []
    for name in ("dashboard", "tui"):
        m = sc.get(name) or {}
        if "skipped" in m:
            parts.append(f"{name} not measured")
        elif m:
            parts.append(f"{name} p50/p99 {m['p50Ms']}/{m['p99Ms']} ms")
    worst, ok = sc.get("worstP99Ms"), bool(sc.get("allSeen"))
    watched = any("seen" in (sc.get(name) or {}) for name in ("dashboard", "tui"))

    def within(bar: float) -> bool | None:
        return None if not watched else ok and worst is not None and worst <= bar

    return {
        "figure": figure,
        "measured": "; ".join(parts) + ("" if ok else "; NOT ALL SEEN"),
        "firstBar": f"<= {SCREEN_FIRST_MS:g} ms",
        "goal": f"<= {SCREEN_GOAL_MS:g} ms",
        "first": _verdict(within(SCREEN_FIRST_MS)),
        "goalMet": _verdict(within(SCREEN_GOAL_MS)),
    }


def _not_run(figure: str) -> dict[str, Any]:
    return {
        "figure": figure,
        "measured": None,
        "firstBar": "-",
        "goal": "-",
        "first": "n/a",
        "goalMet": "-",
    }


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}"


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.1f}"
    return str(value)


def table(rows: list[list[Any]], header: list[str]) -> str:
    cells = [[_fmt(c) for c in row] for row in [header, *rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _cpu(run: dict[str, Any]) -> str:
    """Cores used over the window: our processes | backends, everything else."""
    ours = ", ".join(f"{k} {v:.2f}" for k, v in (run.get("cpu") or {}).items())
    rest = [f"{k} {v:.2f}" for k, v in (run.get("backendCpu") or {}).items()]
    if run.get("otherCores") is not None:
        rest.append(f"other {run['otherCores']:.2f}")
    return ours + (" | " + ", ".join(rest) if rest else "")


def _kept(run: dict[str, Any]) -> str:
    if not run.get("offeredPerS"):
        return ""
    if run.get("keptUp"):
        return "yes"
    stopped = run.get("stoppedAfterS")
    return "no" if stopped is None else f"no (stopped after {stopped:g} s)"


def _stages(stages: dict[str, list[float]] | None) -> str:
    """accepted -> attempt started | started -> completed, p50/p99 ms."""
    if not stages or not all(stages.values()):
        return ""
    return " | ".join("/".join(f"{v:g}" for v in stages[k]) for k in ("waited", "ran"))


def run_rows(runs: list[dict[str, Any]], system: str) -> list[list[Any]]:
    rows = []
    for run in runs:
        lat = run.get("latencyMs") or {}
        cpu = _cpu(run)
        rows.append(
            [
                system,
                run["label"],
                run.get("offeredPerS") or "flat out",
                run["windowS"],
                run["jobsPerS"],
                _kept(run),
                f"{lat.get('p50')}/{lat.get('p99')}" if lat else "",
                _stages(run.get("stagesMs")),
                run.get("acceptedPerS", run.get("publishedPerS")),
                run.get("drainS"),
                run.get("machineBusyCores"),
                run.get("generatorCores"),
                cpu,
            ]
        )
    return rows


RUN_HEADER = [
    "system",
    "run",
    "offered/s",
    "window s",
    "completed/s",
    "kept up",
    "e2e p50/p99 ms",
    "to start | start to done p50/p99",
    "accepted/s",
    "drain s",
    "busy cores",
    "gen cores",
    "CPU cores: ours | backends, other",
]


def render(summary: dict[str, Any]) -> str:
    out = []
    m = summary["machine"]
    out.append(
        f"Task Observatory benchmark {summary['version']} - {summary['date']}"
        f" - mode {summary['mode']} - commit {summary.get('commit')}\n"
        f"Machine: {m['cpus']} CPUs ({m['cpuModel']}), {m['memGiB']} GiB, Python {m['python']}; "
        f"load average at start {m['loadAvg1m']}, at end {summary.get('loadAvgEnd')}.\n"
        f"NOTE: only {m['cpus']} cores, shared by the services, RabbitMQ, PostgreSQL, Redis, the"
        " load generator and anything else running on this machine; absolute figures move between"
        " runs, compare "
        "within this invocation."
    )
    for when, figures in (summary.get("calibration") or {}).items():
        parts = [
            f"{k.removesuffix('PerS')} {v['measured']:,}/{v['reference']:,} ({v['ratio']}x)"
            for k, v in figures.items()
        ]
        out.append(
            f"Calibration at {when} (measured/s vs PERFORMANCE.md reference/s): " + "; ".join(parts)
        )
    gen = summary.get("generator")
    if gen:
        out.append(
            f"Load generator ceiling (flat out vs a do-nothing server): {gen['requestsPerS']:,.0f} "
            f"req/s using {gen['generatorCores']} cores; Celery client ceiling (apply_async with "
            f"confirms): {_fmt(summary.get('celeryClientCeilingPerS'))} tasks/s"
        )
    runs = run_rows(summary.get("e2eOpenLoop") or [], "ours")
    runs += run_rows([summary["latency"]] if summary.get("latency") else [], "ours")
    runs += run_rows(summary.get("e2eFlatOut") or [], "ours")
    for key in ("e2eNoPendingRows", "e2eWithMetadata", "e2eEventBundles"):
        runs += run_rows(summary.get(key) or [], "ours")
    runs += run_rows([summary["embedded"]["run"]] if summary.get("embedded") else [], "embedded")
    for found in ((summary.get("traced") or {}).get("runs") or {}).values():
        runs += run_rows(found, "ours")
    runs += run_rows(summary.get("celeryOpenLoop") or [], "celery")
    runs += run_rows(summary.get("celeryInsert") or [], "celery")
    runs += run_rows([summary["celeryNoop"]] if summary.get("celeryNoop") else [], "celery")
    if runs:
        out.append(table(runs, RUN_HEADER))
    if summary.get("gateway"):
        out.append(
            table(
                [
                    [
                        g["processes"],
                        g.get("connections"),
                        g["jobsPerS"],
                        f"{g['httpP50Ms']}/{g['httpP99Ms']}",
                        g["verified"],
                        g.get("machineBusyCores"),
                        g.get("generatorCores"),
                        _cpu(g),
                    ]
                    for g in summary["gateway"]
                ],
                [
                    "gateway processes",
                    "connections",
                    "accepted/s",
                    "HTTP p50/p99 ms",
                    "queued == accepted",
                    "busy cores",
                    "gen cores",
                    "CPU cores: ours | backends, other",
                ],
            )
        )
    out += screen_lines(summary.get("screen"))
    out += read_model_lines(summary.get("readModel"))
    out += search_lines(summary.get("search"))
    celery = summary.get("celeryInsertPerS")
    for v in (summary.get("variants") or {}).values():
        against = (
            f" ({v['jobsPerS'] / celery:.2f}x Celery insert)" if celery and v["jobsPerS"] else ""
        )
        out.append(
            f"Same invocation, ours {v['about']}: {_fmt(v['jobsPerS'])} jobs/s (runs {v['runs']})"
            f"{against} vs e2e {_fmt(v['e2eJobsPerS'])}: cost {_fmt(v['costPct'])} %"
        )
    if summary.get("peakRssMb"):
        out.append(
            "Peak RSS (MB): " + ", ".join(f"{k} {v}" for k, v in summary["peakRssMb"].items())
        )
    for name, check in (summary.get("verified") or {}).items():
        if check:
            counts = ", ".join(
                f"{k} {v}" for k, v in check.items() if k not in ("ok", "settledAfterS")
            )
            out.append(f"Totals check {name}: {'OK' if check['ok'] else 'MISMATCH'} ({counts})")
    out.append(
        table(
            [
                [b["figure"], b["measured"], b["firstBar"], b["first"], b["goal"], b["goalMet"]]
                for b in summary["bars"]
            ],
            ["PERFORMANCE.md target", "measured", "first bar", "", "goal", ""],
        )
    )
    return "\n\n".join(out)


def _all_visible(loaded: dict[str, Any]) -> str:
    """The share of each loaded table's pages the load's VACUUM left all-visible."""
    shares = loaded.get("allVisiblePct") or {}
    listed = ", ".join(f"{name} {pct:g}" for name, pct in sorted(shares.items()))
    return f"pages all-visible (%): {listed or 'not reported'}"


def read_model_lines(rm: dict[str, Any] | None) -> list[str]:
    if not rm:
        return []
    steps = ", ".join(f"{k} {v:g}" for k, v in rm["loadStepsS"].items())
    head = (
        f"Read model at {rm['jobs']:,} jobs / {rm['events']:,} events / {rm['attempts']:,}"
        f" attempts ({', '.join(f'{k} {v:,}' for k, v in rm['statuses'].items())}):"
        f" loaded in {rm['loadS']:g} s ({steps}); cursor pages down to row"
        f" {rm['cursorPages']['deepestRow']:,}; answers all 200 and as expected:"
        f" {rm['answersOk']}; tables and indexes {rm.get('diskMb', 0):,} MB;"
        f" {_all_visible(rm)}"
    )
    rows = [
        [
            r["route"],
            r["offeredPerS"],
            r["windowS"],
            f"{r['ok']}/{r['sent']}",
            _latencies(r),
            ", ".join(f"{k} {v}" for k, v in r["errors"].items()) or "-",
            r.get("machineBusyCores"),
            _cpu(r),
        ]
        for r in rm["routes"]
    ]
    header = [
        "GET",
        "offered/s",
        "window s",
        "ok/sent",
        "p50 / p95 / p99 / max ms",
        "errors",
        "busy cores",
        "CPU cores: read model | backends, other",
    ]
    out = [head + "\n" + table(rows, header)]
    se = rm.get("searches")
    if se:
        found = [[r["route"], f"{r['ok']}/{r['sent']}", _latencies(r)] for r in se["routes"]]
        out.append(
            f"Searches on the same data set: answers all 200 and as expected: {se['answersOk']}"
            "\n" + table(found, ["GET /jobs?", "ok/sent", "p50 / p95 / p99 / max ms"])
        )
    return out


def _latencies(r: dict[str, Any]) -> str:
    return f"{r['p50Ms']} / {r['p95Ms']} / {r['p99Ms']} / {r['maxMs']}"


def search_lines(se: dict[str, Any] | None) -> list[str]:
    """Open loop with the search indexes; closed loop with and without them."""
    if not se:
        return []
    head = (
        f"Job search at {se['jobs']:,} jobs: loaded in {se['loadS']:g} s; answers all 200 and"
        f" as expected: {se['answersOk']}; baseline drops {', '.join(se['droppedForBaseline'])};"
        f" {_all_visible(se)}"
    )
    closed = {r["route"]: r for r in se["closedWithIndexes"]}
    without = {r["route"]: r for r in se["closedWithoutIndexes"]}
    rows = [
        [
            r["route"],
            f"{r['ok']}/{r['sent']}",
            _latencies(r),
            f"{closed[r['route']]['p50Ms']} / {closed[r['route']]['p99Ms']}",
            f"{without[r['route']]['p50Ms']} / {without[r['route']]['p99Ms']}"
            f" ({without[r['route']]['requests']} req)",
        ]
        for r in se["routes"]
    ]
    header = [
        "GET /jobs?",
        "ok/sent",
        f"open loop {se['routes'][0]['offeredPerS'] if se['routes'] else ''}/s p50/p95/p99/max ms",
        "closed, indexed p50/p99",
        "closed, baseline p50/p99",
    ]
    return [head + "\n" + table(rows, header)]


def screen_lines(sc: dict[str, Any] | None) -> list[str]:
    if not sc:
        return []
    rows = []
    for name in ("dashboard", "tui", "stream"):
        m = sc.get(name) or {}
        if "skipped" in m:
            rows.append([name, "-", "-", f"not measured: {m['skipped']}", "-"])
        elif m:
            where = ", ".join(f"{k} {v}" for k, v in m["firstShownIn"].items())
            rows.append(
                [
                    name,
                    f"{m['seen']}/{m['jobs']}",
                    f"{m['p50Ms']} / {m['p95Ms']} / {m['p99Ms']}",
                    f"{m['minMs']} / {m['maxMs']}",
                    where,
                ]
            )
    head = (
        f"Event -> screen: {sc['jobs']} jobs, one every {sc['intervalS']:g} s; job.completed"
        " occurredAt (= completed_at) -> first shown as COMPLETED; one machine clock, ms"
    )
    header = ["screen", "seen", "p50 / p95 / p99 ms", "min / max ms", "first shown in"]
    return [head + "\n" + table(rows, header)]
