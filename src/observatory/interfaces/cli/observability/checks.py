"""Gate checks of the observability stack (`odto gate --observability`).

Against any running Prometheus and Alertmanager: both ready, the alert rules loaded, every
scrape target up, Prometheus connected to Alertmanager, and, given the gateway, that an
alert really fires when failures are injected: jobs that ask to fail
(`payload.simulate.failProbability = 1`) must raise JobFailureRateHigh in Alertmanager
within the time the rule's `for` and the evaluation interval allow.

Injecting failures leaves JobFailureRateHigh firing until the rule's window has passed:
that is the point of the check, and the runbook says so.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from observatory.interfaces.submission import new_job_id, submit_job

SERVICES = ("gateway", "processor", "metrics-engine", "read-model", "web")
ALERTS = (
    "ServiceDown",
    "JobFailureRateHigh",
    "GatewayHighLatency",
    "QueueBacklogGrowing",
    "DatabaseUnavailable",
    "DeadLettersAppearing",
)
FAILURE_ALERT = "JobFailureRateHigh"
T = TypeVar("T")


@dataclass(frozen=True)
class CheckResult:
    """One `[PASS]/[FAIL] name - detail` line of the gate."""

    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"[{'PASS' if self.ok else 'FAIL'}] {self.name} - {self.detail}"


async def _until(probe: Callable[[], Awaitable[T]], done: Callable[[T], bool], within: float) -> T:
    """Call `probe` until `done(result)` or `within` seconds passed; the last result."""
    deadline = time.monotonic() + within
    while True:
        try:
            result = await probe()
        except httpx.HTTPError:
            if time.monotonic() >= deadline:
                raise
        else:
            if done(result) or time.monotonic() >= deadline:
                return result
        await asyncio.sleep(0.5)


async def _json(client: httpx.AsyncClient, url: str) -> Any:
    response = await client.get(url)
    response.raise_for_status()
    return response.json()


def _target_problems(targets: Iterable[dict[str, Any]], expected: Iterable[str]) -> list[str]:
    by_job: dict[str, list[dict[str, Any]]] = {}
    for target in targets:
        by_job.setdefault(target["labels"].get("job", "?"), []).append(target)
    problems = [f"{job}: not scraped" for job in expected if job not in by_job]
    for job, found in sorted(by_job.items()):
        for target in found:
            if target["health"] != "up":
                why = target.get("lastError") or target["health"]
                problems.append(f"{job} ({target['scrapeUrl']}): {why}")
    return problems


def _rules(payload: dict[str, Any]) -> dict[str, tuple[dict[str, Any], float]]:
    """Alerting rules by name, each with its group's evaluation interval (seconds)."""
    return {
        rule["name"]: (rule, float(group.get("interval", 15)))
        for group in payload["data"]["groups"]
        for rule in group["rules"]
        if rule.get("type") == "alerting"
    }


async def _inject_failures(
    client: httpx.AsyncClient, gateway_url: str, count: int, token: str | None
) -> int:
    run = uuid.uuid4().hex[:8]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {
        "type": "gate-failure",
        "payload": {"simulate": {"failProbability": 1, "durationMs": 0}},
        "metadata": {"source": "odto gate", "run": run},
    }
    # Each job its own id, retried with it while its fate is open: never a duplicate.
    results = await asyncio.gather(
        *(
            submit_job(client, f"{gateway_url}/jobs", {"id": new_job_id(), **body}, headers=headers)
            for _ in range(count)
        ),
    )
    return sum(result.accepted for result in results)


async def _completed_in_window(
    client: httpx.AsyncClient, prometheus: str, rule: dict[str, Any]
) -> float:
    window = re.search(r"\[(\w+)\]", rule["query"])
    query = f"sum(increase(processor_jobs_completed_total[{window.group(1) if window else '5m'}]))"
    result = (await _json(client, f"{prometheus}/api/v1/query?query={query}"))["data"]["result"]
    return float(result[0]["value"][1]) if result else 0.0


