"""Scenario `search`: job search (`GET /jobs` filters, SPEC §13) on the read model at
1,000,000 jobs, against the same searches without the search indexes, in one run.

`odto serve read-model` alone on real backends under a fresh namespace (its PostgreSQL
schema, migrated by the service, dropped at the end with the namespace); the `jobs`
table filled inside PostgreSQL by `benchmarks/dataset.py` (jobs only: a search reads
nothing else) with 20 types, 30 days of created_at, 500 tenants and 5 regions in
metadata, and eight failure reasons in FAILED jobs' errors. Then, per search, an open
loop of GETs (`readmodel.measure`: each request another random value, latency from due
time to last byte, every answer checked), and a closed loop (one request at a time)
with the search indexes and again after dropping them (migration jobs_0003's indexes,
job_meta's and job_meta_final's keys: the baseline is the search as the old indexes
alone would serve it).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx

from benchmarks import dataset, loadgen
from benchmarks.readmodel import PAGE, ReadModelPlan, Route, judged, measure
from benchmarks.stacks import RealStack
from benchmarks.stores import Backends

Log = Callable[[str], None]
SEARCH_INDEXES = (
    "jobs_updated_idx",
    "jobs_status_type_created_idx",
    "jobs_error_trgm_idx",
    "job_meta_pkey",  # job_meta's only index: the table is then read whole
    "job_meta_final_pkey",  # the same for the pairs under a final status
)
ERROR_WORDS = ("disk full", "payment-api", "DEADLOCK", "reset by peer", "bucket exports")
CLOSED_REQUESTS = 60  # per search and index set, or CLOSED_BUDGET_S, whichever ends first
CLOSED_BUDGET_S = 6.0
DEEP_ROWS = 20_000  # how deep the cursor walks go


def _t(moment: datetime) -> str:
    return quote(moment.strftime("%Y-%m-%dT%H:%M:%S.000Z"))


def searches(
    jobs: int, newest: datetime, deep: dict[str, list[str]], rng: random.Random
) -> list[Route]:
    """Each filter alone, combinations, and pages deep behind a cursor."""
    oldest = newest - timedelta(days=dataset.DAYS)

    def moment() -> datetime:
        return oldest + timedelta(seconds=rng.uniform(0, dataset.DAYS * 86_400 - 86_400))

    def day() -> str:
        start = moment()
        return f"from={_t(start)}&to={_t(start + timedelta(days=1))}"

    def hour() -> str:
        start = moment()
        return f"updatedFrom={_t(start)}&updatedTo={_t(start + timedelta(hours=1))}"

    def kind() -> str:
        return rng.choice(dataset.TYPES)

    def tenant() -> str:
        return f"meta.tenant=tenant-{rng.randrange(dataset.TENANTS)}"

    def word() -> str:
        return quote(rng.choice(ERROR_WORDS))

    def any_rows(d: Any) -> bool:
        return isinstance(d["items"], list)

    def some_rows(d: Any) -> bool:
        return len(d["items"]) > 0

    found = [
        Route("type", lambda: f"/jobs?type={kind()}", some_rows),
        Route("status", lambda: f"/jobs?status={rng.choice(dataset.STATUSES)}", some_rows),
        Route(
            "idPrefix (4 hex)",
            lambda: f"/jobs?idPrefix={dataset.job_id(rng.randint(1, jobs))[:4]}",
            some_rows,
        ),
        Route("from+to (1 day)", lambda: f"/jobs?{day()}", some_rows),
        Route("updatedFrom+To (1 h)", lambda: f"/jobs?{hour()}", some_rows),
        Route("error", lambda: f"/jobs?error={word()}", some_rows),
        Route("meta.tenant", lambda: f"/jobs?{tenant()}", some_rows),
        Route("status+type", lambda: f"/jobs?status=FAILED&type={kind()}", some_rows),
        Route(
            "type+meta.region+from",
            lambda: (
                f"/jobs?type={kind()}&meta.region={rng.choice(dataset.REGIONS)}&from={_t(moment())}"
            ),
            any_rows,
        ),
        Route(
            "status+error+meta.tenant",
            lambda: f"/jobs?status=FAILED&error={word()}&{tenant()}",
            any_rows,
        ),
        Route(
            "all: type+status+from+to+error+meta",
            lambda: (
                f"/jobs?type={kind()}&status=FAILED&{day()}&error={word()}"
                f"&meta.region={rng.choice(dataset.REGIONS)}"
            ),
            any_rows,
        ),
    ]
    for name, cursors in deep.items():
        found.append(Route(f"deep page: {name}", _deep(name, cursors, rng), some_rows))
    return found


def _deep(query: str, cursors: list[str], rng: random.Random) -> Callable[[], str]:
    """A page of `query` behind one of `cursors` (met while walking it), at random."""
    return lambda: f"/jobs?{query}&limit={PAGE}&cursor={rng.choice(cursors)}"


async def walk(url: str, query: str, rows: int) -> list[str]:
    """Cursors met while paging `query` 200 rows at a time down to `rows` deep."""
    cursors: list[str] = []
    cursor = ""
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        while len(cursors) * 200 < rows:
            answer = await client.get(f"/jobs?{query}&limit=200{cursor}")
            answer.raise_for_status()
            next_cursor = answer.json()["nextCursor"]
            if not next_cursor:
                break
            cursors.append(next_cursor)
            cursor = f"&cursor={next_cursor}"
    return cursors[len(cursors) // 2 :]  # the deeper half


async def closed_loop(url: str, route: Route) -> dict[str, Any]:
    """One request at a time: CLOSED_REQUESTS of them or CLOSED_BUDGET_S, first to end."""
    took: list[float] = []
    failures = 0
    deadline = time.monotonic() + CLOSED_BUDGET_S
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        while len(took) + failures < CLOSED_REQUESTS and time.monotonic() < deadline:
            path = route.path()
            began = time.perf_counter()
            answer = await client.get(path)
            elapsed = (time.perf_counter() - began) * 1000
            if answer.status_code == 200 and route.check(answer.json()):
                took.append(elapsed)
            else:
                failures += 1
    p50, p95, p99 = loadgen.percentiles(took)
    return {
        "route": route.name,
        "requests": len(took) + failures,
        "failures": failures,
        "p50Ms": round(p50, 2),
        "p95Ms": round(p95, 2),
        "p99Ms": round(p99, 2),
        "maxMs": round(max(took), 2) if took else None,
    }


async def drop_search_indexes(postgres_url: str, namespace: str) -> list[str]:
    conn = await asyncpg.connect(postgres_url)
    try:
        dropped = []
        for name in SEARCH_INDEXES:
            found = await conn.fetchval(
                "SELECT 1 FROM pg_indexes WHERE schemaname = $1 AND indexname = $2",
                namespace,
                name,
            )
            if found:
                if name.endswith("_pkey"):
                    table = name.removesuffix("_pkey")
                    await conn.execute(
                        f'ALTER TABLE "{namespace}"."{table}" DROP CONSTRAINT "{name}"'
                    )
                else:
                    await conn.execute(f'DROP INDEX "{namespace}"."{name}"')
                dropped.append(name)
        return dropped
    finally:
        await conn.close()


async def prepare(url: str, plan: ReadModelPlan) -> tuple[list[Route], dict[str, list[str]]]:
    """The searches, with cursors for the deep pages walked on the loaded data."""
    deep = {
        query: await walk(url, query, DEEP_ROWS)
        for query in ("status=COMPLETED&type=EMAIL_SEND", "meta.region=eu-west")
    }
    rng = random.Random(plan.seed)
    return searches(plan.jobs, datetime.now(UTC), {k: v for k, v in deep.items() if v}, rng), deep


async def open_loop(
    routes: list[Route], url: str, plan: ReadModelPlan, stack: RealStack, log: Log
) -> list[dict[str, Any]]:
    """Each search in an open loop at the plan's rate, one after the other."""
    measured = []
    for route in routes:
        log(f"search: GET {route.name} at {plan.rate:g}/s")
        measured.append(await measure(route, url, plan, stack))
    return measured


