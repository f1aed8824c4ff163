"""The JobStore port's error contract (SPEC §12), proved once against every reachable adapter:
a bad value gets the same answer on every engine (nothing found, or InvalidMessage with
nothing written), and only an unreachable or closed store is DependencyDown."""

from __future__ import annotations

import dataclasses
import socket
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from tests.integration.ports.engines import Engine
from tests.integration.ports.test_job_store import end, must_get, new_id, start

from observatory.core.errors import DependencyDown, InvalidMessage
from observatory.core.stores.ports import JobStore
from observatory.core.stores.postgres_jobs import PostgresJobStore
from observatory.core.stores.records import AttemptStart, JobFilter

EAST = timezone(timedelta(hours=23, minutes=59))
WEST = timezone(-timedelta(hours=23, minutes=59))


def spellings(job_id: str) -> list[str]:
    """Ways a client may write the same UUID."""
    return [
        job_id.upper(),
        f"{{{job_id}}}",
        f"urn:uuid:{job_id}",
        job_id.replace("-", ""),
        f"URN:UUID:{{{job_id.upper()}}}",
    ]


async def assert_nothing_stored(store: JobStore, *job_ids: str) -> None:
    for job_id in job_ids:
        assert await store.get(job_id) is None
    assert await store.load(list(job_ids)) == {}


async def test_an_id_that_is_not_a_uuid_finds_nothing(job_store: JobStore) -> None:
    """get and load with ids that are no UUIDs answer "nothing", never DependencyDown."""
    known = new_id()
    await job_store.begin([start(known)])

    for odd in ("not-a-uuid", "", "+" + known[1:], f"{known}\n", known[:-1] + "\u0663"):
        assert await job_store.get(odd) is None, odd
        assert await job_store.load([odd]) == {}, odd
    assert list(await job_store.load(["not-a-uuid", known])) == [known]


async def test_any_spelling_of_a_uuid_finds_the_job(job_store: JobStore) -> None:
    """Upper case, braces, urn:uuid: and no hyphens all find the row, with its canonical id."""
    job_id = new_id()
    await job_store.begin([start(job_id)])

    for spelling in spellings(job_id):
        record = await job_store.get(spelling)
        assert record is not None, spelling
        assert record.id == job_id
        assert list(await job_store.load([spelling])) == [job_id]


async def test_a_job_stored_under_another_spelling_is_one_canonical_job(
    job_store: JobStore,
) -> None:
    """begin and finish take any UUID spelling and keep one row under the canonical id."""
    job_id = new_id()
    upper = job_id.upper()
    await job_store.begin([start(upper)])
    await job_store.finish([end(f"{{{job_id}}}", "COMPLETED")])

    assert await job_store.count() == 1
    job = await must_get(job_store, job_id)
    assert (job.id, job.status, len(job.history)) == (job_id, "COMPLETED", 1)
    assert [(j.id, j.status) for j in await job_store.recent(5)] == [(job_id, "COMPLETED")]


def with_value(job_id: str, **changes: Any) -> AttemptStart:
    return dataclasses.replace(start(job_id), **changes)


REFUSED_STARTS = {
    "id not a uuid": lambda job_id: with_value("not-a-uuid"),
    "event id not a uuid": lambda job_id: with_value(job_id, event_id="evt-1"),
    "created year 1 at +23:59": lambda job_id: with_value(
        job_id, created_at=datetime(1, 1, 1, tzinfo=EAST)
    ),
    "created 9999-12-31 at -23:59": lambda job_id: with_value(
        job_id, created_at=datetime(9999, 12, 31, 23, 59, tzinfo=WEST)
    ),
    "created year 1 UTC": lambda job_id: with_value(
        job_id, created_at=datetime(1, 1, 1, tzinfo=UTC)
    ),
    "created before 1970": lambda job_id: with_value(
        job_id, created_at=datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC)
    ),
    "started at -23:59 in 9999": lambda job_id: with_value(
        job_id, at=datetime(9999, 12, 31, 23, 59, tzinfo=WEST)
    ),
    "int beyond 64 bits in payload": lambda job_id: with_value(job_id, payload={"n": 2**70}),
    "NUL in a payload string": lambda job_id: with_value(job_id, payload={"s": "a\u0000b"}),
    "NUL in a metadata key": lambda job_id: with_value(job_id, metadata={"k\u0000": 1}),
    "lone surrogate in payload": lambda job_id: with_value(job_id, payload={"s": "\ud800"}),
    "payload nested 300 deep": lambda job_id: with_value(job_id, payload=nested(300)),
    "NUL in type": lambda job_id: with_value(job_id, type="re\u0000port"),
    "attempt beyond int32": lambda job_id: with_value(job_id, attempt=2**31),
    "run beyond 64 bits": lambda job_id: with_value(job_id, run=2**64),
}


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize("make_bad", REFUSED_STARTS.values(), ids=REFUSED_STARTS.keys())
async def test_begin_refuses_a_value_no_engine_stores_and_writes_nothing(
    job_store: JobStore, make_bad: Any
) -> None:
    """begin([good, bad]) raises InvalidMessage on every engine and stores neither row; the
    good one alone is then stored (so a caller can split the batch to find the bad one)."""
    good_id, bad_id = new_id(), new_id()
    bad = make_bad(bad_id)

    with pytest.raises(InvalidMessage):
        await job_store.begin([start(good_id), bad])

    await assert_nothing_stored(job_store, good_id, bad_id, bad.job_id)
    assert await job_store.count() == 0
    await job_store.begin([start(good_id)])
    assert (await must_get(job_store, good_id)).status == "EXECUTING"


