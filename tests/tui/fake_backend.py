"""A deterministic stand-in for the read model and gateway, served through httpx.MockTransport.

Used where a picture must not change between runs (snapshots) and to force failures the real
system cannot be made to produce on demand (alert fetches failing while stats work).
Behaviour tests use the real system instead (tests/system.py).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

STATUSES = ("COMPLETED", "COMPLETED", "FAILED", "EXECUTING", "PENDING", "COMPLETED", "VALIDATED")
TYPES = ("REPORT_EXPORT", "IMAGE_RESIZE", "EMAIL_DIGEST", "INVOICE_RUN", "DATA_SYNC", "BACKUP")


def job_id(n: int) -> str:
    """A fixed, random-looking UUID per number."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://task-observatory.local/jobs/{n}"))


def make_job(n: int) -> dict[str, Any]:
    status = STATUSES[n % len(STATUSES)]
    minute = 59 - n
    return {
        "id": job_id(n),
        "type": TYPES[n % len(TYPES)],
        "status": status,
        "createdAt": f"2026-01-01T11:{minute:02d}:05.000Z",
        "updatedAt": f"2026-01-01T11:{minute:02d}:07.000Z",
        "attempts": 3 if status == "FAILED" else 1,
        "error": "simulated failure (attempt 3 of 3)" if status == "FAILED" else None,
    }


def job_detail(n: int, trace_url: str | None = None) -> dict[str, Any]:
    job = make_job(n)
    failed = job["status"] == "FAILED"
    history = [
        {
            "attempt": a,
            "startedAt": f"2026-01-01T11:{59 - n:02d}:0{4 + a}.000Z",
            "finishedAt": f"2026-01-01T11:{59 - n:02d}:0{5 + a}.000Z",
            "outcome": "failed" if failed else "completed",
            "error": f"simulated failure (attempt {a} of 3)" if failed else None,
        }
        for a in range(1, job["attempts"] + 1)
    ]
    kinds = ["job.created", "job.validated", "job.executed"]
    kinds.append("job.failed" if failed else "job.completed")
    services = {"job.created": "gateway", "job.validated": "processor"}
    events = [
        {
            "contractVersion": "1.0.0",
            "eventType": kind,
            "eventId": str(uuid.UUID(int=1000 + i)),
            "occurredAt": f"2026-01-01T11:{59 - n:02d}:0{5 + i}.000Z",
            "producer": {
                "service": services.get(kind, "processor"),
                "instanceId": "i",
                "version": "1",
            },
            "payload": {
                **job,
                "status": {
                    "job.created": "PENDING",
                    "job.validated": "VALIDATED",
                    "job.executed": "EXECUTING",
                }.get(kind, job["status"]),
            },
        }
        for i, kind in enumerate(kinds)
    ]
    traced = {}
    if trace_url is not None:  # a system with tracing on and ODTO_TRACE_URL set
        trace_id = f"{n + 1:032x}"
        traced = {"traceId": trace_id, "traceUrl": trace_url.replace("{traceId}", trace_id)}
    return {
        **job,
        "payload": {},
        "metadata": {},
        "completedAt": None if failed else job["updatedAt"],
        "run": 1,
        "attemptHistory": history,
        "events": events,
        **traced,
    }


def series_body() -> dict[str, Any]:
    """A fixed 15-min series: 90 steps of 10 s, a wave of completions and a few failures."""
    points = []
    for n in range(90):
        minute, second = divmod(n * 10, 60)
        points.append(
            {
                "t": f"2026-01-01T11:{45 + minute:02d}:{second:02d}.000Z",
                "created": 10 + (n * 7) % 9,
                "completed": 8 + (n * 5) % 11,
                "failed": (n * 3) % 4 if n % 6 == 0 else 0,
                "cancelled": 0,
                "p50Ms": 120.0,
                "p95Ms": 480.0,
                "p99Ms": 900.0,
                "queueDepth": 22,
            }
        )
    return {"window": "15m", "step": "10s", "points": points}


