"""Small helpers of the observability e2e tests: run `odto load`, read Prometheus."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
from tests.binaries import need_binary

SCRAPE_JOBS = ("gateway", "processor", "metrics-engine", "read-model", "web")


def need_prometheus_and_alertmanager() -> None:
    need_binary("prometheus")
    need_binary("prometheus-alertmanager", "alertmanager")


def odto_load(log: Path, *argv: str) -> subprocess.Popen[str]:
    """Start `odto load` (the real CLI) in the background; its output goes to `log`."""
    with log.open("w") as sink:
        return subprocess.Popen(
            [sys.executable, "-m", "observatory.interfaces.cli.main", "load", *argv],
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
        )


def query(prometheus_url: str, expr: str) -> list[dict[str, Any]]:
    """The instant vector of `expr` now (raises on a query error)."""
    response = httpx.get(f"{prometheus_url}/api/v1/query", params={"query": expr}, timeout=10)
    body = response.json()
    if body.get("status") != "success":
        raise AssertionError(f"{expr}: {body.get('error', body)}")
    if body["data"]["resultType"] == "scalar":
        return [{"metric": {}, "value": body["data"]["result"]}]
    return list(body["data"]["result"])


def has_number(result: list[dict[str, Any]]) -> bool:
    """True when a sample is a real number (a quantile over no traffic is NaN)."""
    return any(not math.isnan(float(sample["value"][1])) for sample in result)


def active_alerts(alertmanager_url: str, name: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{alertmanager_url}/api/v2/alerts", params={"filter": f"alertname={name}"}, timeout=5
    )
    return [a for a in response.json() if a["status"]["state"] == "active"]


def targets_up(prometheus_url: str, jobs: int) -> bool:
    """True once Prometheus has scraped `jobs` targets and every one answered."""
    body = httpx.get(f"{prometheus_url}/api/v1/targets", timeout=5).json()
    active = body["data"]["activeTargets"]
    return len(active) == jobs and all(t["health"] == "up" for t in active)


def alert_diagnosis(prometheus_url: str, name: str, load_log: Path) -> str:
    """What Prometheus knows of rule `name` and its inputs, and what the load printed:
    the message of a failed wait for that alert."""
    rules = httpx.get(f"{prometheus_url}/api/v1/rules", timeout=5).json()["data"]["groups"]
    states = [
        (r.get("state"), r.get("health"), r.get("lastError"), r.get("alerts"))
        for group in rules
        for r in group["rules"]
        if r.get("name") == name
    ]
    samples = {
        expr: [(s["metric"], s["value"][1]) for s in query(prometheus_url, expr)]
        for expr in (
            "up",
            "sum(processor_jobs_failed_total)",
            "sum(processor_jobs_completed_total)",
        )
    }
    log = load_log.read_text() if load_log.exists() else "(no load log)"
    return f"rule {name}: {states}\nsamples: {samples}\nload log:\n{log[-2000:]}"
