"""`odto gate`: the integration gate against any running system.

Submits N jobs whose ids and type are unique to this run, then checks — by polling with a
deadline, never by fixed sleeps — that each completes, its events are all there with
unique ids, the stats grew by N and the gateway exports its metrics. With
--observability it adds the Prometheus/Alertmanager checks. Exit 0 only if all pass.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, TypeVar

import httpx

from observatory.core.contracts.vocabulary import EventType, JobStatus
from observatory.interfaces.cli.endpoints import add_url_options, auth_headers
from observatory.interfaces.cli.observability.checks import CheckResult, check_observability
from observatory.interfaces.cli.settings import CliSettings
from observatory.interfaces.submission import Sleep, json_object, new_job_id, submit_job

T = TypeVar("T")
LIFECYCLE = (EventType.CREATED, EventType.VALIDATED, EventType.EXECUTED, EventType.COMPLETED)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "gate", help="end-to-end integration gate against a running system"
    )
    add_url_options(parser)
    parser.add_argument("--jobs", type=int, default=3, help="jobs to submit")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds for jobs to complete")
    parser.add_argument(
        "--observability",
        action="store_true",
        help="also check Prometheus targets and that an alert fires",
    )
    settings = CliSettings()
    parser.add_argument("--prometheus-url", default=settings.prometheus_url)
    parser.add_argument("--alertmanager-url", default=settings.alertmanager_url)
    parser.set_defaults(func=lambda args: asyncio.run(run_gate(args)))


async def until(probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], timeout: float) -> T:
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        value = await probe()
        if done(value) or time.monotonic() > deadline:
            return value
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 1.0)


class Gate:
    def __init__(
        self, client: httpx.AsyncClient, args: argparse.Namespace, sleep: Sleep = asyncio.sleep
    ) -> None:
        self.client, self.args, self.sleep = client, args, sleep
        self.results: list[CheckResult] = []
        self.run_id = uuid.uuid4().hex[:8]

    def record(self, name: str, ok: bool, detail: str) -> bool:
        result = CheckResult(name, ok, detail)
        self.results.append(result)
        print(result.line(), flush=True)
        return ok

    async def health(self, name: str, url: str) -> bool:
        try:
            response = await self.client.get(url)
            body = response.json()
            ok = response.status_code == 200 and body.get("status") == "ok"
            return self.record(name, ok, f"{response.status_code} version {body.get('version')}")
        except (httpx.HTTPError, ValueError, AttributeError) as exc:
            return self.record(name, False, f"{url} unreachable ({type(exc).__name__})")

    async def stats(self) -> dict[str, Any]:
        return dict((await self.client.get(f"{self.args.read_model_url}/stats")).json())

    async def run(self) -> bool:
        a = self.args
        if not (
            await self.health("gateway health", f"{a.gateway_url}/healthz")
            & await self.health("read model health", f"{a.read_model_url}/health")
        ):
            return False
        before = await self.stats()
        ids = await self.submit()
        if not ids:
            return False
        await self.completed(ids)
        await self.events(ids)
        after = await until(
            self.stats, lambda s: s["totalJobs"] - before["totalJobs"] >= len(ids), 10
        )
        grew = after["totalJobs"] - before["totalJobs"]
        self.record(
            "stats aggregation", grew >= len(ids), f"totalJobs grew by {grew} (expected {len(ids)})"
        )
        metrics = (await self.client.get(f"{a.gateway_url}/metrics")).text
        self.record(
            "gateway metrics",
            "gateway_jobs_submitted_total" in metrics,
            "gateway_jobs_submitted_total exported",
        )
        if a.observability:
            for result in await check_observability(
                a.prometheus_url, a.alertmanager_url, gateway_url=a.gateway_url, token=a.token
            ):
                self.record(result.name, result.ok, result.detail)
        return all(r.ok for r in self.results)

    async def submit(self) -> list[str]:
        """Each job with its own id, retried with that id while its fate is open (a 503, a
        timeout): the gate then counts exactly the jobs it made, never a duplicate."""
        ids: list[str] = []
        problems: list[str] = []
        job_type = f"gate-{self.run_id}"
        for i in range(self.args.jobs):
            job_id = new_job_id()
            body: dict[str, Any] = {
                "id": job_id,
                "type": job_type,
                "payload": {"gateRun": self.run_id, "i": i},
            }
            result = await submit_job(
                self.client,
                f"{self.args.gateway_url}/jobs",
                body,
                headers=auth_headers(self.args.token),
                sleep=self.sleep,
            )
            answer = json_object(result.response) if result.accepted and result.response else {}
            if answer.get("jobId") == job_id:
                ids.append(job_id)
            elif result.gave_up:
                problems.append(result.note())
            elif result.response is not None:
                problems.append(f"{job_id}: {result.response.status_code} {result.response.text}")
        self.record(
            "job submission",
            len(ids) == self.args.jobs,
            f"{len(ids)}/{self.args.jobs} accepted (type {job_type})"
            + "".join(f"; {p}" for p in problems[:3]),
        )
        return ids if len(ids) == self.args.jobs else []

    async def completed(self, ids: list[str]) -> None:
        async def statuses() -> dict[str, str]:
            found = {}
            for job_id in ids:
                response = await self.client.get(f"{self.args.read_model_url}/jobs/{job_id}")
                found[job_id] = (
                    response.json().get("status") if response.status_code == 200 else "MISSING"
                )
            return found

        started = time.monotonic()
        final = await until(
            statuses, lambda s: all(v == JobStatus.COMPLETED for v in s.values()), self.args.timeout
        )
        done = sum(v == JobStatus.COMPLETED for v in final.values())
        self.record(
            "jobs processed",
            done == len(ids),
            f"{done}/{len(ids)} COMPLETED in {time.monotonic() - started:.1f}s",
        )

    async def events(self, ids: list[str]) -> None:
        async def lifecycle(job_id: str) -> list[dict[str, Any]]:
            response = await self.client.get(
                f"{self.args.read_model_url}/events", params={"jobId": job_id}
            )
            return list(response.json())

        event_ids: list[str] = []
        complete = 0
        for job_id in ids:
            events = await until(
                partial(lifecycle, job_id),
                lambda ev: {e["eventType"] for e in ev} >= set(LIFECYCLE),
                10,
            )
            complete += {e["eventType"] for e in events} >= set(LIFECYCLE)
            event_ids += [e["eventId"] for e in events]
        self.record("job events", complete == len(ids), f"{complete}/{len(ids)} full lifecycles")
        unique = len(set(event_ids)) == len(event_ids)
        self.record(
            "event ids unique", unique, f"{len(event_ids)} events, {len(set(event_ids))} unique"
        )


async def run_gate(args: argparse.Namespace) -> int:
    started = time.monotonic()
    async with httpx.AsyncClient(timeout=5, headers=auth_headers(args.token)) as client:
        ok = await Gate(client, args).run()
    print(f"gate {'PASSED' if ok else 'FAILED'} in {time.monotonic() - started:.1f}s")
    return 0 if ok else 1