@dataclass
class FakeBackend:
    """Answers like the contract says; flip the switches to make parts of it misbehave."""

    jobs: list[dict[str, Any]] = field(default_factory=lambda: [make_job(n) for n in range(12)])
    trace_url: str | None = None  # ODTO_TRACE_URL: job details carry traceId and traceUrl
    alerts: dict[str, Any] = field(
        default_factory=lambda: {
            "status": "ok",
            "alerts": [
                {
                    "alertname": "JobFailureRateHigh",
                    "severity": "critical",
                    "service": "processor",
                    "summary": "More than 5% of jobs fail",
                    "labels": {},
                },
                {
                    "alertname": "QueueBacklogGrowing",
                    "severity": "warning",
                    "service": "rabbitmq",
                    "summary": "Over 100 jobs waiting",
                    "labels": {},
                },
            ],
        }
    )
    down: bool = False
    """Every request fails to connect."""
    hang: bool = False
    """Every request waits forever (the splash stays)."""
    alerts_broken: bool = False
    """GET /alerts fails with 500."""
    series_missing: bool = False
    """GET /stats/series is 404, as from a read model older than the route."""
    gateway_script: list[httpx.Response | Exception] = field(default_factory=list)
    """The next answers to POST /jobs, in order (an exception is raised); then 202s."""
    tokens: dict[str, tuple[str, str]] | None = None
    """token → (name, role): when set, every route but /healthz needs one (401 otherwise)."""
    requests: list[httpx.Request] = field(default_factory=list)
    submitted: list[dict[str, Any]] = field(default_factory=list)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def count(self, path: str) -> int:
        return sum(1 for r in self.requests if r.url.path == path)

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.hang:
            await asyncio.Event().wait()
        if self.down:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        path = request.url.path
        if self.tokens is not None and path != "/healthz":
            presented = request.headers.get("authorization", "").removeprefix("Bearer ")
            if presented not in self.tokens:
                return httpx.Response(401, json={"error": "A valid bearer token is required"})
            if path == "/auth/whoami":
                name, role = self.tokens[presented]
                return httpx.Response(200, json={"name": name, "role": role, "access": "tokens"})
        if request.method == "POST" and path == "/jobs":
            body = json.loads(request.content)
            self.submitted.append(body)
            if self.gateway_script:
                answer = self.gateway_script.pop(0)
                if isinstance(answer, Exception):
                    raise answer
                return answer
            return httpx.Response(
                202, json={"jobId": job_id(900 + len(self.submitted)), "eventId": job_id(999)}
            )
        if request.method == "POST" and path.endswith("/retry"):
            return httpx.Response(202, json={"jobId": path.split("/")[2], "eventId": job_id(998)})
        if path == "/stats":
            return httpx.Response(
                200,
                json={
                    "totalJobs": 1284,
                    "completedJobs": 1201,
                    "failedJobs": 61,
                    "inFlightJobs": 22,
                    "deadLetters": 2,
                    "lastEventTime": "2026-01-01T11:59:58.000Z",
                },
            )
        if path == "/stats/series" and not self.series_missing:
            return httpx.Response(200, json=series_body())
        if path in ("/jobs/recent", "/jobs"):
            status = request.url.params.get("status")
            items = [j for j in self.jobs if not status or j["status"] == status]
            return httpx.Response(
                200, json=items if path == "/jobs/recent" else {"items": items, "nextCursor": None}
            )
        if path.startswith("/jobs/"):
            wanted = path.split("/")[2]
            for n, job in enumerate(self.jobs):
                if job["id"] == wanted:
                    return httpx.Response(200, json=job_detail(n, self.trace_url))
            return httpx.Response(404, json={"error": "job not found"})
        if path == "/alerts":
            if self.alerts_broken:
                return httpx.Response(500, json={"error": "boom"})
            return httpx.Response(200, json=self.alerts)
        if path == "/healthz":
            return httpx.Response(200, json={"status": "ok", "version": "1.0.0"})
        return httpx.Response(404, json={"error": "not found"})
