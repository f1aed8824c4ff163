"""The EventStore port's error contract (SPEC §12), proved once against every reachable
adapter: a bad value gets the same answer on every engine (nothing found, or
InvalidMessage with nothing written), and only a closed store is DependencyDown."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from tests.integration.ports.engines import Engine
from tests.integration.ports.test_event_store import envelope, ids

from observatory.core.errors import DependencyDown, InvalidMessage
from observatory.core.stores.ports import EventStore
from observatory.core.stores.records import DeadLetter


async def test_for_job_finds_events_by_any_spelling_and_nothing_for_no_uuid(
    event_store: EventStore,
) -> None:
    """for_job finds a job's events by any spelling of its id; an id that is no UUID finds []."""
    job = str(uuid.uuid4())
    created = envelope(job, "job.created", 1)
    await event_store.insert([created])

    for spelling in (job, job.upper(), f"{{{job}}}", f"urn:uuid:{job}", job.replace("-", "")):
        found = await event_store.for_job(spelling, limit=10, newest_first=True)
        assert ids(found) == [created["eventId"]], spelling
    for odd in ("not-a-uuid", "", "+" + job[1:]):
        assert await event_store.for_job(odd, limit=10, newest_first=True) == [], odd


async def test_ids_in_another_spelling_are_stored_canonical(event_store: EventStore) -> None:
    """eventId and payload.id are kept in canonical form: an upper-case copy of an event is
    a duplicate, insert answers canonical ids, and the envelope reads back canonical."""
    job = str(uuid.uuid4())
    canonical = envelope(job, "job.created", 1)
    spelled = {
        **canonical,
        "eventId": canonical["eventId"].upper(),
        "payload": {**canonical["payload"], "id": f"{{{job.upper()}}}"},
    }

    assert await event_store.insert([spelled]) == [canonical["eventId"]]
    assert await event_store.insert([canonical]) == []
    assert await event_store.for_job(job, limit=10, newest_first=True) == [canonical]
    assert spelled["eventId"] == canonical["eventId"].upper()  # the caller's copy is untouched


def change(path: str, value: Any) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """An edit of one field (`payload.payload.n` style) of an envelope."""

    def apply(original: dict[str, Any]) -> dict[str, Any]:
        *parents, leaf = path.split(".")
        node = original
        for name in parents:
            node = node[name]
        node[leaf] = value
        return original

    return apply


REFUSED = {
    "eventId not a uuid": change("eventId", "evt-1"),
    "eventId missing": change("eventId", None),
    "occurredAt year 1 at +23:59": change("occurredAt", "0001-01-01T00:00:00+23:59"),
    "occurredAt 9999 at -23:59": change("occurredAt", "9999-12-31T23:59:59-23:59"),
    "occurredAt before 1970": change("occurredAt", "1969-12-31T23:59:59.000Z"),
    "occurredAt not a time": change("occurredAt", "yesterday"),
    "eventType with NUL": change("eventType", "job.\u0000created"),
    "int beyond 64 bits": change("payload.payload", {"n": 2**70}),
    "lone surrogate": change("payload.error", "\ud800"),
}


@pytest.mark.parametrize("spoil", REFUSED.values(), ids=REFUSED.keys())
async def test_insert_refuses_what_no_engine_stores_and_writes_nothing(
    event_store: EventStore, spoil: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    """insert([good, bad]) raises InvalidMessage on every engine and stores neither."""
    job = str(uuid.uuid4())
    good = envelope(job, "job.created", 1)
    bad = spoil(envelope(job, "job.validated", 2))

    with pytest.raises(InvalidMessage):
        await event_store.insert([good, bad])

    assert await event_store.for_job(job, limit=10, newest_first=True) == []
    assert await event_store.recent(10) == []
    assert await event_store.insert([good]) == [good["eventId"]]


async def test_huge_values_and_nul_in_strings_are_kept_alike(event_store: EventStore) -> None:
    """A 1 MB string, ints at the edge of 64 bits and NUL inside strings are stored by every
    engine and read back exactly (the event store keeps json, which holds NUL)."""
    job = str(uuid.uuid4())
    original = envelope(
        job,
        "job.failed",
        3,
        error="nul \u0000 inside",
        payload={"blob": "x" * 1_000_000, "big": 2**63 - 1, "small": -(2**63)},
    )
    await event_store.insert([original])

    assert (await event_store.for_job(job, limit=1, newest_first=True))[0] == original


async def test_a_closed_event_store_is_down(event_store_engine: Engine[EventStore]) -> None:
    """After close() every call raises DependencyDown and ping is False."""
    store = await event_store_engine.open()
    await event_store_engine.close(store)
    assert await store.ping() is False
    calls = [
        store.insert([envelope(str(uuid.uuid4()), "job.created", 1)]),
        store.for_job(str(uuid.uuid4()), limit=5, newest_first=True),
        store.recent(5),
        store.add_dead_letters([DeadLetter("k", {"validation_error": "x"})]),
        store.dead_letters(5),
    ]
    for call in calls:
        with pytest.raises(DependencyDown):
            await call
