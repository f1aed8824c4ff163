"""The load generator: a raw HTTP/1.1 client on asyncio (uvloop) over keep-alive
connections, so that the generator costs little CPU per request. It POSTs jobs to
gateways and GETs pages of the read model (`open_loop_get`).

Open loop: request i is due at start + i/rate whatever happened to earlier ones; when no
connection is free it waits for one, and that wait counts in its latency (no coordinated
omission). Flat out: `connections` senders post back to back. Either way an optional
`backlog` gate pauses sending while too many accepted jobs are still unfinished, so a
flat-out run measures what the pipeline sustains rather than how big a queue can grow.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import orjson

CONNECTION_FAILED = 0  # pseudo status: no answer (refused, reset, cut short)
INVALID_BODY = 1  # pseudo status: the expected status, but the body failed the check


def iso_ms(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def exchange(self, request: bytes) -> tuple[int, bytes, bool]:
        """Send one whole request; (status, body, server closes the connection)."""
        self.writer.write(request)
        header = await self.reader.readuntil(b"\r\n\r\n")
        status = int(header[9:12])
        lower = header.lower()
        body = b""
        at = lower.find(b"content-length:")
        if at >= 0:
            length = int(lower[at + 15 : lower.index(b"\r\n", at)])
            if length:
                body = await self.reader.readexactly(length)
        elif b"transfer-encoding: chunked" in lower:
            body = await self._chunks()
        return status, body, b"connection: close" in lower

    async def _chunks(self) -> bytes:
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            parts.append(await self.reader.readexactly(size + 2))
            if size == 0:
                return b"".join(p[:-2] for p in parts)

    def close(self) -> None:
        self.writer.close()


class Pool:
    """Up to `size` connections to one host:port, opened on demand and kept alive."""

    def __init__(self, url: str, size: int) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = parts.path or "/"
        self.slots = asyncio.Semaphore(size)
        self.idle: list[Connection] = []
        self.head = (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Content-Type: application/json\r\nContent-Length: "
        ).encode()

    async def post(self, body: bytes) -> int:
        """POST `body`; the status code, or 0 when the connection failed."""
        status, _ = await self._send(self.head + str(len(body)).encode() + b"\r\n\r\n" + body)
        return status

    async def get(self, path: str) -> tuple[int, bytes]:
        """GET `path` (with its query string); (status, body), status 0 = connection failed.
        A GET that fails on a kept-alive connection is sent once more on a new one, as
        HTTP clients do: the server may have closed the connection for idleness just as
        the request went out (uvicorn closes one idle for 5 s)."""
        request = f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n\r\n".encode()
        return await self._send(request, retry_stale=True)

    async def _send(self, request: bytes, *, retry_stale: bool = False) -> tuple[int, bytes]:
        async with self.slots:
            conn: Connection | None = self.idle.pop() if self.idle else None
            retry = retry_stale and conn is not None  # once, on a new connection
            while True:
                try:
                    if conn is None:
                        conn = Connection(*await asyncio.open_connection(self.host, self.port))
                    status, body, close = await conn.exchange(request)
                    break
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    if conn is not None:
                        conn.close()
                    if not retry:
                        return CONNECTION_FAILED, b""
                    conn, retry = None, False
            if close:
                conn.close()
            else:
                self.idle.append(conn)
            return status, body

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


@dataclass(slots=True)
class Shot:
    due: float  # monotonic time the request was due
    done: float  # monotonic time the answer arrived
    status: int  # HTTP status, or one of the pseudo statuses above


@dataclass
class LoadResult:
    """Every request's due time, answer time and status; clock anchors to convert."""

    mono_start: float
    wall_start: datetime
    shots: list[Shot] = field(default_factory=list)
    expect: int = 202  # the status that counts as success (202 accepted, 200 for GETs)
    accepted: int = 0  # answers with `expect` so far
    paused: float = 0.0  # seconds the backlog gate held sending
    gate_errors: int = 0  # backlog polls that failed (the gate kept its last state)
    max_lag: float = 0.0  # worst lateness of an open-loop send against its schedule
    aborted_at: float | None = None  # open loop stopped here: the backlog grew too large

    def record(self, due: float, status: int) -> None:
        self.shots.append(Shot(due, time.monotonic(), status))
        if status == self.expect:
            self.accepted += 1

    def wall(self, mono: float) -> datetime:
        return self.wall_start + timedelta(seconds=mono - self.mono_start)

    def in_window(self, start: float, end: float) -> list[Shot]:
        return [s for s in self.shots if start <= s.due < end]

    def errors(self) -> dict[str, int]:
        out: dict[str, int] = {}
        names = {CONNECTION_FAILED: "connection", INVALID_BODY: "invalid body"}
        for s in self.shots:
            if s.status != self.expect:
                key = names.get(s.status, str(s.status))
                out[key] = out.get(key, 0) + 1
        return out


