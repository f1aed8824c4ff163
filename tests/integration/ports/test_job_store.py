"""The JobStore port's behaviour, proved once against every reachable adapter (SPEC §5.2, §5.4)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from tests.integration.ports.engines import Engine

from observatory.core.stores.cursor import encode_cursor
from observatory.core.stores.ports import JobStore
from observatory.core.stores.records import AttemptEnd, AttemptStart, JobFilter, JobRecord

# Millisecond-aligned times: the contracts (and the SQLite store) keep milliseconds.
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def start(
    job_id: str,
    *,
    attempt: int = 1,
    run: int = 1,
    when: float = 1.0,
    created: float = 0.0,
    type: str = "report",
) -> AttemptStart:
    return AttemptStart(
        job_id=job_id,
        type=type,
        payload={"simulate": {"durationMs": 5}, "nested": {"ünïcode": True}},
        metadata={"source": "test"},
        created_at=at(created),
        attempt=attempt,
        run=run,
        event_id=str(uuid.uuid4()),
        correlation_id=str(uuid.uuid4()),
        at=at(when),
    )


def end(
    job_id: str, status: str, *, attempt: int = 1, when: float = 2.0, error: str | None = None
) -> AttemptEnd:
    outcome = "completed" if status == "COMPLETED" else "failed"
    return AttemptEnd(job_id, attempt, status, outcome, error, at(when))


def new_id() -> str:
    return str(uuid.uuid4())


async def must_get(store: JobStore, job_id: str) -> JobRecord:
    record = await store.get(job_id)
    assert record is not None, f"job {job_id} not found"
    return record


async def test_begin_creates_an_executing_row_with_its_first_attempt(job_store: JobStore) -> None:
    """begin makes a new job EXECUTING with its fields and one open attempt in the history."""
    job_id = new_id()
    await job_store.begin([start(job_id, when=1.5, created=0.25)])

    job = await must_get(job_store, job_id)
    assert (job.id, job.type, job.status, job.attempts, job.run) == (
        job_id,
        "report",
        "EXECUTING",
        1,
        1,
    )
    assert job.payload == {"simulate": {"durationMs": 5}, "nested": {"ünïcode": True}}
    assert job.metadata == {"source": "test"}
    assert job.created_at == at(0.25)
    assert job.updated_at == at(1.5)
    assert job.completed_at is None
    assert job.last_error is None
    assert [a.as_dict() for a in job.history] == [
        {
            "attempt": 1,
            "startedAt": "2026-03-01T12:00:01.500Z",
            "finishedAt": None,
            "outcome": None,
            "error": None,
        }
    ]


async def test_finish_completes_or_fails_a_job(job_store: JobStore) -> None:
    """finish sets COMPLETED or FAILED (with its error), completed_at and the attempt outcome."""
    done, broken = new_id(), new_id()
    await job_store.begin([start(done), start(broken)])
    await job_store.finish(
        [end(done, "COMPLETED", when=3.0), end(broken, "FAILED", when=4.0, error="disk on fire")]
    )

    ok = await must_get(job_store, done)
    assert (ok.status, ok.completed_at, ok.updated_at, ok.last_error) == (
        "COMPLETED",
        at(3.0),
        at(3.0),
        None,
    )
    assert [(a.outcome, a.finished_at, a.error) for a in ok.history] == [
        ("completed", at(3.0), None)
    ]
    bad = await must_get(job_store, broken)
    assert (bad.status, bad.completed_at, bad.last_error) == ("FAILED", at(4.0), "disk on fire")
    assert [(a.outcome, a.error) for a in bad.history] == [("failed", "disk on fire")]


async def test_load_returns_the_state_of_existing_jobs_only(job_store: JobStore) -> None:
    """load answers status, attempts, run and latest event id of known ids; unknown are left out."""
    job_id, unknown = new_id(), new_id()
    first = start(job_id)
    assert await job_store.load([job_id]) == {}
    await job_store.begin([first])
    await job_store.finish([end(job_id, "EXECUTING", error="flaky")])
    second = start(job_id, attempt=2, when=3.0)
    await job_store.begin([second])

    states = await job_store.load([job_id, unknown])
    assert list(states) == [job_id]
    state = states[job_id]
    assert (state.id, state.status, state.attempts, state.run, state.event_id) == (
        job_id,
        "EXECUTING",
        2,
        1,
        second.event_id,
    )
    assert await job_store.load([]) == {}


async def test_history_lists_every_attempt_in_order(job_store: JobStore) -> None:
    """get lists attempts 1..n in order; between attempts of a run the job shows the last error."""
    job_id = new_id()
    for attempt in (1, 2):
        await job_store.begin([start(job_id, attempt=attempt, when=attempt * 10)])
        await job_store.finish(
            [end(job_id, "EXECUTING", attempt=attempt, when=attempt * 10 + 1, error=f"e{attempt}")]
        )
        between = await must_get(job_store, job_id)
        assert (between.status, between.last_error, between.completed_at) == (
            "EXECUTING",
            f"e{attempt}",
            None,
        )
    await job_store.begin([start(job_id, attempt=3, when=30)])
    await job_store.finish([end(job_id, "COMPLETED", attempt=3, when=31)])

    job = await must_get(job_store, job_id)
    assert (job.status, job.attempts, job.last_error) == ("COMPLETED", 3, None)
    assert [(a.attempt, a.started_at, a.finished_at, a.outcome, a.error) for a in job.history] == [
        (1, at(10), at(11), "failed", "e1"),
        (2, at(20), at(21), "failed", "e2"),
        (3, at(30), at(31), "completed", None),
    ]


async def test_a_new_run_after_failed_resets_the_error(job_store: JobStore) -> None:
    """Retrying a FAILED job starts run 2 EXECUTING with no error or completed_at, history kept."""
    job_id = new_id()
    await job_store.begin([start(job_id)])
    await job_store.finish([end(job_id, "FAILED", error="boom")])

    await job_store.begin([start(job_id, attempt=2, run=2, when=5.0)])

    job = await must_get(job_store, job_id)
    assert (job.status, job.run, job.attempts, job.last_error, job.completed_at) == (
        "EXECUTING",
        2,
        2,
        None,
        None,
    )
    assert [(a.attempt, a.outcome, a.error) for a in job.history] == [
        (1, "failed", "boom"),
        (2, None, None),
    ]


async def test_get_unknown_job_is_none(job_store: JobStore) -> None:
    """get answers None for an id that was never stored."""
    assert await job_store.get(new_id()) is None


async def seed(store: JobStore, count: int = 25) -> list[JobRecord]:
    """`count` jobs of three types and three statuses; rows 10-14 share one created_at.

    Returns them newest first, the order every listing must use (created_at, then id)."""
    starts, ends = [], []
    for n in range(count):
        created = 10.0 if 10 <= n < 15 else float(n)
        job_id = new_id()
        starts.append(start(job_id, created=created, type=("alpha", "beta", "gamma")[n % 3]))
        if n % 4 == 1:
            ends.append(end(job_id, "COMPLETED"))
        elif n % 4 == 2:
            ends.append(end(job_id, "FAILED", error=f"failure {n}"))
    await store.begin(starts)
    await store.finish(ends)
    records = [await must_get(store, s.job_id) for s in starts]
    return sorted(records, key=lambda r: (r.created_at, r.id), reverse=True)


async def walk(
    store: JobStore, *, status: str | None = None, type: str | None = None, limit: int
) -> tuple[list[str], list[int]]:
    """Follow nextCursor to the end; returns the ids seen and the page sizes."""
    ids: list[str] = []
    sizes: list[int] = []
    cursor: str | None = None
    while True:
        page = await store.page(JobFilter(status=status, type=type), limit=limit, cursor=cursor)
        ids += [item.id for item in page.items]
        sizes.append(len(page.items))
        if page.next_cursor is None:
            return ids, sizes
        assert len(sizes) < 50, "cursor does not advance"
        cursor = page.next_cursor


async def test_recent_lists_newest_first(job_store: JobStore) -> None:
    """recent(n) is the n newest jobs, newest first."""
    jobs = await seed(job_store)
    recent = await job_store.recent(5)
    assert [job.id for job in recent] == [job.id for job in jobs[:5]]
    assert [job.id for job in await job_store.recent(100)] == [job.id for job in jobs]


async def test_cursors_walk_every_row_once_in_order(job_store: JobStore) -> None:
    """Paging 25 jobs 7 at a time visits each job exactly once, newest first, ties broken by id."""
    jobs = await seed(job_store)

    ids, sizes = await walk(job_store, limit=7)

    assert sizes == [7, 7, 7, 4]
    assert ids == [job.id for job in jobs]
    assert len(set(ids)) == 25


async def test_page_filters_by_status_and_type(job_store: JobStore) -> None:
    """Status and type filters give only matching jobs, newest first; cursors walk them all."""
    jobs = await seed(job_store)

    def expect(status: str | None, type: str | None) -> list[str]:
        return [
            j.id
            for j in jobs
            if (status is None or j.status == status) and (type is None or j.type == type)
        ]

    failed = await job_store.page(JobFilter(status="FAILED"), limit=100, cursor=None)
    assert [j.id for j in failed.items] == expect("FAILED", None)
    assert {j.status for j in failed.items} == {"FAILED"}
    assert failed.next_cursor is None
    both = await job_store.page(JobFilter(status="COMPLETED", type="beta"), limit=100, cursor=None)
    assert [j.id for j in both.items] == expect("COMPLETED", "beta") != []
    # 9 alpha jobs in pages of 3: the third page is full and is still the last one.
    ids, sizes = await walk(job_store, type="alpha", limit=3)
    assert (ids, sizes) == (expect(None, "alpha"), [3, 3, 3])
    ids, _ = await walk(job_store, status="EXECUTING", limit=2)
    assert ids == expect("EXECUTING", None)
    none = await job_store.page(JobFilter(status="PENDING"), limit=10, cursor=None)
    assert (none.items, none.next_cursor) == ([], None)


BAD_CURSORS = {
    "garbage": "not a cursor!",
    "no-separator": "bm8tc2VwYXJhdG9y",  # base64 of "no-separator"
    "not-utf8": "__8",  # base64 of b"\xff\xff"
    "bad-time": encode_cursor("yesterday", str(uuid.uuid4())),
    "bad-id": encode_cursor("2026-03-01T12:00:00.000Z", "not-a-uuid"),
    # uuid.UUID() takes these; a uuid column does not.
    "id-with-plus": encode_cursor("2026-03-01T12:00:00.000Z", "+" + uuid.uuid4().hex[1:]),
    "id-with-blank": encode_cursor("2026-03-01T12:00:00.000Z", f" {uuid.uuid4()} "),
    # Times that parse but have no UTC form within 1970-9999.
    "year-1-east": encode_cursor("0001-01-01T00:00:00+23:59", str(uuid.uuid4())),
    "year-9999-west": encode_cursor("9999-12-31T23:59:59-23:59", str(uuid.uuid4())),
    "year-1-utc": encode_cursor("0001-01-01T00:00:00Z", str(uuid.uuid4())),
    "before-1970": encode_cursor("1969-12-31T23:59:59.999Z", str(uuid.uuid4())),
    "no-offset": encode_cursor("2026-03-01T12:00:00", str(uuid.uuid4())),
}


@pytest.mark.parametrize("cursor", BAD_CURSORS.values(), ids=BAD_CURSORS.keys())
async def test_a_bad_cursor_raises_value_error(job_store: JobStore, cursor: str) -> None:
    """A cursor the store did not make is refused with ValueError (the read model's 400),
    the same on every engine: never a database error (DependencyDown)."""
    await seed(job_store, 3)
    with pytest.raises(ValueError):
        await job_store.page(JobFilter(), limit=2, cursor=cursor)


async def test_count_is_the_number_of_jobs(job_store: JobStore) -> None:
    """count is 0 on an empty store and the number of distinct jobs after writes."""
    assert await job_store.count() == 0
    jobs = await seed(job_store, 6)
    await job_store.begin([start(jobs[0].id, attempt=2, when=9.0)])  # same job again
    assert await job_store.count() == 6


async def test_opening_twice_keeps_the_schema_and_the_data(
    job_store_engine: Engine[JobStore],
) -> None:
    """Migrations are idempotent: opening the same store again, even alongside, keeps its rows."""
    first = await job_store_engine.open()
    job_id = new_id()
    await first.begin([start(job_id)])
    second = await job_store_engine.open()
    await job_store_engine.close(first)
    third = await job_store_engine.open()

    for store in (second, third):
        assert await store.count() == 1
        assert (await must_get(store, job_id)).status == "EXECUTING"
    await third.finish([end(job_id, "COMPLETED")])
    assert (await must_get(second, job_id)).status == "COMPLETED"