async def test_one_job_twice_in_one_begin_is_refused_alike(job_store: JobStore) -> None:
    """begin with the same job twice (in two spellings) is InvalidMessage on every engine,
    with nothing written; one at a time, both attempts are stored."""
    job_id = new_id()
    twice = [start(job_id), start(job_id.upper(), attempt=2, when=3.0)]

    with pytest.raises(InvalidMessage):
        await job_store.begin(twice)

    await assert_nothing_stored(job_store, job_id)
    for one in twice:
        await job_store.begin([one])
    assert [a.attempt for a in (await must_get(job_store, job_id)).history] == [1, 2]


@pytest.mark.parametrize(
    "change",
    [
        {"at": datetime(1, 1, 1, tzinfo=EAST)},
        {"error": "disk\u0000on fire"},
        {"job_id": "not-a-uuid"},
        {"attempt": 2**40},
    ],
    ids=["time without UTC form", "NUL in error", "id not a uuid", "attempt beyond int32"],
)
async def test_finish_refuses_a_value_no_engine_stores_and_writes_nothing(
    job_store: JobStore, change: dict[str, Any]
) -> None:
    """finish([good, bad]) raises InvalidMessage and leaves both jobs as they were."""
    good_id, bad_id = new_id(), new_id()
    await job_store.begin([start(good_id), start(bad_id)])
    bad = dataclasses.replace(end(bad_id, "FAILED", error="boom"), **change)

    with pytest.raises(InvalidMessage):
        await job_store.finish([end(good_id, "COMPLETED"), bad])

    for job_id in (good_id, bad_id):
        job = await must_get(job_store, job_id)
        assert (job.status, job.completed_at, job.history[0].outcome) == ("EXECUTING", None, None)
    await job_store.finish([end(good_id, "COMPLETED")])
    assert (await must_get(job_store, good_id)).status == "COMPLETED"


@pytest.mark.parametrize(
    "created",
    [
        datetime(1970, 1, 1, tzinfo=UTC),
        datetime(1970, 1, 1, 23, 59, tzinfo=EAST),  # 1970-01-01T00:00Z
        datetime(9999, 12, 31, 23, 59, 59, 999000, tzinfo=UTC),
        datetime(9999, 12, 30, 0, 0, tzinfo=WEST),  # 9999-12-30T23:59Z
    ],
    ids=["1970 UTC", "1970 at +23:59", "9999 UTC", "9999 at -23:59"],
)
async def test_times_at_the_edges_of_the_range_are_stored_and_paged(
    job_store: JobStore, created: datetime
) -> None:
    """A time whose UTC form is within 1970-9999 is stored on every engine, reads back as
    the same instant, and a cursor made on its row pages on (it is within range too)."""
    edge, other = new_id(), new_id()
    await job_store.begin(
        [with_value(edge, created_at=created), with_value(other, created_at=created)]
    )

    job = await must_get(job_store, edge)
    assert job.created_at == created
    first = await job_store.page(JobFilter(), limit=1, cursor=None)
    assert first.next_cursor is not None
    rest = await job_store.page(JobFilter(), limit=1, cursor=first.next_cursor)
    assert {first.items[0].id, rest.items[0].id} == {edge, other}
    assert rest.next_cursor is None


async def test_huge_values_are_stored_alike(job_store: JobStore) -> None:
    """A payload with a 1 MB string, and ints at the edge of 64 bits, are stored by every
    engine and read back equal."""
    job_id = new_id()
    payload = {"blob": "x" * 1_000_000, "big": 2**63 - 1, "small": -(2**63), "ü": "✓"}
    await job_store.begin([with_value(job_id, payload=payload)])

    assert (await must_get(job_store, job_id)).payload == payload


async def test_a_closed_store_is_down(job_store_engine: Engine[JobStore]) -> None:
    """Before open() and after close() every call raises DependencyDown and ping is False."""
    opened = await job_store_engine.open()
    await job_store_engine.close(opened)
    job_id = new_id()
    for store in (job_store_engine.build(), opened):
        assert await store.ping() is False
        calls = [
            store.get(job_id),
            store.load([job_id]),
            store.begin([start(job_id)]),
            store.finish([end(job_id, "COMPLETED")]),
            store.page(JobFilter(), limit=5, cursor=None),
            store.recent(5),
            store.count(),
        ]
        for call in calls:
            with pytest.raises(DependencyDown):
                await call


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_postgres_on_a_closed_port_is_down(namespace: str) -> None:
    """A PostgreSQL job store whose server does not answer raises DependencyDown on open."""
    store = PostgresJobStore(
        f"postgresql://postgres@127.0.0.1:{_closed_port()}/test", namespace=namespace
    )
    with pytest.raises(DependencyDown):
        await store.open()
    assert await store.ping() is False
    with pytest.raises(DependencyDown):
        await store.get(new_id())
    await store.close()
