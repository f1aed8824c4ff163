"""`odto submit`: send jobs to the gateway, optionally wait until they finish."""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

import httpx

from observatory.interfaces.cli.endpoints import add_url_options, auth_headers

TERMINAL = ("COMPLETED", "FAILED")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("submit", help="submit jobs through the gateway")
    parser.add_argument("--type", default="DEMO", help="job type ([A-Za-z0-9_-]{1,50})")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--duration-ms", type=float, help="simulated work per attempt")
    parser.add_argument("--fail-probability", type=float, help="chance each attempt fails (0..1)")
    parser.add_argument("--wait", action="store_true", help="wait until every job is finished")
    parser.add_argument("--timeout", type=float, default=30.0)
    add_url_options(parser)
    parser.set_defaults(func=lambda args: asyncio.run(run_submit(args)))


def job_body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {"type": args.type}
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


async def run_submit(args: argparse.Namespace) -> int:
    async with httpx.AsyncClient(timeout=10) as client:
        ids = []
        for _ in range(args.count):
            try:
                response = await client.post(
                    f"{args.gateway_url}/jobs",
                    json=job_body(args),
                    headers=auth_headers(args.token),
                )
            except httpx.HTTPError as exc:
                print(f"gateway unreachable at {args.gateway_url}: {type(exc).__name__}")
                return 1
            if response.status_code != 202:
                print(f"rejected ({response.status_code}): {response.text}")
                return 1
            ids.append(response.json()["jobId"])
            print(f"accepted {ids[-1]}")
        if not args.wait:
            return 0
        status = await wait_for(client, args.read_model_url, ids, args.timeout)
    for job_id in ids:
        print(f"{job_id} {status.get(job_id, 'NOT FINISHED')}")
    return 0 if all(status.get(i) in TERMINAL for i in ids) else 1
