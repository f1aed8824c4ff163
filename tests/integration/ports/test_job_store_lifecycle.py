"""The JobStore's PENDING rows and cancel(), proved once against every reachable adapter
(SPEC §13): accept() makes a waiting job visible, cancel() ends a job that waits, and a
cancelled job is never started again, in whichever order cancel and begin come."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid

import pytest
from tests.integration.ports.test_job_store import at, end, must_get, new_id, start

from observatory.core.stores.ports import JobStore
from observatory.core.stores.records import AttemptStart, JobFilter, Pending


def pending(
    job_id: str,
    *,
    run: int = 1,
    when: float = 0.5,
    type: str = "report",
    event_id: str = "",
    metadata: dict[str, str] | None = None,
) -> Pending:
    return Pending(
        job_id=job_id,
        type=type,
        payload={"simulate": {"durationMs": 5}},
        metadata={"source": "test"} if metadata is None else metadata,
        created_at=at(0),
        run=run,
        event_id=event_id or str(uuid.uuid4()),
        correlation_id=str(uuid.uuid4()),
        at=at(when),
    )


@pytest.mark.parametrize("metadata", [{"source": "test"}, {}], ids=["metadata", "none"])
async def test_an_accepted_job_is_listed_as_pending(
    job_store: JobStore, metadata: dict[str, str]
) -> None:
    """accept() gives a new job a PENDING row: found by id, by status and among the recent
    (a batch without metadata or reruns is one statement on PostgreSQL)."""
    job_id = new_id()
    await job_store.accept(
        [pending(job_id, metadata=metadata), pending(new_id(), metadata=metadata)]
    )

    job = await must_get(job_store, job_id)
    assert (job.status, job.attempts, job.run, job.type) == ("PENDING", 0, 1, "report")
    assert (job.payload, job.metadata) == ({"simulate": {"durationMs": 5}}, metadata)
    listed = await job_store.page(JobFilter(status="PENDING"), limit=100, cursor=None)
    assert job_id in [j.id for j in listed.items]
    assert job_id in [j.id for j in await job_store.recent(100)]


async def test_accept_never_moves_a_row_the_processor_wrote(job_store: JobStore) -> None:
    """A PENDING row written late (after the processor began or finished) changes nothing."""
    running, done = new_id(), new_id()
    await job_store.begin([start(running), start(done)])
    await job_store.finish([end(done, "COMPLETED")])

    await job_store.accept([pending(running), pending(done)])

    assert (await must_get(job_store, running)).status == "EXECUTING"
    assert (await must_get(job_store, done)).status == "COMPLETED"


async def test_the_same_job_accepted_twice_keeps_its_first_row(job_store: JobStore) -> None:
    """A repeated submission (in one call or two) keeps the first acceptance's event id."""
    job_id = new_id()
    first = pending(job_id)
    await job_store.accept([first, pending(job_id)])
    await job_store.accept([pending(job_id)])
    assert (await job_store.load([job_id]))[job_id].event_id == first.event_id


async def test_a_rerun_moves_a_failed_job_to_pending_once(job_store: JobStore) -> None:
    """Retrying a FAILED job shows it PENDING with its new run; an older run or a job that
    is not FAILED is left alone."""
    job_id, busy = new_id(), new_id()
    await job_store.begin([start(job_id), start(busy)])
    await job_store.finish([end(job_id, "FAILED", error="boom")])

    await job_store.accept([pending(job_id, run=2, when=5), pending(busy, run=2, when=5)])

    job = await must_get(job_store, job_id)
    assert (job.status, job.run, job.attempts, job.last_error) == ("PENDING", 2, 1, None)
    assert (await must_get(job_store, busy)).status == "EXECUTING"
    await job_store.accept([pending(job_id, run=1, when=6)])  # a stale acceptance
    assert (await must_get(job_store, job_id)).run == 2


async def test_begin_starts_a_pending_job(job_store: JobStore) -> None:
    """The processor's begin() moves a PENDING row to EXECUTING and says it started it."""
    job_id = new_id()
    await job_store.accept([pending(job_id)])
    assert await job_store.begin([start(job_id)]) == [job_id]
    assert (await must_get(job_store, job_id)).status == "EXECUTING"


async def test_cancel_ends_a_pending_job(job_store: JobStore) -> None:
    """A PENDING job becomes CANCELLED (terminal, completedAt set); begin() then skips it."""
    job_id, other = new_id(), new_id()
    await job_store.accept([pending(job_id), pending(other)])

    assert await job_store.cancel(job_id.upper(), at(3)) == ("CANCELLED", True)

    job = await must_get(job_store, job_id)
    assert (job.status, job.completed_at, job.updated_at) == ("CANCELLED", at(3), at(3))
    assert await job_store.begin([start(job_id, when=4), start(other, when=4)]) == [other]
    job = await must_get(job_store, job_id)
    assert (job.status, job.attempts, job.history) == ("CANCELLED", 0, ())


