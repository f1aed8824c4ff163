"""`python -m benchmarks --smoke` runs the whole harness with tiny windows against the real
RabbitMQ/PostgreSQL/Redis: it must print one JSON line with every figure's key, find
every accepted job completed exactly once, get the expected answers from the read model
over its (small) data set, see every job reach the screens, and leave nothing behind. It
checks the harness, not the speed: no figure is compared with anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import pytest
import redis

ROOT = Path(__file__).resolve().parents[3]
KEYS = {
    "benchmark",
    "version",
    "date",
    "mode",
    "machine",
    "generator",
    "celeryClientCeilingPerS",
    "gateway",
    "latency",
    "e2eOpenLoop",
    "e2eFlatOut",
    "e2eJobsPerS",
    "e2eNoPendingRows",
    "e2eWithMetadata",
    "e2eEventBundles",
    "variants",
    "embedded",
    "celeryInsert",
    "celeryInsertPerS",
    "celeryNoop",
    "celeryNoopPerS",
    "peakRssMb",
    "screen",
    "readModel",
    "traced",
    "verified",
    "bars",
    "namespaces",
}
SMOKE_READMODEL_JOBS = 2_000
CHROMIUM = Path(os.environ.get("ODTO_CHROMIUM", "/usr/bin/chromium"))

pytestmark = pytest.mark.slow


def _check_read_model(rm: dict[str, Any]) -> None:
    """The data set has the asked size (5 events a job) and every route answered as expected."""
    assert rm["jobs"] == SMOKE_READMODEL_JOBS
    assert rm["events"] == 5 * SMOKE_READMODEL_JOBS
    assert sum(rm["statuses"].values()) == SMOKE_READMODEL_JOBS
    assert rm["loadS"] >= 0
    # the load leaves what it filled vacuumed: index-only scans read no row
    filled = ("jobs", "job_attempts", "job_events", "job_meta", "job_meta_final")
    assert {t: rm["allVisiblePct"].get(t) for t in filled} == dict.fromkeys(filled, 100.0)
    # and its writes on disk (a CHECKPOINT, where the role may)
    assert {"checkpoint", "checkpointRefused"} & set(rm["loadStepsS"]), rm["loadStepsS"]
    assert rm["answersOk"], rm["routes"]
    routes = {r["route"] for r in rm["routes"]}
    assert {"/stats", "/jobs?status=", "/events?jobId=", "/jobs/{id}"} <= routes
    assert {"/stats/series?window=24h", "/stats/series?window=6h&step=1m"} <= routes
    assert rm["seriesEffects"] > 0
    assert "/jobs?status=FAILED&cursor=" in routes  # a page reached through a cursor
    assert all(r["ok"] == r["sent"] > 0 for r in rm["routes"]), rm["routes"]


def _check_screen(screen: dict[str, Any]) -> None:
    """Every submitted job completed and was seen on the TUI and the read model's stream
    (and on the dashboard, when Chromium is there to open it)."""
    assert screen["completed"] == screen["jobs"] > 0
    assert screen["tui"]["seen"] == screen["jobs"], screen
    assert screen["stream"]["seen"] == screen["jobs"], screen  # the read model's push
    if CHROMIUM.exists():
        assert screen["dashboard"]["seen"] == screen["jobs"], screen
        assert screen["allSeen"], screen
    else:
        assert "skipped" in screen["dashboard"]


async def _schemas(postgres_url: str, names: list[str]) -> list[str]:
    conn = await asyncpg.connect(postgres_url)
    try:
        rows = await conn.fetch(
            "SELECT schema_name FROM information_schema.schemata WHERE schema_name = ANY($1)", names
        )
    finally:
        await conn.close()
    return [row["schema_name"] for row in rows]


async def _queues_left(rabbitmq_url: str, names: list[str]) -> list[str]:
    left = []
    connection = await aio_pika.connect(rabbitmq_url)
    async with connection:
        for name in names:
            channel = await connection.channel()
            try:
                await channel.declare_queue(name, passive=True)
                left.append(name)
            except aio_pika.exceptions.ChannelClosed:
                pass
    return left


@pytest.mark.timeout(420)  # the whole harness, tiny windows, plus a browser and a TUI
async def test_smoke_run_prints_every_figure_and_cleans_up(
    rabbitmq_url: str, postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    command = [
        sys.executable,
        "-m",
        "benchmarks",
        "--smoke",
        "--json-only",
        "--scenarios",
        "ceiling,gateway,embedded,latency,e2e,pending,jobmeta,bundles,celery,screen,readmodel,traced",
        "--gateway-processes",
        "1",
        "--rates",
        "100",
        "--readmodel-jobs",
        str(SMOKE_READMODEL_JOBS),
        "--rabbitmq-url",
        rabbitmq_url,
        "--postgres-url",
        postgres_url,
        "--redis-url",
        redis_url,
        "--log-dir",
        str(tmp_path / "logs"),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]

    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary.keys() >= KEYS
    assert summary["mode"] == "smoke"
    for name in (
        "e2e",
        "embedded",
        "celery",
        "e2eNoPendingRows",
        "e2eWithMetadata",
        "e2eEventBundles",
        "traced",
    ):
        assert summary["verified"][name]["ok"], summary["verified"][name]
    assert summary["verified"]["e2e"]["accepted"] > 0
    assert summary["verified"]["embedded"]["accepted"] > 0
    assert summary["verified"]["celery"]["rows"] > 0
    assert summary["gateway"][0]["verified"]
    assert {"gateway", "processor", "metrics-engine", "read-model"} <= summary["peakRssMb"].keys()
    # the variants ran beside e2e, each its headline runs, compared in the same invocation
    for key in ("e2eNoPendingRows", "e2eWithMetadata", "e2eEventBundles"):
        assert len(summary[key]) == 1
        assert summary["variants"][key]["jobsPerS"] == summary[key][0]["jobsPerS"]
    assert len(summary["bars"]) == 10
    # every scenario run here has a verdict; job search has its own smoke test
    # (test_search_smoke.py), so its bar says it was not run
    ran = [row for row in summary["bars"] if not row["figure"].startswith("Job search")]
    assert len(ran) == 9
    tracing = summary["traced"]
    assert set(tracing["lossPct"]) == {"traced 100 %", "traced 1 %"}
    assert all(run["traceFileMb"] > 0 for run in tracing["runs"]["traced 100 %"])
    # each run on a real stack counts the events the metrics engine put back
    flat_runs = [*summary["e2eFlatOut"], *(r for rs in tracing["runs"].values() for r in rs)]
    assert all(isinstance(run["deferredEvents"], int) for run in flat_runs)
    assert all(row["first"] in {"PASS", "MISS"} for row in ran), summary["bars"]
    assert [row["first"] for row in summary["bars"] if row not in ran] == ["n/a"]
    _check_read_model(summary["readModel"])
    _check_screen(summary["screen"])

    namespaces = summary["namespaces"]
    assert summary["readModel"]["namespace"] in namespaces
    assert summary["screen"]["namespace"] in namespaces
    assert await _schemas(postgres_url, namespaces) == []
    queues = [f"{ns}.jobs.created" for ns in namespaces] + [f"{ns}.celery" for ns in namespaces]
    assert await _queues_left(rabbitmq_url, queues) == []
    client = redis.Redis.from_url(redis_url)
    try:
        for ns in namespaces:
            assert not list(client.scan_iter(match=f"{ns}:*", count=1000))
    finally:
        client.close()