BodyMaker = Callable[[LoadResult, float], bytes]
Backlog = Callable[[LoadResult], Awaitable[int]]


def job_body(result: LoadResult, due: float) -> bytes:
    """A full-form Job whose createdAt is the moment it was due (client clock)."""
    return orjson.dumps(
        {
            "id": str(uuid.uuid4()),
            "type": "BENCH",
            "status": "PENDING",
            "createdAt": iso_ms(result.wall(due)),
        }
    )


REGIONS = ("eu-west", "eu-north", "us-east", "us-west", "ap-south")


def meta_job_body(result: LoadResult, due: float) -> bytes:
    """`job_body` with metadata (a tenant of 500, a region of 5): what a search-heavy
    deployment submits; each pair is a job_meta row."""
    n = len(result.shots)
    return orjson.dumps(
        {
            "id": str(uuid.uuid4()),
            "type": "BENCH",
            "status": "PENDING",
            "createdAt": iso_ms(result.wall(due)),
            "metadata": {"tenant": f"tenant-{n * 31 % 500}", "region": REGIONS[n % 5]},
        }
    )


GIVE_UP = 50  # backlog polls failed in a row (~5 s) before the gate stops watching


class Gate:
    """Pauses senders while `backlog()` exceeds `limit` (polled every 0.1 s)."""

    def __init__(self, backlog: Backlog | None, limit: int, result: LoadResult) -> None:
        self.backlog, self.limit, self.result = backlog, limit, result
        self.open = asyncio.Event()
        self.open.set()
        self.paused = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _watch(self) -> None:
        assert self.backlog is not None
        task = asyncio.current_task()
        closed_at = 0.0
        failed = 0
        while True:
            try:
                over = await self.backlog(self.result) > self.limit
            except Exception:  # e.g. a dropped Redis connection: keep the last state, poll
                if task is not None and task.cancelling():  # our cancel, which the client
                    return  # turned into its own error (redis-py: "Connection closed")
                self.result.gate_errors += 1  # again, and say so in the figures; after
                failed += 1  # GIVE_UP failures in a row, open for good (never hang senders)
                if failed >= GIVE_UP:
                    self.open.set()
                    return
                await asyncio.sleep(0.1)
                continue
            failed = 0
            now = time.monotonic()
            if over and self.open.is_set():
                self.open.clear()
                closed_at = now
            elif not over and not self.open.is_set():
                self.paused += now - closed_at
                self.open.set()
            await asyncio.sleep(0.1)

    def __enter__(self) -> Gate:
        if self.backlog is not None:
            self._task = asyncio.create_task(self._watch())
        return self

    def __exit__(self, *_: object) -> None:
        if self._task:
            self._task.cancel()


