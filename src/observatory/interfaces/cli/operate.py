"""`odto cancel ID` and `odto replay ID | --filter ...`: operate the queue from a shell.

Both print the gateway's answer in one line and exit 0 when the action was done, 1 when
the gateway refused it (the reason is printed), 2 when it could not be asked. Requests
carry the actor `cli:<user>` for the audit (core.actor).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import httpx

from observatory.core.actor import ACTOR_HEADER, cli_actor
from observatory.interfaces.cli.endpoints import access_hint, add_url_options, auth_headers


def register(subparsers: Any) -> None:
    cancel = subparsers.add_parser("cancel", help="cancel a job that waits (PENDING or a retry)")
    cancel.add_argument("job_id", help="the job's id")
    add_url_options(cancel)
    cancel.set_defaults(func=lambda args: asyncio.run(run_cancel(args)))

    replay = subparsers.add_parser(
        "replay", help="replay a dead letter by id, or the new ones a filter matches"
    )
    replay.add_argument("letter_id", nargs="?", help="the dead letter's id (else: --filter)")
    replay.add_argument(
        "--filter",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="reason=TEXT, queue=NAME, from=TIME, to=TIME (repeatable)",
    )
    replay.add_argument("--dry-run", action="store_true", help="only count what would be replayed")
    replay.add_argument("--limit", type=int, help="at most this many (cap 1000)")
    add_url_options(replay)
    replay.set_defaults(func=lambda args: asyncio.run(run_replay(args)))


def _headers(args: argparse.Namespace) -> dict[str, str]:
    return {**auth_headers(args.token), ACTOR_HEADER: cli_actor()}


async def _post(
    args: argparse.Namespace,
    path: str,
    body: Any = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int:
    url = f"{args.gateway_url}{path}"
    try:
        async with httpx.AsyncClient(timeout=30, transport=transport) as client:
            response = await client.post(url, json=body, headers=_headers(args))
    except httpx.HTTPError as exc:
        print(f"could not reach the gateway at {args.gateway_url}: {type(exc).__name__}")
        return 2
    try:
        answer = response.json()
    except ValueError:
        answer = response.text
    print(json.dumps(answer) if not isinstance(answer, str) else answer)
    hint = access_hint(response.status_code, answer)
    if hint:
        print(hint)
    return 0 if response.is_success else 1


async def run_cancel(
    args: argparse.Namespace, *, transport: httpx.AsyncBaseTransport | None = None
) -> int:
    return await _post(args, f"/jobs/{args.job_id}/cancel", transport=transport)


async def run_replay(
    args: argparse.Namespace, *, transport: httpx.AsyncBaseTransport | None = None
) -> int:
    if args.letter_id:
        if args.filter or args.dry_run or args.limit is not None:
            print("give a dead letter id or --filter/--dry-run/--limit, not both")
            return 2
        return await _post(args, f"/dead-letters/{args.letter_id}/replay", transport=transport)
    found: dict[str, str] = {}
    for item in args.filter:
        key, sep, value = item.partition("=")
        if not sep:
            print(f"--filter {item!r}: expected KEY=VALUE")
            return 2
        found[key] = value
    body: dict[str, Any] = {"filter": found, "dryRun": args.dry_run}
    if args.limit is not None:
        body["limit"] = args.limit
    return await _post(args, "/dead-letters/replay", body, transport=transport)
