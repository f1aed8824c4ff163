"""`odto purge --older-than 7d [--dry-run]`: retention on demand.

Opens the job store and the event store the environment names (the typed composition
root: `Backends` → `Adapters`), removes what `core.retention` removes for that window in
small batches, and prints how many of each kind went (or would go, with --dry-run).
Alert history lives in the read model's memory and is forgotten there, by ODTO_RETENTION.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import timedelta
from typing import Any

from observatory.core.actor import cli_actor
from observatory.core.backends import Adapters
from observatory.core.clock import SystemClock
from observatory.core.errors import DependencyDown
from observatory.core.retention import KINDS, Retention, RetentionPolicy, parse_duration
from observatory.core.settings import Backends


def window(text: str) -> timedelta:
    """argparse type: a duration that is not 0 (purging everything is not a default)."""
    try:
        parsed = parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    if parsed is None:
        raise argparse.ArgumentTypeError("must be more than 0 (e.g. 7d, 12h, 90m)")
    return parsed


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "purge",
        help="remove finished jobs (attempts, events) and dead letters older than a window",
    )
    parser.add_argument(
        "--older-than", type=window, required=True, metavar="DURATION", help="e.g. 7d, 12h, 90m"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="count what would go, remove nothing"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.set_defaults(
        func=lambda args: asyncio.run(run_purge(args.older_than, args.dry_run, args.json))
    )


async def purge(
    backends: Backends, older_than: timedelta, *, dry_run: bool, actor: str | None = None
) -> dict[str, int]:
    """Per kind, what went (or would go); a purge that ran is audited as `actor`'s
    (default: this user's `cli:<user>`)."""
    adapters = Adapters(backends)
    jobs, events = adapters.jobs, adapters.events
    try:
        await jobs.open()
        await events.open()
        retention = Retention(jobs, events, None, RetentionPolicy(older_than), SystemClock())
        removed = await retention.purge(older_than, dry_run=dry_run)
        if not dry_run:
            await retention.audit(removed, actor=actor or cli_actor(), older_than=older_than)
        return removed
    finally:
        await events.close()
        await jobs.close()


async def run_purge(older_than: timedelta, dry_run: bool, as_json: bool) -> int:
    actor = cli_actor()
    try:
        removed = await purge(Backends(), older_than, dry_run=dry_run, actor=actor)
    except DependencyDown as exc:
        print(f"odto purge: {exc}; nothing more was removed (run it again when it answers)")
        return 1
    if as_json:
        answer = {"olderThan": str(older_than), "dryRun": dry_run, "actor": actor}
        print(json.dumps({**answer, "removed": removed}))
        return 0
    verb = "would remove" if dry_run else "removed"
    print(f"odto purge: older than {older_than} ({verb}):")
    for kind in KINDS:
        note = (
            " (kept in the read model's memory: ODTO_RETENTION forgets it there)"
            if kind == "alerts"
            else ""
        )
        print(f"  {kind.replace('_', ' '):<13} {removed.get(kind, 0):>10,}{note}")
    return 0
