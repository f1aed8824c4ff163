"""Reading the stores (completions are counted there, not from logs) and cleaning a
namespace afterwards: its PostgreSQL schema, RabbitMQ queues and exchange, Redis keys."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import redis.asyncio as aioredis

from observatory.core.bus.topology import Names

DELAY_TIERS = tuple(2**n for n in range(12))
COMPLETED_KEY = "metrics:jobs:completed"
TOTAL_KEY = "metrics:jobs:total"


@dataclass(frozen=True)
class Backends:
    rabbitmq: str
    postgres: str
    redis: str

    def env(self) -> dict[str, str]:
        return {
            "RABBITMQ_URL": self.rabbitmq,
            "POSTGRES_URL": self.postgres,
            "REDIS_URL": self.redis,
        }


LOCAL_BACKENDS = {
    "rabbitmq": ("RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/"),
    "postgres": ("POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    "redis": ("REDIS_URL", "redis://127.0.0.1:6379/0"),
}
"""Each backend's variable and, when it is unset, the local development server's URL."""


def add_backend_options(parser: argparse.ArgumentParser, *names: str) -> None:
    """`--rabbitmq-url`, `--postgres-url`, `--redis-url` (those of `names`, default all),
    each defaulting to its variable or the local server (LOCAL_BACKENDS)."""
    for name in names or tuple(LOCAL_BACKENDS):
        variable, local = LOCAL_BACKENDS[name]
        parser.add_argument(f"--{name}-url", default=os.environ.get(variable, local))


@dataclass
class Tally:
    """Rows and counters of one namespace at one moment."""

    rows: int
    completed_rows: int
    redis_completed: int
    redis_total: int


@dataclass
class Latency:
    count: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


LATENCY_SQL = """
SELECT count(*) AS n,
       percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY d) AS p,
       max(d) AS worst
FROM (SELECT extract(epoch FROM completed_at - created_at) * 1000 AS d
      FROM {table} WHERE status = 'COMPLETED' AND created_at >= $1 AND created_at < $2) AS t
"""


# Where a completed job's time went: accepted -> its (last) attempt started in the
# processor (publish, queue, the processor's batch gathering and begin), and attempt
# started -> completed (the work and the batch's finish).
STAGES_SQL = """
SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY w) AS waited,
       percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY r) AS ran
FROM (SELECT extract(epoch FROM a.started_at - j.created_at) * 1000 AS w,
             extract(epoch FROM j.completed_at - a.started_at) * 1000 AS r
      FROM {table} j JOIN {attempts} a ON a.job_id = j.id AND a.attempt = j.attempts
      WHERE j.status = 'COMPLETED' AND j.created_at >= $1 AND j.created_at < $2) AS t
"""


class RealStores:
    """The namespace's PostgreSQL schema and Redis keys, read directly."""

    def __init__(self, backends: Backends, namespace: str) -> None:
        self.backends, self.ns = backends, namespace
        self.pg: asyncpg.Connection | None = None
        self.redis = aioredis.Redis.from_url(backends.redis, decode_responses=True)

    async def open(self) -> None:
        self.pg = await asyncpg.connect(self.backends.postgres)

    @property
    def jobs(self) -> str:
        return f'"{self.ns}".jobs'

    async def redis_completed(self) -> int:
        return int(await self.redis.get(f"{self.ns}:{COMPLETED_KEY}") or 0)

    async def tally(self) -> Tally:
        assert self.pg is not None
        try:
            row = await self.pg.fetchrow(
                "SELECT count(*) AS n, count(*) FILTER (WHERE status = 'COMPLETED') AS c"
                f" FROM {self.jobs}"
            )
            rows, completed = int(row["n"]), int(row["c"])
        except asyncpg.UndefinedTableError:
            rows = completed = 0
        done, total = await self.redis.mget(f"{self.ns}:{COMPLETED_KEY}", f"{self.ns}:{TOTAL_KEY}")
        return Tally(rows, completed, int(done or 0), int(total or 0))

    async def completed_between(self, start: datetime, end: datetime) -> int:
        assert self.pg is not None
        value = await self.pg.fetchval(
            f"SELECT count(*) FROM {self.jobs} WHERE status = 'COMPLETED'"
            " AND completed_at >= $1 AND completed_at < $2",
            start,
            end,
        )
        return int(value)

    async def completed_at(self, ids: list[str]) -> dict[str, datetime]:
        """completed_at of those of `ids` that are COMPLETED (the job.completed event's
        occurredAt: the processor stamps both with one clock reading)."""
        assert self.pg is not None
        rows = await self.pg.fetch(
            f"SELECT id::text AS id, completed_at FROM {self.jobs}"
            " WHERE id = ANY($1::uuid[]) AND status = 'COMPLETED'",
            ids,
        )
        return {row["id"]: row["completed_at"] for row in rows}

    async def latency(self, start: datetime, end: datetime) -> Latency:
        """completed_at - created_at of the jobs created in [start, end)."""
        assert self.pg is not None
        row = await self.pg.fetchrow(LATENCY_SQL.format(table=self.jobs), start, end)
        p = row["p"] or [float("nan")] * 3
        return Latency(
            int(row["n"]), float(p[0]), float(p[1]), float(p[2]), float(row["worst"] or "nan")
        )

    async def stages(self, start: datetime, end: datetime) -> dict[str, list[float]]:
        """p50 and p99 (ms) of accepted -> started and started -> completed, for the jobs
        created in [start, end) (STAGES_SQL)."""
        assert self.pg is not None
        attempts = f'"{self.ns}".job_attempts'
        row = await self.pg.fetchrow(
            STAGES_SQL.format(table=self.jobs, attempts=attempts), start, end
        )
        return {k: [round(float(v), 1) for v in row[k] or ()] for k in ("waited", "ran")}

    async def batches(self, start: datetime, end: datetime) -> dict[str, float]:
        """Jobs per processor batch in [start, end): a batch's jobs share one completed_at."""
        assert self.pg is not None
        row = await self.pg.fetchrow(
            "SELECT count(*) AS batches, avg(n) AS mean,"
            " percentile_disc(0.5) WITHIN GROUP (ORDER BY n) AS p50, max(n) AS biggest"
            f" FROM (SELECT count(*) AS n FROM {self.jobs} WHERE status = 'COMPLETED'"
            " AND completed_at >= $1 AND completed_at < $2 GROUP BY completed_at) AS b",
            start,
            end,
        )
        return {
            "batches": int(row["batches"]),
            "mean": round(float(row["mean"] or 0), 1),
            "p50": int(row["p50"] or 0),
            "max": int(row["biggest"] or 0),
        }

    async def close(self) -> None:
        if self.pg is not None:
            await self.pg.close()
        await self.redis.aclose()


