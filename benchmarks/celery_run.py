"""The Celery baseline, driven by the same open-loop / flat-out schedule as our system.

Celery's `apply_async` blocks (with publisher confirms it waits for each confirm), so the
generator here is a pool of threads, each sending its share of the schedule. Completions
are counted from the stores: rows in PostgreSQL for the insert task, result documents in
Redis (`date_done`) for the no-op task.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import orjson
import redis.asyncio as aioredis
from celery import Celery  # type: ignore[import-untyped]  # celery ships no type information

from benchmarks.celery_app import TABLE_SQL, make_app, queue_name
from benchmarks.loadgen import LoadResult, Shot, iso_ms
from benchmarks.pipeline import abort_over
from benchmarks.procs import BIN, Sampler, Service, spawn, stop_all
from benchmarks.stacks import new_namespace
from benchmarks.stores import Backends, delete_rabbit, delete_redis_prefix, drop_schema

THREADS = 16


def _publish(task: Any, result: LoadResult, due: float, sink: list[Shot]) -> None:
    try:
        task.apply_async(args=[str(uuid.uuid4()), iso_ms(result.wall(due))])
        status = 202
    except Exception:  # a failed publish is counted, not fatal
        status = 0
    sink.append(Shot(due, time.monotonic(), status))


def run_threads(
    task: Any, *, rate: float | None, duration: float, gate: threading.Event, threads: int = THREADS
) -> LoadResult:
    """Open loop (`rate`) or flat out (`rate` None) for `duration` seconds, `threads` senders."""
    result = LoadResult(time.monotonic(), datetime.now(UTC))
    start, end = result.mono_start, result.mono_start + duration
    sinks: list[list[Shot]] = [[] for _ in range(threads)]
    lags = [0.0] * threads
    aborted: list[float | None] = [None] * threads

    def open_loop(k: int) -> None:
        assert rate is not None
        for index in range(k, int(rate * duration), threads):
            due = start + index / rate
            if not gate.is_set():  # the queue grew past the abort mark: not sustained
                aborted[k] = due
                return
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                lags[k] = max(lags[k], -delay)
            _publish(task, result, due, sinks[k])

    def flat(k: int) -> None:
        while True:
            gate.wait()
            due = time.monotonic()
            if due >= end:
                return
            _publish(task, result, due, sinks[k])

    workers = [
        threading.Thread(target=open_loop if rate else flat, args=(k,)) for k in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for sink in sinks:
        result.shots += sink
    result.shots.sort(key=lambda s: s.due)
    result.accepted = sum(1 for s in result.shots if s.status == 202)
    result.max_lag = max(lags)
    stops = [a for a in aborted if a is not None]
    result.aborted_at = min(stops) if stops else None
    return result


@dataclass
class CeleryStack:
    """A Celery worker (prefork x2) under its own namespace, and the client app."""

    backends: Backends
    log_dir: Path
    ns: str = field(default_factory=lambda: new_namespace("celery"))
    worker: Service | None = None
    app: Celery | None = None
    sampler: Sampler | None = None
    pg: asyncpg.Connection | None = None
    redis: aioredis.Redis | None = None
    rabbit: Any = None
    published: int = 0
    published_noop: int = 0

    @property
    def queue(self) -> str:
        return queue_name(self.ns)

    async def start(self, concurrency: int = 2) -> None:
        self.pg = await asyncpg.connect(self.backends.postgres)
        await self.pg.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.ns}"')
        await self.pg.execute(TABLE_SQL.format(ns=self.ns))
        self.redis = aioredis.Redis.from_url(self.backends.redis)
        self.rabbit = await aio_pika.connect(self.backends.rabbitmq)
        env = {
            "BENCH_NS": self.ns,
            "BENCH_BROKER": self.backends.rabbitmq,
            "BENCH_BACKEND": self.backends.redis,
            "BENCH_POSTGRES": self.backends.postgres,
        }
        argv = [
            str(BIN / "celery"),
            "-A",
            "benchmarks.celery_app",
            "worker",
            "--pool",
            "prefork",
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel",
            "WARNING",
            "-Q",
            self.queue,
            "-n",
            f"{self.ns}@%h",
        ]
        self.worker = spawn("celery-worker", argv, env, self.log_dir)
        self.app = make_app(
            self.ns, self.backends.rabbitmq, self.backends.redis, self.backends.postgres
        )
        await self._wait_consuming()
        self.sampler = Sampler([self.worker])
        self.sampler.start()

    async def _wait_consuming(self, within: float = 90.0) -> None:
        deadline = time.monotonic() + within
        while True:
            assert self.worker is not None
            if not self.worker.alive():
                raise RuntimeError(f"celery worker exited:\n{self.worker.log_tail()}")
            if await self.consumers() >= 1:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"celery worker not consuming:\n{self.worker.log_tail()}")
            await asyncio.sleep(0.5)

    async def _declared(self, name: str) -> Any:
        channel = await self.rabbit.channel()
        try:
            return (await channel.declare_queue(name, passive=True)).declaration_result
        except aio_pika.exceptions.ChannelClosed:
            return None
        finally:
            with contextlib.suppress(Exception):
                await channel.close()

    async def consumers(self) -> int:
        declared = await self._declared(self.queue)
        return int(declared.consumer_count or 0) if declared else 0

    async def depth(self) -> int:
        declared = await self._declared(self.queue)
        return int(declared.message_count or 0) if declared else 0

    def task(self, name: str) -> Any:
        assert self.app is not None
        return self.app.tasks[name]

    async def rows(self) -> int:
        assert self.pg is not None
        return int(await self.pg.fetchval(f'SELECT count(*) FROM "{self.ns}".celery_jobs'))

    async def rows_between(self, start: datetime, end: datetime) -> int:
        assert self.pg is not None
        return int(
            await self.pg.fetchval(
                f'SELECT count(*) FROM "{self.ns}".celery_jobs'
                " WHERE done_at >= $1 AND done_at < $2",
                start,
                end,
            )
        )

    async def results_done(self) -> list[datetime]:
        """date_done of every stored result (no-op tasks) in this namespace."""
        assert self.redis is not None
        keys = [
            k async for k in self.redis.scan_iter(match=f"{self.ns}:celery-task-meta-*", count=5000)
        ]
        stamps: list[datetime] = []
        for i in range(0, len(keys), 2000):
            for raw in await self.redis.mget(keys[i : i + 2000]):
                if raw:
                    done = datetime.fromisoformat(orjson.loads(raw)["date_done"])
                    stamps.append(done if done.tzinfo else done.replace(tzinfo=UTC))
        return stamps

    async def stop(self) -> None:
        if self.sampler:
            await self.sampler.stop()
        if self.worker:
            stop_all([self.worker])
        if self.rabbit:
            await self.rabbit.close()
        if self.pg:
            await self.pg.close()
        if self.redis:
            await self.redis.aclose()
        await delete_rabbit(
            self.backends.rabbitmq,
            [self.queue, self.queue + ".ceiling"],
            [self.queue, self.queue + ".ceiling"],
        )
        await delete_redis_prefix(self.backends.redis, f"{self.ns}:")
        await drop_schema(self.backends.postgres, self.ns)


async def gated_run(
    stack: CeleryStack, task_name: str, *, rate: float | None, duration: float, backlog_limit: int
) -> LoadResult:
    """Run the threads; flat out, hold them while the queue holds more than `backlog_limit`;
    open loop, stop once it holds more than abort_over(rate)."""
    limit = abort_over(rate) if rate else backlog_limit
    gate = threading.Event()
    gate.set()
    stop = asyncio.Event()

    async def watch() -> None:
        while not stop.is_set():
            if await stack.depth() > limit:
                gate.clear()
            else:
                gate.set()
            await asyncio.sleep(0.1)

    watcher = asyncio.create_task(watch())
    try:
        return await asyncio.to_thread(
            run_threads, stack.task(task_name), rate=rate, duration=duration, gate=gate
        )
    finally:
        stop.set()
        gate.set()
        await watcher


async def client_ceiling(stack: CeleryStack, duration: float) -> float:
    """apply_async/s flat out into a queue nobody consumes (then deleted)."""
    assert stack.app is not None
    task = stack.task("bench.noop").s().set(queue=stack.queue + ".ceiling")
    gate = threading.Event()
    gate.set()

    class Sig:
        def apply_async(self, args: list[str]) -> None:
            task.apply_async(args=args)

    result = await asyncio.to_thread(run_threads, Sig(), rate=None, duration=duration, gate=gate)
    await delete_rabbit(
        stack.backends.rabbitmq, [stack.queue + ".ceiling"], [stack.queue + ".ceiling"]
    )
    return round(result.accepted / duration, 1)
