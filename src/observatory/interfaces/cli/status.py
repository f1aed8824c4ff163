"""`odto status`: is each service alive and ready?"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from observatory.interfaces.cli.endpoints import service_health_urls


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("status", help="health and readiness of every service")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=lambda args: asyncio.run(run_status(args.json)))


async def check(client: httpx.AsyncClient, name: str, base: str) -> dict[str, Any]:
    row: dict[str, Any] = {"service": name, "url": base, "alive": False, "ready": False}
    try:
        health = await client.get(f"{base}/healthz")
        row["alive"] = health.status_code == 200
        row["version"] = health.json().get("version") if row["alive"] else None
        ready = await client.get(f"{base}/readyz")
        row["ready"] = ready.status_code == 200
        if not row["ready"]:
            row["failing"] = ready.json().get("failing", [])
    except (httpx.HTTPError, ValueError) as exc:
        row["error"] = type(exc).__name__
    return row


async def run_status(as_json: bool) -> int:
    async with httpx.AsyncClient(timeout=3) as client:
        rows = await asyncio.gather(
            *(check(client, n, u) for n, u in service_health_urls().items())
        )
    if as_json:
        print(json.dumps(rows))
    else:
        for row in rows:
            state = "ready" if row["ready"] else ("alive, not ready" if row["alive"] else "down")
            extra = f" failing={','.join(row['failing'])}" if row.get("failing") else ""
            print(f"{row['service']:<15} {state:<17} {row['url']}{extra}")
    return 0 if all(row["ready"] for row in rows) else 1
