"""JobStore.page with a JobFilter: every filter, alone and combined, selects the same jobs
on every engine, newest first, and cursors walk the selection (SPEC §13)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from observatory.core.stores import postgres_job_search
from observatory.core.stores.ports import JobStore
from observatory.core.stores.records import AttemptEnd, AttemptStart, JobFilter, JobRecord

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
TYPES = ("alpha", "beta", "gamma")
ERRORS = ("Disk on FIRE", "timeout after 5s", "100%_done? no")
METAS: tuple[dict[str, Any], ...] = (
    {"tenant": "acme", "n": 5, "flag": True},
    {"tenant": "globex", "n": "5", "nested": {"a": 1}},
    {"tenant": "acme", "n": 7.5},
    {},
)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


async def seed(store: JobStore, count: int = 24) -> list[JobRecord]:
    """`count` jobs a second apart: types, metadata and errors in turn; every third job
    COMPLETED, every third FAILED (with one of ERRORS), the rest EXECUTING; the job
    updated 100 s after its creation plus its number."""
    starts, ends = [], []
    for n in range(count):
        job_id = str(uuid.uuid4())
        starts.append(
            AttemptStart(
                job_id=job_id,
                type=TYPES[n % 3],
                payload={},
                metadata=METAS[n % 4],
                created_at=at(n),
                attempt=1,
                run=1,
                event_id=str(uuid.uuid4()),
                correlation_id=str(uuid.uuid4()),
                at=at(n + 1),
            )
        )
        if n % 3 == 1:
            ends.append(AttemptEnd(job_id, 1, "COMPLETED", "completed", None, at(100 + n)))
        elif n % 3 == 2:
            error = ERRORS[n % 2 + (n % 5 == 0)]
            ends.append(AttemptEnd(job_id, 1, "FAILED", "failed", error, at(100 + n)))
    await store.begin(starts)
    await store.finish(ends)
    found = [await store.get(s.job_id) for s in starts]
    records = [r for r in found if r is not None]
    return sorted(records, key=lambda r: (r.created_at, r.id), reverse=True)


async def walk(store: JobStore, job_filter: JobFilter, limit: int = 4) -> list[str]:
    """Every id the filter selects, following nextCursor to the end."""
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(100):
        page = await store.page(job_filter, limit=limit, cursor=cursor)
        ids += [item.id for item in page.items]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor
    raise AssertionError("cursor does not advance")


def meta_text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else json.dumps(value)


def matches(job: JobRecord, f: JobFilter) -> bool:
    """The filter's meaning, spelled out in Python."""
    return (
        (f.id_prefix is None or job.id.startswith(f.id_prefix))
        and (f.type is None or job.type == f.type)
        and (f.status is None or job.status == f.status)
        and (f.created_from is None or job.created_at >= f.created_from)
        and (f.created_to is None or job.created_at < f.created_to)
        and (f.updated_from is None or job.updated_at >= f.updated_from)
        and (f.updated_to is None or job.updated_at < f.updated_to)
        and (f.error is None or f.error.lower() in (job.last_error or "").lower())
        and all(meta_text(job.metadata.get(k)) == v for k, v in f.meta)
    )


FILTERS = {
    "type": JobFilter(type="beta"),
    "status": JobFilter(status="FAILED"),
    "from": JobFilter(created_from=at(5)),
    "to": JobFilter(created_to=at(5)),
    "from-to": JobFilter(created_from=at(3), created_to=at(17)),
    "from-to-sub-ms": JobFilter(
        created_from=at(3) + timedelta(microseconds=1),
        created_to=at(17) - timedelta(microseconds=1),
    ),
    "updated": JobFilter(updated_from=at(105), updated_to=at(120)),
    "updated-from": JobFilter(updated_from=at(10)),
    "updated-to": JobFilter(updated_to=at(110)),
    "updated-status": JobFilter(updated_from=at(5), status="EXECUTING"),
    "updated-created": JobFilter(updated_from=at(5), created_to=at(20), type="alpha"),
    "error-case": JobFilter(error="disk on fire"),
    "error-like-chars": JobFilter(error="%_d"),
    "error-percent-alone": JobFilter(error="%"),
    "meta-string": JobFilter(meta=(("tenant", "acme"),)),
    "meta-number-text": JobFilter(meta=(("n", "5"),)),
    "meta-float": JobFilter(meta=(("n", "7.5"),)),
    "meta-bool": JobFilter(meta=(("flag", "true"),)),
    "meta-object": JobFilter(meta=(("nested", '{"a": 1}'),)),
    "meta-two": JobFilter(meta=(("tenant", "acme"), ("n", "5"))),
    "meta-missing-key": JobFilter(meta=(("nobody", "x"),)),
    "meta-status": JobFilter(status="FAILED", meta=(("tenant", "acme"),)),
    "meta-error-type": JobFilter(error="fire", type="gamma", meta=(("n", "5"),)),
    # narrowed searches on values of other JSON kinds, and texts no number is written as
    "meta-float-status": JobFilter(status="FAILED", meta=(("n", "7.5"),)),
    "meta-bool-type": JobFilter(type="alpha", meta=(("flag", "true"),)),
    "meta-object-status": JobFilter(status="FAILED", meta=(("nested", '{"a": 1}'),)),
    "meta-number-other-text": JobFilter(status="EXECUTING", meta=(("n", "5.0"),)),
    "meta-nan-type": JobFilter(type="gamma", meta=(("n", "NaN"),)),
    "meta-exponent-type": JobFilter(type="gamma", meta=(("n", "1E-20000"),)),
    "meta-quoted-string": JobFilter(status="FAILED", meta=(("tenant", '"acme"'),)),
    "combined": JobFilter(
        type="gamma", status="FAILED", created_from=at(2), meta=(("tenant", "acme"),)
    ),
    "nothing": JobFilter(status="PENDING"),
}


