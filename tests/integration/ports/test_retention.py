"""Retention over every job store and event store pair: terminal jobs older than the
window go with their attempts and events, in batches; newer jobs, running jobs and newer
events stay; old dead letters go; a dry run counts the same and removes nothing; a
second purge finds nothing (SPEC §13). Old audit entries go too, with their filing under
jobs, and newer ones stay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.integration.ports.test_event_store import envelope

from observatory.core.clock import FixedClock, iso
from observatory.core.retention import Retention, RetentionPolicy
from observatory.core.stores.ports import EventStore, JobStore
from observatory.core.stores.records import (
    AttemptEnd,
    AttemptStart,
    AuditEntry,
    DeadLetter,
    JobFilter,
)

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
DAY = 86_400


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def start(job_id: str, when: float, attempt: int = 1, run: int = 1) -> AttemptStart:
    return AttemptStart(
        job_id=job_id,
        type="report",
        payload={},
        metadata={"tier": "gold"},
        created_at=at(0),
        attempt=attempt,
        run=run,
        event_id=str(uuid.uuid4()),
        correlation_id=str(uuid.uuid4()),
        at=at(when),
    )


def event_at(job_id: str, when: datetime) -> dict[str, Any]:
    made = envelope(job_id, "job.executed", 0)
    made["occurredAt"] = iso(when)
    return made


def letter(key: str, when: datetime) -> DeadLetter:
    return DeadLetter(key, {"rejected_at": iso(when), "validation_error": key})


def audit_entry(job_id: str, when: datetime) -> AuditEntry:
    return AuditEntry(
        event_id=str(uuid.uuid4()),
        action="cancel",
        actor="anonymous",
        target=job_id,
        result={"status": 409},
        correlation_id=str(uuid.uuid4()),
        occurred_at=when,
        job_ids=(job_id,),
    )


async def seed(jobs: JobStore, events: EventStore) -> dict[str, list[str]]:
    """7 old terminal jobs (2 attempts each, updated on day 1), 1 old job still running,
    2 terminal jobs updated on day 9; 2 events per job on its last update day, plus one
    day-9 event for an old job (a late arrival, newer than the cutoff); an audit entry per
    job on its last update day, and a day-9 one for an old job."""
    groups: dict[str, list[str]] = {"old": [], "running": [], "new": []}
    for group, count, day in (("old", 7, 1), ("running", 1, 1), ("new", 2, 9)):
        for n in range(count):
            job_id = str(uuid.uuid4())
            groups[group].append(job_id)
            await jobs.begin([start(job_id, day * DAY - 10)])
            await jobs.finish(
                [AttemptEnd(job_id, 1, "EXECUTING", "failed", "x", at(day * DAY - 5))]
            )
            await jobs.begin([start(job_id, day * DAY - 3, attempt=2)])
            if group != "running":
                status = "FAILED" if n % 2 else "COMPLETED"
                await jobs.finish(
                    [AttemptEnd(job_id, 2, status, status.lower(), None, at(day * DAY))]
                )
            await events.insert([event_at(job_id, at(day * DAY - s)) for s in (1, 2)])
            await events.add_audit([audit_entry(job_id, at(day * DAY))])
    await events.insert([event_at(groups["old"][0], at(9 * DAY))])
    await events.add_audit([audit_entry(groups["old"][0], at(9 * DAY))])
    await events.add_dead_letters([letter("old-1", at(DAY)), letter("old-2", at(2 * DAY))])
    await events.add_dead_letters([letter("new-1", at(9 * DAY))])
    return groups


async def test_retention_removes_what_is_older_than_the_window(
    job_store: JobStore, event_store: EventStore
) -> None:
    groups = await seed(job_store, event_store)
    clock = FixedClock(at(10 * DAY))
    removed: list[tuple[str, int]] = []
    retention = Retention(
        job_store,
        event_store,
        None,
        RetentionPolicy(timedelta(days=5), batch=3),
        clock,
        on_removed=lambda kind, n: removed.append((kind, n)),
    )

    expected = {
        "jobs": 7,
        "attempts": 14,
        "events": 14,
        "dead_letters": 2,
        "audit": 8,  # the old and the running jobs' day-1 entries
        "alerts": 0,
    }
    assert await retention.purge(dry_run=True) == expected
    assert removed == []
    assert await job_store.count() == 10

    assert await retention.purge() == expected
    assert sum(n for kind, n in removed if kind == "jobs") == 7
    assert max(n for kind, n in removed if kind == "jobs") <= 3  # batches of 3
    for job_id in groups["old"]:
        assert await job_store.get(job_id) is None
    for job_id in groups["running"] + groups["new"]:
        assert await job_store.get(job_id) is not None
        assert len(await event_store.for_job(job_id, limit=10, newest_first=True)) == 2
    late = await event_store.for_job(groups["old"][0], limit=10, newest_first=True)
    assert [e["occurredAt"] for e in late] == [iso(at(9 * DAY))]  # newer than the cutoff
    assert [d["validation_error"] for d in await event_store.dead_letters(10)] == ["new-1"]
    assert await job_store.count_matching(JobFilter(meta=(("tier", "gold"),))) == 3
    assert max(n for kind, n in removed if kind == "audit") <= 3  # batches of 3
    kept = [(e["target"], e["occurredAt"]) for e in (await event_store.audit(50, None)).items]
    assert sorted(kept) == sorted(
        [(j, iso(at(9 * DAY))) for j in groups["new"]] + [(groups["old"][0], iso(at(9 * DAY)))]
    )
    assert [e["occurredAt"] for e in await event_store.audit_for_job(groups["old"][0], 10)] == [
        iso(at(9 * DAY))
    ]
    assert await event_store.audit_for_job(groups["running"][0], 10) == []

    assert await retention.purge() == dict.fromkeys(expected, 0)


async def test_a_job_retried_after_selection_is_kept(
    job_store: JobStore, event_store: EventStore
) -> None:
    """remove() deletes only jobs still terminal and old: one that runs again between the
    selection and the delete stays, attempts and all (an operator's retry: a new run)."""
    groups = await seed(job_store, event_store)
    cutoff = at(5 * DAY)
    ids = await job_store.expired(cutoff, limit=100)
    assert sorted(ids) == sorted(groups["old"])
    assert await job_store.begin([start(groups["old"][0], 10 * DAY, attempt=3, run=2)])

    assert await job_store.remove(ids, before=cutoff) == (6, 12)
    kept = await job_store.get(groups["old"][0])
    assert kept is not None
    assert len(kept.history) == 3
