"""Audit entries on the EventStore port (SPEC §13), proved once against every reachable
adapter: stored once per event id, listed newest first with keyset paging, and filed
under each job they touched for the job's timeline."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from observatory.core.errors import InvalidMessage
from observatory.core.stores.ports import EventStore
from observatory.core.stores.records import AuditEntry

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def entry(n: int, *job_ids: str, action: str = "cancel") -> AuditEntry:
    return AuditEntry(
        event_id=str(uuid.uuid4()),
        action=action,
        actor="cli:alice",
        target=job_ids[0] if job_ids else "dead-letters",
        result={"status": "CANCELLED", "n": n},
        correlation_id=str(uuid.uuid4()),
        occurred_at=T0 + timedelta(seconds=n),
        filter={"reason": "x"} if not job_ids else None,
        job_ids=job_ids,
    )


async def test_audit_entries_are_listed_newest_first_with_paging(event_store: EventStore) -> None:
    entries = [entry(n) for n in range(5)]
    await event_store.add_audit(entries[:3])
    await event_store.add_audit(entries[3:] + entries[:1])  # a repeat is stored once

    first = await event_store.audit(2, None)
    assert [e["result"]["n"] for e in first.items] == [4, 3]
    assert first.next_cursor is not None
    second = await event_store.audit(2, first.next_cursor)
    third = await event_store.audit(2, second.next_cursor)
    assert [e["result"]["n"] for e in second.items + third.items] == [2, 1, 0]
    assert third.next_cursor is None
    assert first.items[0] == entries[4].as_dict()
    assert first.items[0]["filter"] == {"reason": "x"}
    with pytest.raises(ValueError, match="cursor"):
        await event_store.audit(2, "not-a-cursor")


async def test_a_jobs_audit_entries_are_filed_under_it(event_store: EventStore) -> None:
    """Any UUID spelling files and finds the job's entries, oldest first."""
    job, other = str(uuid.uuid4()), str(uuid.uuid4())
    await event_store.add_audit(
        [entry(1, job.upper(), action="submit"), entry(2, other), entry(3, job, other)]
    )
    mine = await event_store.audit_for_job(job.upper(), 10)
    assert [(e["action"], e["result"]["n"]) for e in mine] == [("submit", 1), ("cancel", 3)]
    assert len(await event_store.audit_for_job(other, 10)) == 2
    assert await event_store.audit_for_job("not-a-uuid", 10) == []


async def test_a_refused_entry_writes_nothing(event_store: EventStore) -> None:
    bad = AuditEntry("not-a-uuid", "cancel", "anonymous", "x", {}, "c", T0)
    with pytest.raises(InvalidMessage):
        await event_store.add_audit([entry(1), bad])
    assert (await event_store.audit(10, None)).items == []
