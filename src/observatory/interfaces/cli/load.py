"""`odto load`: a traffic generator for demos, dashboards and alerts.

    odto load --rate 10 --duration 60 --types email,report --failure-rate 0.5 --work-ms 50

Submits jobs to the gateway at a fixed rate (open loop), prints what was sent, accepted and
rejected, then waits for the accepted jobs to finish and prints how many completed or
failed. A submission answered 503 or timed out is sent again with the same job id
(`--retries`, default 2), so a retry never makes a second job. `--failure-rate` sets each
job's `payload.simulate.failProbability` (per attempt; the processor retries), which is
how JobFailureRateHigh is made to fire on purpose.
Exit status: 0 when every job was accepted and (if counted) finished, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re

from observatory.core.settings import local_url
from observatory.interfaces.cli.endpoints import add_token_options
from observatory.interfaces.cli.settings import CliSettings
from observatory.interfaces.cli.traffic import LoadPlan, LoadReport, run_load

TYPE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,50}$")


def _types(value: str) -> tuple[str, ...]:
    types = tuple(t.strip() for t in value.split(",") if t.strip())
    bad = [t for t in types if not TYPE_PATTERN.match(t)]
    if not types or bad:
        raise argparse.ArgumentTypeError(
            f"job types must match {TYPE_PATTERN.pattern}, comma-separated (got {value!r})"
        )
    return types


def _positive(value: str) -> float:
    number = float(value)
    if not number > 0:
        raise argparse.ArgumentTypeError(f"must be greater than 0 (got {value})")
    return number


def _probability(value: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1 (got {value})")
    return number


def _non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more (got {value})")
    return number


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `odto load` to the CLI."""
    parser = subparsers.add_parser(
        "load",
        help="send jobs at a fixed rate and report how they ended",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--gateway-url", default=local_url("gateway"))
    parser.add_argument(
        "--read-model-url",
        default=local_url("read-model"),
        help="where to read the jobs' outcomes (default %(default)s)",
    )
    parser.add_argument("--rate", type=_positive, default=5.0, help="jobs per second")
    parser.add_argument("--duration", type=_positive, default=10.0, help="seconds of sending")
    parser.add_argument("--types", type=_types, default=("load",), help="e.g. email,report")
    parser.add_argument(
        "--failure-rate", type=_probability, default=None, help="failProbability per attempt"
    )
    parser.add_argument("--work-ms", type=_non_negative_int, default=None, help="work per job")
    parser.add_argument(
        "--wait",
        type=float,
        default=30.0,
        help="seconds to wait for the jobs to finish afterwards; 0 = do not count outcomes",
    )
    parser.add_argument("--timeout", type=_positive, default=5.0, help="per request, seconds")
    parser.add_argument(
        "--retries",
        type=_non_negative_int,
        default=2,
        help="more tries, same job id, after a 503 or a timeout (default %(default)s)",
    )
    add_token_options(parser, CliSettings().api_token)
    parser.add_argument("--json", action="store_true", help="print one JSON summary")
    parser.set_defaults(func=run)


def plan_from(args: argparse.Namespace) -> LoadPlan:
    return LoadPlan(
        gateway_url=args.gateway_url,
        rate=args.rate,
        duration=args.duration,
        types=args.types,
        failure_rate=args.failure_rate,
        work_ms=args.work_ms,
        read_model_url=args.read_model_url or None,
        wait=args.wait,
        token=args.token,
        timeout=args.timeout,
        retries=args.retries,
    )


def describe(plan: LoadPlan) -> str:
    extras = [f"types {','.join(plan.types)}"]
    if plan.failure_rate is not None:
        extras.append(f"failure rate {plan.failure_rate:g}")
    if plan.work_ms is not None:
        extras.append(f"work {plan.work_ms} ms")
    return (
        f"Sending {plan.count} jobs at {plan.rate:g}/s for {plan.duration:g} s "
        f"to {plan.gateway_url} ({'; '.join(extras)})"
    )


def summary_lines(report: LoadReport) -> list[str]:
    rejected = sum(report.rejected.values())
    by = ", ".join(f"{why}: {n}" for why, n in sorted(report.rejected.items()))
    lines = [
        f"sent {report.sent}, accepted {report.accepted}, rejected {rejected}"
        + (f" ({by})" if by else "")
        + f" in {report.send_seconds:.1f} s"
        + (f"; {report.retried} needed retries" if report.retried else "")
    ]
    if report.unknown_ids:
        lines.append(
            f"{len(report.unknown_ids)} not confirmed after every try may still run "
            "(outcome unknown; their ids are in --json's unknownIds)"
        )
    if report.completed is not None:
        failed_lookups = report.lookup_errors
        lines.append(
            f"completed {report.completed}, failed {report.failed}, unfinished {report.unfinished}"
            + (f" ({failed_lookups} read-model lookups failed)" if failed_lookups else "")
        )
    return lines


def run(args: argparse.Namespace) -> int:
    plan = plan_from(args)
    if not args.json:
        print(describe(plan), flush=True)

    def progress(report: LoadReport) -> None:
        print(f"  ... sent {report.sent}, accepted {report.accepted}", flush=True)

    def before_wait(report: LoadReport) -> None:
        print(*summary_lines(report), sep="\n", flush=True)
        print(
            f"Waiting up to {plan.wait:g} s for {report.accepted} jobs at {plan.read_model_url}",
            flush=True,
        )

    quiet = args.json
    report = asyncio.run(
        run_load(
            plan,
            progress=None if quiet else progress,
            before_wait=None if quiet else before_wait,
        )
    )
    if quiet:
        print(json.dumps(report.as_dict()))
    elif report.completed is None:
        print(*summary_lines(report), sep="\n")
    else:
        print(summary_lines(report)[-1])
    return 0 if report.ok else 1
