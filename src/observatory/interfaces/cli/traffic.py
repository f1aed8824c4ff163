"""Open-loop traffic for `odto load`: submit jobs at a fixed rate, then count how they ended.

Open loop means each submission starts on its schedule (job i at i/rate seconds) whether or
not earlier ones have been answered, as real clients do; a slow gateway therefore shows up
as latency and rejections, not as a politely reduced rate. Job ids are chosen here, so the
outcome of every accepted job can be read back from the read model's `GET /jobs/{id}`, and a
submission whose fate is open (503, timeout) is sent again with the same id — a few times
within a few seconds, inside its own task, so retries never hold up the schedule.
"""

from __future__ import annotations

import asyncio
import math
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from observatory.core.contracts.vocabulary import TERMINAL, JobStatus
from observatory.interfaces.submission import RetryPolicy, Sleep, submit_job


@dataclass(frozen=True)
class LoadPlan:
    """What to send. `failure_rate` and `work_ms` go into each job's `payload.simulate`."""

    gateway_url: str
    rate: float
    duration: float
    types: tuple[str, ...] = ("load",)
    failure_rate: float | None = None
    work_ms: int | None = None
    read_model_url: str | None = None
    wait: float = 30.0
    token: str | None = None
    timeout: float = 5.0
    retries: int = 2
    """More tries of a submission whose fate is open (503, timeout); 0 never retries."""

    @property
    def count(self) -> int:
        """Number of jobs: rate x duration, at least one."""
        return max(1, math.floor(self.rate * self.duration + 1e-9))

    @property
    def retry_policy(self) -> RetryPolicy:
        """Shorter than an interactive client's: a load run should end soon after sending."""
        return RetryPolicy(attempts=self.retries + 1, budget=10.0, backoff=0.5, max_wait=5.0)

    def job(self, index: int, run_id: str) -> dict[str, Any]:
        """The short-form job body for submission `index`."""
        simulate: dict[str, Any] = {}
        if self.failure_rate is not None:
            simulate["failProbability"] = self.failure_rate
        if self.work_ms is not None:
            simulate["durationMs"] = self.work_ms
        body: dict[str, Any] = {
            "id": str(uuid.uuid4()),
            "type": self.types[index % len(self.types)],
            "metadata": {"source": "odto load", "run": run_id},
        }
        if simulate:
            body["payload"] = {"simulate": simulate}
        return body


@dataclass
class LoadReport:
    """What happened: submissions, their answers and, when counted, the jobs' outcomes."""

    run_id: str
    sent: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    accepted_ids: list[str] = field(default_factory=list)
    retried: int = 0
    """Submissions that needed more than one try."""
    unknown_ids: list[str] = field(default_factory=list)
    """Not accepted, yet some try may have been published: these jobs may still run."""
    completed: int | None = None
    failed: int | None = None
    unfinished: int | None = None
    lookup_errors: int = 0
    send_seconds: float = 0.0
    max_in_flight: int = 0

    @property
    def ok(self) -> bool:
        """True when every job was accepted and, if outcomes were counted, all finished."""
        return self.sent > 0 and self.accepted == self.sent and not self.unfinished

    def as_dict(self) -> dict[str, Any]:
        return {
            "runId": self.run_id,
            "sent": self.sent,
            "accepted": self.accepted,
            "rejected": sum(self.rejected.values()),
            "rejectedBy": dict(self.rejected),
            "completed": self.completed,
            "failed": self.failed,
            "unfinished": self.unfinished,
            "lookupErrors": self.lookup_errors,
            "sendSeconds": round(self.send_seconds, 3),
            "jobIds": self.accepted_ids,
            "retried": self.retried,
            "unknownIds": self.unknown_ids,
        }


def _headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def submit_all(
    plan: LoadPlan,
    client: httpx.AsyncClient,
    report: LoadReport,
    progress: Callable[[LoadReport], None] | None = None,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """Submit `plan.count` jobs on a fixed schedule; record each answer in `report`.
    Each job is its own task, retries included, so the schedule never waits on one."""
    url = plan.gateway_url.rstrip("/") + "/jobs"
    in_flight = 0

    async def send(body: dict[str, Any]) -> None:
        nonlocal in_flight
        in_flight += 1
        report.max_in_flight = max(report.max_in_flight, in_flight)
        try:
            result = await submit_job(
                client,
                url,
                body,
                headers=_headers(plan.token),
                policy=plan.retry_policy,
                sleep=sleep,
            )
        finally:
            in_flight -= 1
        if result.attempts > 1:
            report.retried += 1
        if result.accepted:
            report.accepted += 1
            report.accepted_ids.append(result.job_id)
            return
        if isinstance(result.error, httpx.TimeoutException):
            report.rejected["timeout"] += 1
        elif result.error is not None:
            report.rejected["connection error"] += 1
        else:
            assert result.response is not None
            report.rejected[str(result.response.status_code)] += 1
        if result.maybe_published:
            report.unknown_ids.append(result.job_id)

    loop = asyncio.get_running_loop()
    start = loop.time()
    next_progress = start + 5.0
    tasks = []
    for index in range(plan.count):
        delay = start + index / plan.rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(plan.job(index, report.run_id))))
        report.sent += 1
        if progress and loop.time() >= next_progress:
            progress(report)
            next_progress += 5.0
    await asyncio.gather(*tasks)
    report.send_seconds = loop.time() - start


async def count_outcomes(
    plan: LoadPlan, client: httpx.AsyncClient, report: LoadReport, poll: float = 0.5
) -> None:
    """Poll the read model for each accepted job until all are terminal or `plan.wait` ends."""
    assert plan.read_model_url is not None
    base = plan.read_model_url.rstrip("/")
    pending = set(report.accepted_ids)
    outcomes: Counter[str] = Counter()
    limit = asyncio.Semaphore(16)

    async def status(job_id: str) -> str | None:
        async with limit:
            try:
                response = await client.get(f"{base}/jobs/{job_id}")
            except httpx.HTTPError:
                report.lookup_errors += 1
                return None
        if response.status_code != 200:
            if response.status_code != 404:  # 404: not recorded yet
                report.lookup_errors += 1
            return None
        value = response.json().get("status")
        return value if isinstance(value, str) else None

    deadline = time.monotonic() + plan.wait
    while pending:
        ids = sorted(pending)
        for job_id, value in zip(ids, await asyncio.gather(*map(status, ids)), strict=True):
            if value in TERMINAL:
                outcomes[value] += 1
                pending.discard(job_id)
        if not pending or time.monotonic() + poll > deadline:
            break
        await asyncio.sleep(poll)
    report.completed = outcomes[JobStatus.COMPLETED]
    report.failed = outcomes[JobStatus.FAILED]
    report.unfinished = len(pending)


async def run_load(
    plan: LoadPlan,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    progress: Callable[[LoadReport], None] | None = None,
    before_wait: Callable[[LoadReport], None] | None = None,
    sleep: Sleep = asyncio.sleep,
) -> LoadReport:
    """Send the plan's traffic and, with a read model URL and `wait` > 0, count outcomes."""
    report = LoadReport(run_id=uuid.uuid4().hex[:12])
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
    async with httpx.AsyncClient(
        transport=transport, timeout=plan.timeout, limits=limits, headers=_headers(plan.token)
    ) as client:  # the token goes with the outcome reads too
        await submit_all(plan, client, report, progress, sleep)
        if plan.read_model_url and plan.wait > 0 and report.accepted_ids:
            if before_wait:
                before_wait(report)
            await count_outcomes(plan, client, report)
    return report
