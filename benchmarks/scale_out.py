"""Scaling out on the real engines (issue 15), one short invocation with its own baselines:

- competing consumers: a backlog of jobs whose simulated work is I/O-bound (`--work-ms`,
  default 20 ms of waiting per job) drained by 1, 2 and 4 processor processes; the
  figure is jobs/s from the first submit to the last completion, 1 processor the baseline;
- queue types: the same backlog with no work, on classic then quorum queues
  (ODTO_QUEUE_TYPE), one processor each; classic is the baseline.

Every run is checked: accepted == job rows == COMPLETED rows == counters (ok=false
otherwise). Each run has its own namespace on the local RabbitMQ/PostgreSQL/Redis.

    .venv/bin/python -m benchmarks.scale_out [--jobs 600] [--work-ms 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.scenarios import settle
from benchmarks.stacks import REAL_SERVICES, RealStack
from benchmarks.stores import Backends, add_backend_options

CONCURRENCY = 32


async def submit(gateways: list[str], jobs: int, work_ms: int) -> int:
    """Post `jobs` jobs over CONCURRENCY connections; the number accepted."""
    accepted = 0
    body = {"type": "SCALE", "payload": {"simulate": {"durationMs": work_ms}}}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for index in range(jobs):
        queue.put_nowait(index)

    async def worker(http: httpx.AsyncClient, index: int) -> None:
        nonlocal accepted
        url = gateways[index % len(gateways)] + "/jobs"
        while not queue.empty():
            queue.get_nowait()
            if (await http.post(url, json=body)).status_code == 202:
                accepted += 1

    async with httpx.AsyncClient(timeout=30) as http:
        await asyncio.gather(*(worker(http, i) for i in range(CONCURRENCY)))
    return accepted


async def run(
    backends: Backends, log_dir: Path, *, jobs: int, work_ms: int, processors: int, queue_type: str
) -> dict[str, Any]:
    stack = await RealStack.start(
        backends,
        log_dir,
        kind=f"scale{processors}{queue_type[0]}",
        services=REAL_SERVICES,
        processors=processors,
        env={"ODTO_QUEUE_TYPE": queue_type},
    )
    try:
        assert stack.stores is not None
        stores = stack.stores
        await submit(stack.gateway_urls, 1, 0)  # consumers bound before the clock starts
        await _until(lambda: stores.redis_completed(), 1)
        start = time.monotonic()
        accepted = await submit(stack.gateway_urls, jobs, work_ms)
        submitted = time.monotonic() - start
        await _until(lambda: stores.redis_completed(), accepted + 1)
        elapsed = time.monotonic() - start

        async def counts() -> dict[str, int]:
            tally = await stores.tally()
            return {
                "accepted": accepted + 1,
                "rows": tally.rows,
                "completedRows": tally.completed_rows,
                "counterCompleted": tally.redis_completed,
                "counterTotal": tally.redis_total,
            }

        check = await settle(counts)
        return {
            "processors": processors,
            "queueType": queue_type,
            "workMs": work_ms,
            "jobs": accepted,
            "seconds": round(elapsed, 2),
            "submitS": round(submitted, 2),
            "jobsPerS": round(accepted / elapsed, 1),
            "ok": check["ok"],
        }
    finally:
        await stack.stop()


async def _until(read: Any, target: int, within: float = 300.0) -> None:
    deadline = time.monotonic() + within
    while await read() < target:
        if time.monotonic() > deadline:
            raise RuntimeError(f"jobs did not complete within {within}s")
        await asyncio.sleep(0.05)


async def main(args: argparse.Namespace) -> dict[str, Any]:
    backends = Backends(args.rabbitmq_url, args.postgres_url, args.redis_url)
    log_dir = args.log_dir or Path(tempfile.mkdtemp(prefix="odto-scale-"))
    consumers = [
        await run(
            backends,
            log_dir,
            jobs=args.jobs,
            work_ms=args.work_ms,
            processors=n,
            queue_type="classic",
        )
        for n in (1, 2, 4)
    ]
    base = consumers[0]["jobsPerS"]
    for row in consumers:
        row["vsOneProcessor"] = round(row["jobsPerS"] / base, 2)
    types = [
        await run(backends, log_dir, jobs=args.jobs, work_ms=0, processors=1, queue_type=kind)
        for kind in ("classic", "quorum")
    ]
    types[1]["vsClassic"] = round(types[1]["jobsPerS"] / types[0]["jobsPerS"], 2)
    return {"competingConsumers": consumers, "queueTypes": types, "logDir": str(log_dir)}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.scale_out", description=__doc__)
    parser.add_argument("--jobs", type=int, default=600, help="jobs per run (default 600)")
    parser.add_argument("--work-ms", type=int, default=20, help="simulated I/O wait per job")
    parser.add_argument("--log-dir", type=Path)
    add_backend_options(parser)
    return parser.parse_args(argv)


if __name__ == "__main__":
    result = asyncio.run(main(parse()))
    for row in result["competingConsumers"]:
        print(
            f"{row['processors']} processor(s), {row['workMs']} ms I/O per job: "
            f"{row['jobsPerS']} jobs/s ({row['vsOneProcessor']}x one), ok={row['ok']}"
        )
    for row in result["queueTypes"]:
        print(
            f"{row['queueType']} queues, no-op jobs: {row['jobsPerS']} jobs/s"
            + (f" ({row['vsClassic']}x classic)" if "vsClassic" in row else "")
            + f", ok={row['ok']}"
        )
    print(json.dumps(result))