async def searches_on(url: str, plan: ReadModelPlan, stack: RealStack, log: Log) -> dict[str, Any]:
    """The searches' open loops on data another scenario loaded (the read model's scale
    run: one load serves both), with the worst p99 and whether every answer was right."""
    routes, _ = await prepare(url, plan)
    measured = await open_loop(routes, url, plan, stack, log)
    return {"routes": measured, **judged(measured)}


async def run(
    plan: ReadModelPlan, backends: Backends, log_dir: Path, env: dict[str, str], log: Log
) -> dict[str, Any]:
    stack = await RealStack.start(backends, log_dir, kind="se", services=("read-model",), env=env)
    try:
        ns = stack.namespace
        log(f"search: loading {plan.jobs:,} jobs into {ns}")
        loaded = await dataset.load(
            backends.postgres, backends.redis, ns, plan.jobs, only_jobs=True
        )
        took = loaded.as_dict()
        log(f"search: loaded in {took['loadS']:g} s")
        url = stack.url("read-model")
        routes, deep = await prepare(url, plan)
        indexed = await open_loop(routes, url, plan, stack, log)
        closed_with = [await closed_loop(url, route) for route in routes]
        dropped = await drop_search_indexes(backends.postgres, ns)
        log(f"search: baseline without {', '.join(dropped)}")
        closed_without = [await closed_loop(url, route) for route in routes]
    finally:
        await stack.stop()
    return {
        **took,
        "routes": indexed,
        "closedWithIndexes": closed_with,
        "closedWithoutIndexes": closed_without,
        "droppedForBaseline": dropped,
        "deepCursors": {k: len(v) for k, v in deep.items()},
        **judged(indexed),
        "peakRssMb": stack.peak_rss_mb(),
        "namespace": ns,
    }
