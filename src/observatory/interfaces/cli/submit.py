"""`odto submit`: send jobs to the gateway, optionally wait until they finish.

Each job gets its id here and keeps it through retries (interfaces/submission.py): a 503,
a timeout or a dropped connection sends the same body again, so a retry never makes a
second job. When the tries run out the job id is printed with what is known about it, and
`--id` resubmits that very job safely.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import httpx

from observatory.core.contracts.ids import canonical_uuid
from observatory.core.contracts.vocabulary import TERMINAL
from observatory.interfaces.cli.endpoints import access_hint, add_url_options, auth_headers
from observatory.interfaces.submission import (
    Retrying,
    Sleep,
    Submission,
    describe,
    new_job_id,
    submit_job,
)


def _job_id(value: str) -> str:
    canonical = canonical_uuid(value)
    if canonical is None:
        raise argparse.ArgumentTypeError(f"must be a UUID (got {value!r})")
    return canonical


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("submit", help="submit jobs through the gateway")
    parser.add_argument("--type", default="DEMO", help="job type ([A-Za-z0-9_-]{1,50})")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument(
        "--id",
        type=_job_id,
        help="the job's id (only with --count 1): resubmitting a job with its id is safe",
    )
    parser.add_argument("--duration-ms", type=float, help="simulated work per attempt")
    parser.add_argument("--fail-probability", type=float, help="chance each attempt fails (0..1)")
    parser.add_argument("--wait", action="store_true", help="wait until every job is finished")
    parser.add_argument("--timeout", type=float, default=30.0)
    add_url_options(parser)
    parser.set_defaults(func=lambda args: asyncio.run(run_submit(args)))


def job_body(args: argparse.Namespace, job_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {"id": job_id, "type": args.type}
    simulate = {}
    if args.duration_ms is not None:
        simulate["durationMs"] = args.duration_ms
    if args.fail_probability is not None:
        simulate["failProbability"] = args.fail_probability
    if simulate:
        body["payload"] = {"simulate": simulate}
    return body


async def wait_for(
    client: httpx.AsyncClient, base: str, ids: list[str], timeout: float
) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    status: dict[str, str] = {}
    while time.monotonic() < deadline:
        for job_id in ids:
            if status.get(job_id) in TERMINAL:
                continue
            response = await client.get(f"{base}/jobs/{job_id}")
            if response.status_code == 200:
                status[job_id] = response.json()["status"]
        if all(status.get(i) in TERMINAL for i in ids):
            break
        await asyncio.sleep(0.2)
    return status


def _announce(retry: Retrying) -> None:
    print(
        f"retrying {retry.job_id} in {retry.wait:g}s (try {retry.attempt} of {retry.attempts}):"
        f" {retry.reason}",
        flush=True,
    )


def _failure(result: Submission) -> str:
    if result.gave_up:
        return (
            f"{result.note()}\n  last answer: {describe(result.response, result.error)}"
            f"\n  to resubmit it, run the same command with --id {result.job_id}"
        )
    assert result.response is not None
    status = result.response.status_code
    try:
        body = result.response.json()
    except ValueError:
        body = None
    hint = access_hint(status, body)
    return f"rejected ({status}): {result.response.text}" + (f"\n  {hint}" if hint else "")


async def run_submit(
    args: argparse.Namespace,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Sleep = asyncio.sleep,
) -> int:
    if args.id is not None and args.count != 1:
        print("--id names one job: use it with --count 1")
        return 2
    async with httpx.AsyncClient(
        timeout=10, transport=transport, headers=auth_headers(args.token)
    ) as client:  # the token goes with the reads of --wait too
        ids = []
        for _ in range(args.count):
            result = await submit_job(
                client,
                f"{args.gateway_url}/jobs",
                job_body(args, args.id or new_job_id()),
                headers=auth_headers(args.token),
                sleep=sleep,
                on_retry=_announce,
            )
            if not result.accepted:
                print(_failure(result))
                return 1
            ids.append(result.job_id)
            print(f"accepted {ids[-1]}")
        if not args.wait:
            return 0
        status = await wait_for(client, args.read_model_url, ids, args.timeout)
    for job_id in ids:
        print(f"{job_id} {status.get(job_id, 'NOT FINISHED')}")
    return 0 if all(status.get(i) in TERMINAL for i in ids) else 1
