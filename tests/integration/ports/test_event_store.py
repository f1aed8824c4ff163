"""The EventStore port's behaviour, proved once against every reachable adapter (SPEC §5.3)."""

from __future__ import annotations

import copy
import random
import uuid
from typing import Any

from observatory.core.stores.ports import EventStore
from observatory.core.stores.records import DeadLetter


def envelope(job_id: str, event_type: str, second: int, **job: Any) -> dict[str, Any]:
    """A complete envelope as the services build it (contracts/schemas/event-envelope.json)."""
    return {
        "contractVersion": "1.0.0",
        "eventType": event_type,
        "eventId": str(uuid.uuid4()),
        "occurredAt": f"2026-03-01T12:00:{second:02d}.123Z",
        "producer": {"service": "processor", "instanceId": "host-1", "version": "0.1.0"},
        "correlationId": str(uuid.uuid4()),
        "idempotencyKey": f"{job_id}:1:{event_type}",
        "payload": {
            "id": job_id,
            "type": "report",
            "status": "EXECUTING",
            "createdAt": "2026-03-01T12:00:00.000Z",
            **job,
        },
    }


def ids(envelopes: list[dict[str, Any]]) -> list[str]:
    return [e["eventId"] for e in envelopes]


async def test_insert_returns_only_new_event_ids(event_store: EventStore) -> None:
    """insert answers the eventIds it stored; re-inserting stores nothing twice."""
    job = str(uuid.uuid4())
    a, b, c = (envelope(job, "job.validated", n) for n in (1, 2, 3))

    assert await event_store.insert([a, b]) == [a["eventId"], b["eventId"]]
    assert await event_store.insert([b, c, c]) == [c["eventId"]]
    assert await event_store.insert([a, b, c]) == []
    assert await event_store.insert([]) == []

    stored = await event_store.for_job(job, limit=100, newest_first=False)
    assert ids(stored) == [a["eventId"], b["eventId"], c["eventId"]]


async def test_for_job_orders_by_occurred_at_both_ways_with_a_limit(
    event_store: EventStore,
) -> None:
    """for_job lists one job's events oldest or newest first, in any insert order, up to limit."""
    job, other = str(uuid.uuid4()), str(uuid.uuid4())
    steps = ["job.created", "job.validated", "job.executed", "job.completed"]
    timeline = [envelope(job, step, n * 2) for n, step in enumerate(steps)]
    noise = [envelope(other, "job.created", 3), envelope(other, "job.failed", 5)]
    shuffled = timeline + noise
    random.Random(7).shuffle(shuffled)
    await event_store.insert(shuffled)

    assert ids(await event_store.for_job(job, limit=50, newest_first=False)) == ids(timeline)
    assert ids(await event_store.for_job(job, limit=50, newest_first=True)) == ids(timeline[::-1])
    assert ids(await event_store.for_job(job, limit=2, newest_first=False)) == ids(timeline[:2])
    assert ids(await event_store.for_job(job, limit=2, newest_first=True)) == ids(timeline[:1:-1])
    assert await event_store.for_job(str(uuid.uuid4()), limit=50, newest_first=True) == []


async def test_recent_lists_newest_events_first(event_store: EventStore) -> None:
    """recent(n) is the n latest events by occurredAt, across jobs, newest first."""
    assert await event_store.recent(10) == []
    events = [envelope(str(uuid.uuid4()), "job.created", n) for n in range(6)]
    await event_store.insert(events[3:] + events[:3])

    assert ids(await event_store.recent(4)) == ids(events[::-1][:4])
    assert ids(await event_store.recent(100)) == ids(events[::-1])


async def test_envelopes_come_back_exactly_as_stored(event_store: EventStore) -> None:
    """An envelope reads back equal with camelCase names and field order intact, and unmutated."""
    job = str(uuid.uuid4())
    original = envelope(
        job,
        "job.failed",
        7,
        status="FAILED",
        updatedAt="2026-03-01T12:00:07.123Z",
        attempts=3,
        error="töö läks katki ✗",
        payload={"simulate": {"failProbability": 1, "durationMs": 0}, "list": [1, 2.5, None]},
        metadata={"userAgent": "odto/1", "nestedKeys": {"camelCase": True}},
    )
    sent = copy.deepcopy(original)
    await event_store.insert([original])
    assert original == sent

    for got in (
        (await event_store.for_job(job, limit=1, newest_first=True))[0],
        (await event_store.recent(1))[0],
    ):
        assert got == original
        assert list(got) == list(original)
        assert list(got["producer"]) == ["service", "instanceId", "version"]
        assert list(got["payload"]) == list(original["payload"])


def letter(key: str, n: int) -> DeadLetter:
    return DeadLetter(
        key,
        {
            "original_event": "not json {" if n % 2 else {"eventType": "job.created"},
            "validation_error": f"problem {n}",
            "rejected_at": f"2026-03-01T12:00:0{n}.000Z",
            "correlation_id": None,
            "service": "processor",
            "service_version": "0.1.0",
        },
    )


async def test_dead_letters_are_deduplicated_and_listed_newest_first(
    event_store: EventStore,
) -> None:
    """Dead letters are stored once per key and listed newest first, with an id and the document."""
    assert await event_store.dead_letters(10) == []
    first, second, third = letter("k1", 1), letter("k2", 2), letter("k3", 3)

    assert await event_store.add_dead_letters([first, second]) == 2
    assert await event_store.add_dead_letters([second, third]) == 1
    assert await event_store.add_dead_letters([]) == 0

    listed = await event_store.dead_letters(10)
    assert [d["validation_error"] for d in listed] == ["problem 3", "problem 2", "problem 1"]
    shown = ("id", "state", "queue", "reason")  # beside the document (test_dead_letter_replays)
    assert [{k: v for k, v in d.items() if k not in shown} for d in listed] == [
        third.document,
        second.document,
        first.document,
    ]
    assert all(isinstance(d["id"], str) and d["id"] for d in listed)
    assert len({d["id"] for d in listed}) == 3
    assert [d["validation_error"] for d in await event_store.dead_letters(2)] == [
        "problem 3",
        "problem 2",
    ]