async def queue_depths(url: str, queues: list[str]) -> dict[str, int]:
    """Messages ready in each queue (passive declare; a missing queue counts -1)."""
    depths: dict[str, int] = {}
    connection = await aio_pika.connect(url)
    async with connection:
        for name in queues:
            channel = await connection.channel()
            try:
                declared = await channel.declare_queue(name, passive=True)
                depths[name] = int(declared.declaration_result.message_count or 0)
            except aio_pika.exceptions.ChannelClosed:
                depths[name] = -1
            with contextlib.suppress(Exception):
                await channel.close()
    return depths


async def delete_rabbit(url: str, queues: list[str], exchanges: list[str]) -> None:
    """Delete queues and exchanges; ones that do not exist are fine."""
    connection = await aio_pika.connect(url)
    async with connection:
        for name in queues:
            channel = await connection.channel()
            with contextlib.suppress(Exception):
                await channel.queue_delete(name)
            with contextlib.suppress(Exception):
                await channel.close()
        for name in exchanges:
            channel = await connection.channel()
            with contextlib.suppress(Exception):
                await channel.exchange_delete(name)
            with contextlib.suppress(Exception):
                await channel.close()


def namespace_queues(ns: str) -> list[str]:
    """Every queue a namespace's services may have declared: the topology's, and the delay
    queues of each (classic tiers `<queue>.delay.<n>s`, quorum's `<queue>.delay`): the
    metrics engine delays re-checks of lifecycle queues too, not only jobs.created."""
    queues = []
    for queue in Names(ns).all_queues():
        queues += [queue, f"{queue}.delay", *(f"{queue}.delay.{tier}s" for tier in DELAY_TIERS)]
    return queues


async def delete_redis_prefix(url: str, prefix: str) -> int:
    client = aioredis.Redis.from_url(url)
    deleted = 0
    try:
        batch: list[Any] = []
        async for key in client.scan_iter(match=f"{prefix}*", count=5000):
            batch.append(key)
            if len(batch) >= 5000:
                deleted += await client.unlink(*batch)
                batch = []
        if batch:
            deleted += await client.unlink(*batch)
    finally:
        await client.aclose()
    return deleted


async def checkpoint(url: str) -> bool:
    """A PostgreSQL CHECKPOINT now; False when the role may not (it needs superuser or
    pg_checkpoint).

    PostgreSQL starts a checkpoint whenever max_wal_size of WAL has been written (here
    every ~90 s under load), and the first change of each page after one writes the whole
    page to the WAL, so runs of a few seconds fall at different points of that cycle. A
    checkpoint before each run puts every run at the same point of it."""
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("CHECKPOINT")
    except asyncpg.exceptions.InsufficientPrivilegeError:
        return False
    finally:
        await conn.close()
    return True


async def drop_schema(url: str, schema: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await conn.close()


async def clean_namespace(backends: Backends, ns: str) -> None:
    """Everything an `odto serve` stack under namespace `ns` left behind."""
    await delete_rabbit(backends.rabbitmq, namespace_queues(ns), [Names(ns).exchange])
    await delete_redis_prefix(backends.redis, f"{ns}:")
    await drop_schema(backends.postgres, ns)


class EmbeddedStores:
    """The embedded profile's SQLite files, opened read-only."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir

    def _query(self, file: str, sql: str, *args: Any) -> list[Any]:
        path = self.data_dir / file
        if not path.exists():
            return []
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            return conn.execute(sql, args).fetchall()
        except sqlite3.OperationalError:
            return []
        finally:
            conn.close()

    def counter(self, name: str) -> int:
        rows = self._query("counters.sqlite3", "SELECT value FROM counters WHERE name = ?", name)
        return int(rows[0][0]) if rows else 0

    async def completed(self) -> int:
        return await asyncio.to_thread(self.counter, "completed")

    def tally(self) -> Tally:
        rows = self._query("jobs.sqlite3", "SELECT count(*), sum(status = 'COMPLETED') FROM jobs")
        n, c = rows[0] if rows else (0, 0)
        return Tally(int(n or 0), int(c or 0), self.counter("completed"), self.counter("total"))

    def completed_between(self, start: str, end: str) -> int:
        rows = self._query(
            "jobs.sqlite3",
            "SELECT count(*) FROM jobs WHERE status = 'COMPLETED'"
            " AND completed_at >= ? AND completed_at < ?",
            start,
            end,
        )
        return int(rows[0][0]) if rows else 0
