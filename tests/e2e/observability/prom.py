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
