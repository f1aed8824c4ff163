"""Retention: what is older than the window goes, in small batches.

`ODTO_RETENTION` (a duration such as `30d`, `12h`, `90m`; `0` or unset keeps everything,
the default) bounds the history: terminal jobs (TERMINAL: COMPLETED, FAILED, ...) last
updated before now - window, with their attempts and events, dead letters rejected
before it, audit entries that occurred before it (a purge's own entry is written after
it, so the record of the latest purge stays), and the read model's alert history.
Counters are totals and stay as they are.

Each batch is one short transaction of at most `batch` rows per table, and the loop
yields between batches, so writers are never held behind a purge. The order makes an
interrupted purge safe to repeat: a batch's events go first (only those before the
cutoff: a job retried meanwhile keeps its new run's events), then the jobs that are
still terminal and old, with their attempts; a kill in between leaves jobs whose old
events are gone, which the next run removes. The read model runs `Retention.run`
periodically when a window is configured; `odto purge` calls `purge` once. A purge that
ran (not a dry run) leaves an audit entry (action "purge", target "history", the counts
per kind): actor "retention" for the background task when it removed something, the
`cli:<user>` of `odto purge` otherwise.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

import structlog

from observatory.core.audit import Auditor
from observatory.core.clock import Clock
from observatory.core.errors import DependencyDown
from observatory.core.stores.ports import EventStore, JobStore

log = structlog.get_logger("observatory.retention")

KINDS = ("jobs", "attempts", "events", "dead_letters", "audit", "alerts")
DURATION = re.compile(r"^\s*(\d+)\s*([smhdw]?)\s*$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800, "": 1}
MAX_SECONDS = 100 * 365 * 86_400


def parse_duration(text: str) -> timedelta | None:
    """`30d`, `12h`, `90m`, `45s`, `2w` (a bare number is seconds); None for `0`.
    Raises ValueError for anything else (or beyond 100 years)."""
    found = DURATION.match(text.lower())
    if not found:
        raise ValueError(f"{text!r} is not a duration like 30d, 12h, 90m or 0")
    seconds = int(found.group(1)) * UNITS[found.group(2)]
    if seconds > MAX_SECONDS:
        raise ValueError(f"{text!r} is more than 100 years")
    return timedelta(seconds=seconds) if seconds else None


class AlertHistory(Protocol):
    def forget_before(self, before: datetime) -> int:
        """Drop the entries received before `before`; how many."""


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    window: timedelta
    interval: float = 600.0  # seconds between two background purges
    batch: int = 500  # rows per table and transaction


class Retention:
    """Purges the stores (see module docstring); `removed` counts per kind."""

    def __init__(
        self,
        jobs: JobStore,
        events: EventStore,
        alerts: AlertHistory | None,
        policy: RetentionPolicy,
        clock: Clock,
        *,
        on_removed: Callable[[str, int], None] | None = None,
    ) -> None:
        self.jobs, self.events, self.alerts = jobs, events, alerts
        self.policy, self.clock = policy, clock
        self.on_removed = on_removed

    async def purge(
        self, older_than: timedelta | None = None, *, dry_run: bool = False
    ) -> dict[str, int]:
        """Remove (or, with `dry_run`, count) what is older than `older_than` (the
        policy's window by default); per kind, how many."""
        cutoff = self.clock.now() - (older_than or self.policy.window)
        removed: Counter[str] = Counter(dict.fromkeys(KINDS, 0))
        after = ""
        while True:
            ids = await self.jobs.expired(cutoff, limit=self.policy.batch, after=after)
            if not ids:
                break
            after = ids[-1]
            events = await self.events.remove_for_jobs(ids, before=cutoff, dry_run=dry_run)
            jobs, attempts = await self.jobs.remove(ids, before=cutoff, dry_run=dry_run)
            self._count(removed, dry_run, events=events, jobs=jobs, attempts=attempts)
            await asyncio.sleep(0)  # let writers (and requests) in between batches
        if dry_run:
            letters = await self.events.remove_dead_letters(cutoff, limit=0, dry_run=True)
            entries = await self.events.remove_audit(cutoff, limit=0, dry_run=True)
            self._count(removed, dry_run, dead_letters=letters, audit=entries)
        else:
            while letters := await self.events.remove_dead_letters(cutoff, limit=self.policy.batch):
                self._count(removed, dry_run, dead_letters=letters)
                await asyncio.sleep(0)
            while entries := await self.events.remove_audit(cutoff, limit=self.policy.batch):
                self._count(removed, dry_run, audit=entries)
                await asyncio.sleep(0)
        if self.alerts is not None and not dry_run:
            self._count(removed, dry_run, alerts=self.alerts.forget_before(cutoff))
        return dict(removed)

    async def audit(
        self, removed: dict[str, int], *, actor: str, older_than: timedelta | None = None
    ) -> None:
        """The audit entry of a purge that ran (never of a dry run); a failure to record
        is logged, never raised (core/audit.py)."""
        await Auditor(self.events, self.clock).record(
            action="purge",
            actor=actor,
            target="history",
            result=dict(removed),
            correlation_id=self.clock.new_id(),
            filter={"olderThan": str(older_than or self.policy.window)},
        )

    def _count(self, removed: Counter[str], dry_run: bool, **kinds: int) -> None:
        for kind, n in kinds.items():
            removed[kind] += n
            if n and not dry_run and self.on_removed is not None:
                self.on_removed(kind, n)

    async def run(self) -> None:
        """Purge now and then every `policy.interval` seconds, until cancelled. A backend
        that is down skips that round (the next one tries again); nothing retries in a
        loop of its own."""
        while True:
            try:
                removed = await self.purge()
            except DependencyDown as exc:
                log.warning("retention skipped a round", error=str(exc))
            else:
                if any(removed.values()):
                    log.info("retention removed", window=str(self.policy.window), **removed)
                    await self.audit(removed, actor="retention")
            await asyncio.sleep(self.policy.interval)