async def _alert_fires(
    client: httpx.AsyncClient,
    prometheus: str,
    alertmanager: str,
    gateway_url: str,
    rules: dict[str, tuple[dict[str, Any], float]],
    token: str | None,
    alert_timeout: float | None,
) -> CheckResult:
    name = f"alert fires on injected failures ({FAILURE_ALERT})"
    if FAILURE_ALERT not in rules:
        return CheckResult(name, False, f"rule {FAILURE_ALERT} is not loaded")
    rule, interval = rules[FAILURE_ALERT]
    completed = await _completed_in_window(client, prometheus, rule)
    count = min(500, max(20, math.ceil(completed / 10) + 1))  # > 9 % of what finished
    accepted = await _inject_failures(client, gateway_url, count, token)
    if accepted == 0:
        return CheckResult(name, False, f"gateway accepted none of {count} failing jobs")
    # The rule's `for`, a few evaluations, scrapes and the processor's retries.
    timeout = alert_timeout or float(rule.get("duration", 0)) + 4 * interval + 60

    async def active() -> list[dict[str, Any]]:
        alerts = await _json(
            client, f"{alertmanager}/api/v2/alerts?filter=alertname={FAILURE_ALERT}"
        )
        return [a for a in alerts if a["status"]["state"] == "active"]

    started = time.monotonic()
    firing = await _until(active, bool, timeout)
    if firing:
        took = time.monotonic() - started
        return CheckResult(
            name, True, f"{accepted} failing jobs; firing in Alertmanager after {took:.0f} s"
        )
    state = rule.get("state", "inactive")
    return CheckResult(
        name, False, f"{accepted} failing jobs; not firing after {timeout:.0f} s (rule {state})"
    )


async def _ready(client: httpx.AsyncClient, name: str, url: str) -> CheckResult:
    try:
        response = await client.get(f"{url}/-/ready")
    except httpx.HTTPError as error:
        return CheckResult(name, False, f"{url}: {error!r}")
    return CheckResult(name, response.status_code == 200, f"{url} {response.status_code}")


async def _wiring(
    client: httpx.AsyncClient, prometheus: str, alertmanager: str, jobs: list[str], within: float
) -> list[CheckResult]:
    """Targets up and Prometheus connected to Alertmanager, each awaited up to `within`."""
    targets = await _until(
        lambda: _json(client, f"{prometheus}/api/v1/targets?state=active"),
        lambda body: not _target_problems(body["data"]["activeTargets"], jobs),
        within,
    )
    active = targets["data"]["activeTargets"]
    problems = _target_problems(active, jobs)
    detail = "; ".join(problems) if problems else f"{len(active)} targets up"
    host = alertmanager.split("://", 1)[-1]
    connected = await _until(
        lambda: _json(client, f"{prometheus}/api/v1/alertmanagers"),
        lambda body: any(host in a["url"] for a in body["data"]["activeAlertmanagers"]),
        within,
    )
    linked = any(host in a["url"] for a in connected["data"]["activeAlertmanagers"])
    return [
        CheckResult("prometheus targets up", not problems, detail),
        CheckResult("prometheus sends alerts to alertmanager", linked, alertmanager),
    ]


async def check_observability(
    prometheus_url: str,
    alertmanager_url: str,
    *,
    gateway_url: str | None = None,
    token: str | None = None,
    expected_jobs: Iterable[str] = SERVICES,
    targets_timeout: float = 30.0,
    alert_timeout: float | None = None,
) -> list[CheckResult]:
    """The observability checks of the gate; the alert check runs only with `gateway_url`."""
    prometheus, alertmanager = prometheus_url.rstrip("/"), alertmanager_url.rstrip("/")
    async with httpx.AsyncClient(timeout=5.0) as client:
        results = [
            await _ready(client, "prometheus ready", prometheus),
            await _ready(client, "alertmanager ready", alertmanager),
        ]
        if not results[0].ok:
            return results
        try:
            rules = _rules(await _json(client, f"{prometheus}/api/v1/rules"))
            missing = [a for a in ALERTS if a not in rules]
            detail = f"missing {', '.join(missing)}" if missing else f"{len(ALERTS)} rules"
            results.append(CheckResult("alert rules loaded", not missing, detail))
            results += await _wiring(
                client, prometheus, alertmanager, list(expected_jobs), targets_timeout
            )
            if gateway_url and results[1].ok:
                results.append(
                    await _alert_fires(
                        client,
                        prometheus,
                        alertmanager,
                        gateway_url.rstrip("/"),
                        rules,
                        token,
                        alert_timeout,
                    )
                )
        except httpx.HTTPError as error:
            results.append(CheckResult("observability API", False, repr(error)))
    return results
