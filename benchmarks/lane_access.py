"""POST /jobs through the gateway's plain-ASGI lane in process (no-op bus, no network):
requests/s with access open (no token configured) against the same lane with tokens, in
the same run. What the access check costs on the hot path (issue 13).

    .venv/bin/python -m benchmarks.lane_access [--seconds 3] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import orjson
from pydantic import SecretStr

from observatory.core.access import Access
from observatory.core.bus.port import Outgoing
from observatory.core.settings import HttpSettings
from observatory.core.stores.sqlite_events import SqliteEventStore
from observatory.core.stores.sqlite_jobs import SqliteJobStore
from observatory.services.gateway.app import create_app
from observatory.services.gateway.settings import GatewaySettings


class NoBus:
    async def publish_many(self, messages: Sequence[Outgoing]) -> None:
        return None


def tokens(count: int) -> str:
    return ",".join(f"user{n}:operator:token-{n:04d}-{'x' * 32}" for n in range(count))


async def rate(app: Any, headers: list[tuple[bytes, bytes]], seconds: float) -> float:
    body = orjson.dumps({"type": "BENCH"})
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/jobs",
        "headers": [(b"content-type", b"application/json"), *headers],
    }

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body, "more_body": False}

    statuses: list[int] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    done = 0
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        for _ in range(200):
            await app(dict(scope), receive, send)
        done += 200
    assert set(statuses) == {202}, set(statuses)
    return done / (time.perf_counter() - started)


async def main(seconds: float, rounds: int) -> None:
    with TemporaryDirectory() as tmp:
        jobs = SqliteJobStore(Path(tmp) / "jobs.sqlite3")
        events = SqliteEventStore(Path(tmp) / "events.sqlite3")
        cases = {
            "open (no token)": (HttpSettings(), []),
            "3 tokens": (
                HttpSettings(tokens=SecretStr(tokens(3))),
                [(b"authorization", b"Bearer token-0002-" + b"x" * 32)],
            ),
            "50 tokens": (
                HttpSettings(tokens=SecretStr(tokens(50))),
                [(b"authorization", b"Bearer token-0049-" + b"x" * 32)],
            ),
        }
        apps = {
            name: create_app(GatewaySettings(), http, bus=NoBus(), jobs=jobs, events=events)  # type: ignore[arg-type]  # the lane only publishes
            for name, (http, _) in cases.items()
        }
        figures: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(rounds):  # interleaved, so a busy moment hits every case alike
            for name, (_, headers) in cases.items():
                figures[name].append(await rate(apps[name], headers, seconds))
        for count in (1, 3, 50):
            access = Access.configure(tokens=tokens(count))
            presented = f"token-{count - 1:04d}-{'x' * 32}"
            runs = 20_000
            started = time.perf_counter()
            for _ in range(runs):
                access.identify(presented)
            each = (time.perf_counter() - started) / runs * 1e6
            print(f"identify, {count:2} tokens: {each:6.1f} us a request")
        base = max(figures["open (no token)"])
        for name, values in figures.items():
            best = max(values)
            print(f"{name:16} {best:9,.0f} req/s (best of {rounds})  {best / base:6.1%} of open")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    asyncio.run(main(options.seconds, options.rounds))
