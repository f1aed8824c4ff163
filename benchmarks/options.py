"""Command-line options of `python -m benchmarks` and the Plan they make (windows, rates
and sizes per mode: full, --quick, --smoke)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from benchmarks.readmodel import ReadModelPlan
from benchmarks.scenarios import Plan
from benchmarks.screen import ScreenPlan
from benchmarks.stores import Backends, add_backend_options

SCENARIOS = (
    "calibrate",
    "ceiling",
    "gateway",
    "embedded",
    "latency",
    "e2e",
    "pending",
    "jobmeta",
    "bundles",
    "celery",
    "screen",
    "readmodel",
    "search",
    "traced",
)
PROFILES: dict[str, dict[str, float]] = {
    # warm-up, headline window, open-loop step window, latency window, gateway window,
    # embedded window, Celery no-op window, generator ceiling run (seconds)
    "full": {
        "warmup": 5,
        "headline": 60,
        "step": 15,
        "latency": 30,
        "gateway": 15,
        "embedded": 30,
        "noop": 30,
        "ceiling": 5,
    },
    "quick": {
        "warmup": 3,
        "headline": 15,
        "step": 8,
        "latency": 10,
        "gateway": 8,
        "embedded": 10,
        "noop": 10,
        "ceiling": 3,
    },
    "smoke": {
        "warmup": 0.5,
        "headline": 1.5,
        "step": 1,
        "latency": 1,
        "gateway": 1,
        "embedded": 1.5,
        "noop": 1,
        "ceiling": 1,
    },
}
# Read model at scale: jobs loaded, warm-up and window per route; event -> screen: jobs.
READMODEL: dict[str, dict[str, float]] = {
    "full": {"jobs": 1_000_000, "warmup": 2, "window": 10},
    "quick": {"jobs": 1_000_000, "warmup": 2, "window": 5},
    "smoke": {"jobs": 2_000, "warmup": 0.5, "window": 1},
}
SCREEN_JOBS: dict[str, int] = {"full": 20, "quick": 10, "smoke": 3}


def _floats(text: str) -> tuple[float, ...]:
    return tuple(float(x) for x in text.split(",") if x.strip())


def parse(argv: list[str] | None, description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated, from {','.join(SCENARIOS)} (default: all)",
    )
    speed = parser.add_mutually_exclusive_group()
    speed.add_argument("--quick", action="store_true", help="short windows (about 4 minutes)")
    speed.add_argument(
        "--smoke", action="store_true", help="tiny windows: checks the harness, not speed"
    )
    parser.add_argument("--headline", type=float, help="flat-out window, seconds (default 60)")
    parser.add_argument("--warmup", type=float, help="warm-up before each window, seconds")
    parser.add_argument("--step", type=float, help="window of each open-loop step, seconds")
    parser.add_argument(
        "--repeat", type=int, default=1, help="headline runs (ours and Celery, interleaved)"
    )
    parser.add_argument(
        "--rates",
        type=_floats,
        default=(100, 200, 500, 1000, 1500),
        help="open-loop steps, jobs/s, rising; a step not sustained skips the higher ones",
    )
    parser.add_argument(
        "--celery-rates",
        type=_floats,
        default=(100, 200, 500, 1000),
        help="Celery open-loop steps (full mode only)",
    )
    parser.add_argument(
        "--latency-rate", type=float, default=500.0, help="offered rate of the latency run"
    )
    parser.add_argument(
        "--traced-rate",
        type=float,
        help="traced: after each flat-out run, one at this offered rate on the same stack "
        "(CPU per job at a rate all three ways keep up with)",
    )
    parser.add_argument(
        "--gateway-processes", type=_floats, default=(1, 2), help="gateway runs, e.g. 1,2"
    )
    parser.add_argument(
        "--gateway-connections",
        type=_floats,
        default=(64, 256),
        help="keep-alive connections of each gateway run, e.g. 64,256: a request waits for "
        "the broker's confirm, so fewer connections than the gateway can serve measure the "
        "confirm's latency, not the gateway",
    )
    parser.add_argument(
        "--connections", type=int, default=64, help="keep-alive connections, flat out"
    )
    parser.add_argument(
        "--backlog",
        type=int,
        default=3000,
        help="flat out: pause sending while more accepted jobs than this are unfinished",
    )
    parser.add_argument(
        "--service-log-level", help="ODTO_LOG_LEVEL for the services (default: theirs)"
    )
    parser.add_argument("--log-dir", type=Path, help="where service logs go (default: a temp dir)")
    add_backend_options(parser)
    parser.add_argument(
        "--readmodel-jobs",
        type=int,
        help="readmodel: jobs loaded (5 events each; default 1,000,000, --smoke 2,000)",
    )
    parser.add_argument(
        "--readmodel-rate",
        type=float,
        default=100.0,
        help="readmodel: GETs/s offered to each route (default 100)",
    )
    parser.add_argument(
        "--readmodel-warmup", type=float, help="readmodel: warm-up per route, s (default 2)"
    )
    parser.add_argument(
        "--readmodel-window", type=float, help="readmodel: window per route, s (default 10)"
    )
    parser.add_argument(
        "--readmodel-search",
        action="store_true",
        help="readmodel: the search routes too, on the same data set (the scale run's one load)",
    )
    parser.add_argument(
        "--screen-jobs", type=int, help="screen: jobs submitted (default 20, --smoke 3)"
    )
    parser.add_argument(
        "--screen-interval",
        type=float,
        default=0.5,
        help="screen: seconds between two jobs (default 0.5)",
    )
    parser.add_argument("--json-only", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)
    unknown = set(args.scenarios.split(",")) - set(SCENARIOS)
    if unknown:
        parser.error(
            f"unknown scenarios {','.join(sorted(unknown))}; choose from {','.join(SCENARIOS)}"
        )
    return args


def make_plan(args: argparse.Namespace) -> Plan:
    mode = "smoke" if args.smoke else "quick" if args.quick else "full"
    durations = dict(PROFILES[mode])
    for key in ("headline", "warmup", "step"):
        if getattr(args, key) is not None:
            durations[key] = getattr(args, key)
    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="odto-bench-logs-"))
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {"ODTO_LOG_LEVEL": args.service_log_level} if args.service_log_level else {}
    rates = args.rates if mode == "full" else args.rates[:1] if mode == "smoke" else args.rates
    rm = READMODEL[mode]
    return Plan(
        mode=mode,
        **durations,
        rates=rates,
        celery_rates=args.celery_rates if mode == "full" else (),
        latency_rate=args.latency_rate,
        traced_rate=args.traced_rate,
        connections=args.connections,
        backlog=args.backlog,
        repeat=max(1, args.repeat),
        log_dir=log_dir,
        backends=Backends(args.rabbitmq_url, args.postgres_url, args.redis_url),
        service_env=env,
        readmodel=ReadModelPlan(
            jobs=args.readmodel_jobs or int(rm["jobs"]),
            rate=args.readmodel_rate,
            warmup=rm["warmup"] if args.readmodel_warmup is None else args.readmodel_warmup,
            window=args.readmodel_window or rm["window"],
            with_searches=args.readmodel_search,
        ),
        screen=ScreenPlan(
            jobs=args.screen_jobs or SCREEN_JOBS[mode], interval=args.screen_interval
        ),
    )