@pytest.mark.parametrize("job_filter", FILTERS.values(), ids=FILTERS.keys())
async def test_each_filter_selects_what_it_means(
    job_store: JobStore, job_filter: JobFilter
) -> None:
    """Each filter, alone or combined, selects exactly the jobs its meaning names, newest
    first, paging 4 at a time walks them all once, and count_matching counts them."""
    jobs = await seed(job_store)
    expected = [j.id for j in jobs if matches(j, job_filter)]

    assert await walk(job_store, job_filter) == expected
    whole = await job_store.page(job_filter, limit=100, cursor=None)
    assert [j.id for j in whole.items] == expected
    assert whole.next_cursor is None
    assert await job_store.count_matching(job_filter) == len(expected)


async def test_meta_filters_find_values_of_any_json_kind(job_store: JobStore) -> None:
    """The text form decides: "5" finds both the number 5 and the string "5", "true" the
    boolean; sanity check that the expectation above is not vacuous."""
    jobs = await seed(job_store, 8)
    five = await walk(job_store, JobFilter(meta=(("n", "5"),)))
    assert len(five) == 4
    assert {type(j.metadata["n"]) for j in jobs if j.id in five} == {int, str}
    assert len(await walk(job_store, JobFilter(meta=(("flag", "true"),)))) == 2


async def test_an_id_prefix_finds_its_job_in_any_length(job_store: JobStore) -> None:
    """A prefix of a job's canonical id, from 1 character to the whole id (hyphens
    included), finds that job and only jobs that start alike."""
    jobs = await seed(job_store, 12)
    target = jobs[3].id
    for length in (1, 2, 8, 9, 14, 20, 36):
        prefix = target[:length]
        found = await walk(job_store, JobFilter(id_prefix=prefix))
        assert target in found
        assert found == [j.id for j in jobs if j.id.startswith(prefix)]


async def test_a_job_run_again_is_listed_once_under_its_metadata(job_store: JobStore) -> None:
    """A job begun again (a retry, a redelivery) is still one row of a metadata search,
    and long values no filter can ask for do not stop it from being stored."""
    jobs = await seed(job_store, 4)
    target = next(j for j in jobs if j.metadata)
    again = AttemptStart(
        job_id=target.id,
        type=target.type,
        payload={},
        metadata={**target.metadata, "long": "x" * 500},
        created_at=target.created_at,
        attempt=2,
        run=2,
        event_id=str(uuid.uuid4()),
        correlation_id=str(uuid.uuid4()),
        at=at(500),
    )
    await job_store.begin([again])
    key, value = next(iter(target.metadata.items()))
    job_filter = JobFilter(meta=((key, meta_text(value) or ""),))
    found = await walk(job_store, job_filter)
    assert found.count(target.id) == 1
    assert await job_store.count_matching(job_filter) == len(found)


@pytest.mark.parametrize("walk_rows", [1, 2, 1000])
@pytest.mark.parametrize("rare", [0, 2, 4096])
@pytest.mark.parametrize("probe", [1, 3, 5])
async def test_meta_search_answers_the_same_whatever_the_probe_finds(
    job_store: JobStore,
    probe: int,
    rare: int,
    walk_rows: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL lets job_meta drive a narrowed metadata search when the value is rare
    (at most RARE_ROWS jobs), else first probes the newest rows the other filters select,
    then lets job_meta drive it; with a final status job_meta_final drives, its first
    WALK_ROWS pairs first, then the probe, then the pairs after them: whichever way is
    taken, with a probe or a first walk too small to fill a page or to reach the end,
    every metadata filter still selects what it means (SQLite has neither: the same
    answers)."""
    monkeypatch.setattr(postgres_job_search, "PROBE_ROWS", probe)
    monkeypatch.setattr(postgres_job_search, "RARE_ROWS", rare)
    monkeypatch.setattr(postgres_job_search, "WALK_ROWS", walk_rows)
    jobs = await seed(job_store)
    for name, job_filter in FILTERS.items():
        if job_filter.meta:
            expected = [j.id for j in jobs if matches(j, job_filter)]
            assert await walk(job_store, job_filter) == expected, name


@pytest.mark.parametrize("range_rows", [0, 3, 20_000])
async def test_update_range_search_answers_the_same_whichever_way_it_is_read(
    job_store: JobStore, range_rows: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL reads a search from an `updatedFrom` through the update range's index
    when the range holds at most RANGE_ROWS matches, else walks creation order; with the
    limit below, at or above a page's worth, every update filter selects what it means,
    page after page, newest created first (SQLite: the same answers)."""
    monkeypatch.setattr(postgres_job_search, "RANGE_ROWS", range_rows)
    jobs = await seed(job_store)
    for name, job_filter in FILTERS.items():
        if job_filter.updated_from is not None or job_filter.updated_to is not None:
            expected = [j.id for j in jobs if matches(j, job_filter)]
            assert expected, name
            assert await walk(job_store, job_filter) == expected, name