async def open_loop(
    urls: list[str],
    rate: float,
    duration: float,
    *,
    connections: int = 256,
    backlog: Backlog | None = None,
    abort_over: int = 0,
    body: BodyMaker = job_body,
) -> LoadResult:
    """Send `rate` requests per second for `duration` seconds on a fixed schedule,
    spread round-robin over `urls`. With `backlog`, stop early (`aborted_at`) once more
    than `abort_over` accepted jobs are unfinished: the rate is not sustained, and
    going on would only grow a queue that takes minutes to drain."""
    pools = [Pool(url, max(1, connections // len(urls))) for url in urls]
    result = LoadResult(time.monotonic(), datetime.now(UTC))

    async def send(index: int, due: float) -> None:
        status = await pools[index % len(pools)].post(body(result, due))
        result.record(due, status)

    with Gate(backlog, abort_over, result) as gate:
        pending = await _launch(result, rate, duration, send, gate)
    if pending:
        await asyncio.wait(pending)
    for pool in pools:
        pool.close()
    return result


async def open_loop_get(
    url: str,
    rate: float,
    duration: float,
    *,
    path: Callable[[], str],
    check: Callable[[bytes], bool],
    connections: int = 32,
) -> LoadResult:
    """GET `url` + `path()` `rate` times per second for `duration` seconds on a fixed
    schedule (same rules as `open_loop`). A 200 whose body fails `check` is recorded as
    INVALID_BODY."""
    pool = Pool(url, connections)
    result = LoadResult(time.monotonic(), datetime.now(UTC), expect=200)
    base = pool.path.rstrip("/")

    async def send(_: int, due: float) -> None:
        status, answer = await pool.get(base + path())
        if status == 200 and not check(answer):
            status = INVALID_BODY
        result.record(due, status)

    pending = await _launch(result, rate, duration, send)
    if pending:
        await asyncio.wait(pending)
    pool.close()
    return result


async def _launch(
    result: LoadResult,
    rate: float,
    duration: float,
    send: Callable[[int, float], Coroutine[Any, Any, None]],
    gate: Gate | None = None,
) -> set[asyncio.Task[None]]:
    """Start `send(i, due)` for request i at start + i/rate (until the gate closes);
    returns the requests still waiting for their answer."""
    pending: set[asyncio.Task[None]] = set()
    for index in range(int(rate * duration)):
        due = result.mono_start + index / rate
        if gate is not None and not gate.open.is_set():
            result.aborted_at = due
            break
        await _pace(result, due, index)
        task = asyncio.create_task(send(index, due))
        pending.add(task)
        task.add_done_callback(pending.discard)
    return pending


async def _pace(result: LoadResult, due: float, index: int) -> None:
    """Sleep until `due`; when behind schedule, note the lag and still yield now and then."""
    delay = due - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)
    else:
        result.max_lag = max(result.max_lag, -delay)
        if index % 32 == 0:
            await asyncio.sleep(0)  # behind schedule: still let the senders run


async def flat_out(
    urls: list[str],
    duration: float,
    *,
    connections: int = 64,
    backlog: Backlog | None = None,
    backlog_limit: int = 10_000,
    body: BodyMaker = job_body,
) -> LoadResult:
    """`connections` senders post back to back for `duration` seconds (round-robin over
    `urls`), pausing while the backlog gate is closed."""
    pools = [Pool(url, connections) for url in urls]
    result = LoadResult(time.monotonic(), datetime.now(UTC))
    end = result.mono_start + duration
    with Gate(backlog, backlog_limit, result) as gate:

        async def sender(pool: Pool) -> None:
            while True:
                if not gate.open.is_set():
                    await gate.open.wait()
                due = time.monotonic()
                if due >= end:
                    return
                result.record(due, await pool.post(body(result, due)))

        await asyncio.gather(*(sender(pools[i % len(pools)]) for i in range(connections)))
        result.paused = gate.paused
    for pool in pools:
        pool.close()
    return result


def percentiles(values: list[float], points: tuple[float, ...] = (0.5, 0.95, 0.99)) -> list[float]:
    """Nearest-rank percentiles of `values` (empty list -> NaNs)."""
    if not values:
        return [float("nan")] * len(points)
    ordered = sorted(values)
    return [ordered[min(len(ordered) - 1, max(0, int(p * len(ordered) + 0.5) - 1))] for p in points]