async def test_cancel_ends_a_job_waiting_for_its_retry(job_store: JobStore) -> None:
    """EXECUTING with its latest attempt finished (a retry is due) can be cancelled; the
    retry's begin() then starts nothing and a late finish() does not undo it."""
    job_id = new_id()
    await job_store.begin([start(job_id)])
    await job_store.finish([end(job_id, "EXECUTING", error="first try failed")])

    assert await job_store.cancel(job_id, at(3)) == ("CANCELLED", True)

    assert await job_store.begin([start(job_id, attempt=2, when=4)]) == []
    await job_store.finish([end(job_id, "COMPLETED", attempt=2, when=5)])
    job = await must_get(job_store, job_id)
    assert (job.status, job.attempts) == ("CANCELLED", 1)


async def test_cancel_leaves_running_and_finished_jobs_alone(job_store: JobStore) -> None:
    """A running attempt, a finished job and a cancelled one keep their status, which cancel()
    names, saying it cancelled nothing (a second cancel too); an unknown id or a non-UUID
    is None."""
    running, done, failed, gone = new_id(), new_id(), new_id(), new_id()
    await job_store.begin([start(running), start(done), start(failed)])
    await job_store.finish([end(done, "COMPLETED"), end(failed, "FAILED", error="x")])
    await job_store.accept([pending(gone)])
    assert await job_store.cancel(gone, at(3)) == ("CANCELLED", True)

    assert await job_store.cancel(running, at(4)) == ("EXECUTING", False)
    assert await job_store.cancel(done, at(4)) == ("COMPLETED", False)
    assert await job_store.cancel(failed, at(4)) == ("FAILED", False)
    assert await job_store.cancel(gone, at(4)) == ("CANCELLED", False)
    assert await job_store.cancel(new_id(), at(4)) is None
    assert await job_store.cancel("not-a-uuid", at(4)) is None
    assert (await must_get(job_store, gone)).updated_at == at(3)


async def test_cancel_racing_begin_gives_one_winner(job_store: JobStore) -> None:
    """Many cancels against begin() of the same waiting jobs, concurrently: every job is
    either started (and its cancel saw it running) or cancelled (and not started)."""
    ids = [new_id() for _ in range(40)]
    await job_store.accept([pending(i) for i in ids])

    async def begin_in_slices() -> list[str]:
        started: list[str] = []
        for k in range(0, len(ids), 5):
            started += await job_store.begin([start(i, when=2) for i in ids[k : k + 5]])
        return started

    cancels = asyncio.gather(*(job_store.cancel(i, at(2)) for i in reversed(ids)))
    begun, answered = await asyncio.gather(begin_in_slices(), cancels)
    started = set(begun)
    answers = dict(zip(reversed(ids), answered, strict=True))
    for job_id in ids:
        job = await must_get(job_store, job_id)
        if job_id in started:
            assert answers[job_id] == ("EXECUTING", False)
            assert job.status == "EXECUTING"
        else:
            assert answers[job_id] == ("CANCELLED", True)
            assert (job.status, job.history) == ("CANCELLED", ())


async def test_a_job_is_found_by_its_metadata_once_whichever_row_came_first(
    job_store: JobStore,
) -> None:
    """Accepted then begun, begun then accepted late, or begun alone: the job is one row
    of a search by its metadata while it waits, runs and after it ends (the job_meta pairs
    come from whichever write made the row)."""
    tag = f"t-{uuid.uuid4()}"
    early, late, alone = new_id(), new_id(), new_id()

    meta = {"source": "test", "tag": tag}

    def waits(job_id: str) -> Pending:
        return dataclasses.replace(pending(job_id), metadata=meta)

    def runs(job_id: str) -> AttemptStart:
        return dataclasses.replace(start(job_id), metadata=meta)

    await job_store.accept([waits(early)])
    search = JobFilter(meta=(("tag", tag),))
    waiting = await job_store.page(search, limit=10, cursor=None)
    assert [j.id for j in waiting.items] == [early]

    await job_store.begin([runs(early), runs(late), runs(alone)])
    await job_store.accept([waits(late)])
    await job_store.finish([end(early, "COMPLETED")])
    found = await job_store.page(search, limit=10, cursor=None)
    assert sorted(j.id for j in found.items) == sorted([early, late, alone])
    narrowed = await job_store.page(
        JobFilter(status="EXECUTING", meta=(("tag", tag),)), limit=10, cursor=None
    )
    assert sorted(j.id for j in narrowed.items) == sorted([late, alone])


async def test_a_finished_job_is_not_begun_again_in_its_run(job_store: JobStore) -> None:
    """A processor that decided to run a job before another one finished it (a broker
    failover redelivers the message) must not reopen the finished row: begin() skips a
    COMPLETED or FAILED job of the same run, and starts it again only in a later run (an
    operator's retry)."""
    done, failed, mixed = new_id(), new_id(), new_id()
    await job_store.begin([start(done), start(failed), start(mixed)])
    await job_store.finish(
        [end(done, "COMPLETED"), end(failed, "FAILED", error="boom"), end(mixed, "COMPLETED")]
    )

    begun = await job_store.begin(
        [start(done, when=3), start(failed, attempt=2, when=3), start(mixed, run=2, when=3)]
    )

    assert begun == [mixed]
    job = await must_get(job_store, done)
    assert (job.status, job.attempts, [a.outcome for a in job.history]) == (
        "COMPLETED",
        1,
        ["completed"],
    )
    assert (await must_get(job_store, failed)).status == "FAILED"
    assert (await must_get(job_store, mixed)).status == "EXECUTING"
