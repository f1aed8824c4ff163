"""`python -m benchmarks --smoke --scenarios search` against the real PostgreSQL/Redis: the
job-search scenario loads its (small) data set, gets the expected answer to every search
with and without the search indexes, and leaves no schema behind. It checks the harness,
not the speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

ROOT = Path(__file__).resolve().parents[3]
JOBS = 2_000

pytestmark = pytest.mark.slow


@pytest.mark.timeout(300)
async def test_search_smoke_run_answers_every_search_and_cleans_up(
    postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    command = [
        sys.executable,
        "-m",
        "benchmarks",
        "--smoke",
        "--json-only",
        "--scenarios",
        "search",
        "--readmodel-jobs",
        str(JOBS),
        "--postgres-url",
        postgres_url,
        "--redis-url",
        redis_url,
        "--log-dir",
        str(tmp_path / "logs"),
    ]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=280)
    assert done.returncode == 0, done.stderr[-3000:]

    search = json.loads(done.stdout.strip().splitlines()[-1])["search"]
    assert search["jobs"] == JOBS
    assert search["answersOk"], search["routes"]
    # the load leaves what it filled vacuumed: a metadata search reads job_meta alone
    filled = search["allVisiblePct"]
    tables = ("jobs", "job_meta", "job_meta_final")
    assert {t: filled.get(t) for t in tables} == dict.fromkeys(tables, 100.0), filled
    names = {r["route"] for r in search["routes"]}
    assert {"type", "status", "idPrefix (4 hex)", "error", "meta.tenant"} <= names
    assert any(name.startswith("deep page") for name in names)
    for closed in (search["closedWithIndexes"], search["closedWithoutIndexes"]):
        assert [r["route"] for r in closed] == [r["route"] for r in search["routes"]]
        assert all(r["failures"] == 0 and r["requests"] > 0 for r in closed), closed
    assert {"job_meta_pkey", "job_meta_final_pkey"} <= set(search["droppedForBaseline"])

    conn = await asyncpg.connect(postgres_url)
    try:
        left = await conn.fetchval(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1",
            search["namespace"],
        )
    finally:
        await conn.close()
    assert left == 0
