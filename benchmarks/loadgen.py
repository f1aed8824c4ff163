"""The load generator: a raw HTTP/1.1 client on asyncio (uvloop) over keep-alive
connections, so that the generator costs little CPU per request.

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
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import orjson


def iso_ms(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class Connection:
    """One keep-alive HTTP/1.1 connection; `post` returns the status code."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def post(self, head: bytes, body: bytes) -> tuple[int, bool]:
        self.writer.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
        header = await self.reader.readuntil(b"\r\n\r\n")
        status = int(header[9:12])
        lower = header.lower()
        length = 0
        at = lower.find(b"content-length:")
        if at >= 0:
            length = int(lower[at + 15 : lower.index(b"\r\n", at)])
        if length:
            await self.reader.readexactly(length)
        return status, b"connection: close" in lower

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
        async with self.slots:
            try:
                if self.idle:
                    conn = self.idle.pop()
                else:
                    conn = Connection(*await asyncio.open_connection(self.host, self.port))
            except OSError:
                return 0
            try:
                status, close = await conn.post(self.head, body)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                conn.close()
                return 0
            if close:
                conn.close()
            else:
                self.idle.append(conn)
            return status

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


@dataclass(slots=True)
class Shot:
    due: float  # monotonic time the request was due
    done: float  # monotonic time the answer arrived
    status: int  # 0 = connection error


@dataclass
class LoadResult:
    """Every request's due time, answer time and status; clock anchors to convert."""

    mono_start: float
    wall_start: datetime
    shots: list[Shot] = field(default_factory=list)
    accepted: int = 0  # 202 answers so far
    paused: float = 0.0  # seconds the backlog gate held sending
    max_lag: float = 0.0  # worst lateness of an open-loop send against its schedule
    aborted_at: float | None = None  # open loop stopped here: the backlog grew too large

    def record(self, due: float, status: int) -> None:
        self.shots.append(Shot(due, time.monotonic(), status))
        if status == 202:
            self.accepted += 1

    def wall(self, mono: float) -> datetime:
        return self.wall_start + timedelta(seconds=mono - self.mono_start)

    def in_window(self, start: float, end: float) -> list[Shot]:
        return [s for s in self.shots if start <= s.due < end]

    def errors(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.shots:
            if s.status != 202:
                key = str(s.status) if s.status else "connection"
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
        closed_at = 0.0
        while True:
            over = await self.backlog(self.result) > self.limit
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
    start = result.mono_start
    count = int(rate * duration)
    pending: set[asyncio.Task[None]] = set()

    async def send(pool: Pool, due: float) -> None:
        status = await pool.post(body(result, due))
        result.record(due, status)

    with Gate(backlog, abort_over, result) as gate:
        for index in range(count):
            due = start + index / rate
            if not gate.open.is_set():
                result.aborted_at = due
                break
            await _pace(result, due, index)
            task = asyncio.create_task(send(pools[index % len(pools)], due))
            pending.add(task)
            task.add_done_callback(pending.discard)
    if pending:
        await asyncio.wait(pending)
    for pool in pools:
        pool.close()
    return result


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
