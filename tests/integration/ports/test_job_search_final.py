"""A search by status and metadata follows each job through its lifecycle on every engine
(SPEC §13): a job is listed under the status it has now, whichever way it got there
(finished, failed, cancelled, failed and run again, purged). PostgreSQL answers a final
status from the pairs it wrote when the job reached it (`job_meta_final`, migration
jobs_0006), and a database migrated from before that table finds its finished jobs too."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from tests.integration.ports.engines import Engine
from tests.integration.ports.test_job_store import at, end, must_get, new_id, start
from tests.integration.ports.test_job_store_lifecycle import pending

from observatory.core.stores.ports import JobStore
from observatory.core.stores.postgres_base import PostgresAdapter
from observatory.core.stores.records import AttemptStart, JobFilter

STATUSES = ("PENDING", "EXECUTING", "COMPLETED", "FAILED", "CANCELLED")


def tagged(
    job_id: str, tag: str, *, attempt: int = 1, run: int = 1, when: float = 1.0
) -> AttemptStart:
    began = start(job_id, attempt=attempt, run=run, when=when)
    return dataclasses.replace(began, metadata={"tag": tag, "tier": "gold"})


async def listed(store: JobStore, tag: str) -> dict[str, list[str]]:
    """The tag's jobs under each status, sorted (count_matching agrees)."""
    found = {}
    for status in STATUSES:
        search = JobFilter(status=status, meta=(("tag", tag), ("tier", "gold")))
        page = await store.page(search, limit=50, cursor=None)
        ids = sorted(job.id for job in page.items)
        assert await store.count_matching(search) == len(ids), status
        found[status] = ids
    return found


async def test_a_job_is_listed_under_the_status_it_has_now(job_store: JobStore) -> None:
    """Six jobs of one tag through finish, failure, cancel, a retry and an operator's
    rerun, then a purge: each search by status and metadata lists exactly the jobs with
    that status now (a rerun's FAILED pairs stay behind in PostgreSQL and are skipped)."""
    tag = f"t-{uuid.uuid4()}"
    done, failed, again, retried, cancelled, running = (new_id() for _ in range(6))
    await job_store.accept(
        [dataclasses.replace(pending(cancelled), metadata={"tag": tag, "tier": "gold"})]
    )
    await job_store.begin([tagged(j, tag) for j in (done, failed, again, retried, running)])
    await job_store.finish(
        [
            end(done, "COMPLETED"),
            end(failed, "FAILED", error="disk full"),
            end(again, "FAILED", error="disk full"),
            end(retried, "EXECUTING", error="first try"),  # a retry follows
        ]
    )
    assert await job_store.cancel(cancelled, at(3)) == ("CANCELLED", True)

    assert await listed(job_store, tag) == {
        "PENDING": [],
        "EXECUTING": sorted([retried, running]),
        "COMPLETED": [done],
        "FAILED": sorted([failed, again]),
        "CANCELLED": [cancelled],
    }

    # an operator's retry: FAILED -> PENDING -> EXECUTING -> COMPLETED in run 2; the retry
    # of `retried` completes in its second attempt
    await job_store.accept(
        [dataclasses.replace(pending(again, run=2, when=5), metadata={"tag": tag})]
    )
    assert (await listed(job_store, tag))["FAILED"] == [failed]
    assert (await listed(job_store, tag))["PENDING"] == [again]
    await job_store.begin(
        [tagged(again, tag, run=2, when=6), tagged(retried, tag, attempt=2, when=6)]
    )
    await job_store.finish(
        [end(again, "COMPLETED", when=7), end(retried, "COMPLETED", attempt=2, when=7)]
    )

    assert await listed(job_store, tag) == {
        "PENDING": [],
        "EXECUTING": [running],
        "COMPLETED": sorted([done, again, retried]),
        "FAILED": [failed],
        "CANCELLED": [cancelled],
    }
    narrowed = JobFilter(status="FAILED", error="DISK", meta=(("tier", "gold"), ("tag", tag)))
    assert [j.id for j in (await job_store.page(narrowed, limit=5, cursor=None)).items] == [failed]

    # purged: gone from every search
    assert await job_store.remove([done, failed, cancelled], before=at(100)) == (
        3,
        2,
    )  # the cancelled job never ran
    assert await listed(job_store, tag) == {
        "PENDING": [],
        "EXECUTING": [running],
        "COMPLETED": sorted([again, retried]),
        "FAILED": [],
        "CANCELLED": [],
    }
    assert (await must_get(job_store, again)).status == "COMPLETED"


@pytest.mark.parametrize("job_store_target", ["postgres"], indirect=True)
async def test_jobs_finished_before_the_migration_are_found_after_it(
    job_store_engine: Engine[JobStore],
) -> None:
    """A database from before jobs_0006: its finished jobs' pairs are copied into
    `job_meta_final` when the job store next starts, and searches by status find them."""
    tag = f"t-{uuid.uuid4()}"
    done, failed, running = new_id(), new_id(), new_id()
    old = await job_store_engine.open()
    await old.begin([tagged(j, tag) for j in (done, failed, running)])
    await old.finish([end(done, "COMPLETED"), end(failed, "FAILED", error="boom")])
    assert isinstance(old, PostgresAdapter)
    await old.pool.execute(
        "DROP TABLE job_meta_final;"
        " DELETE FROM schema_migrations WHERE component = 'jobs' AND version = 6"
    )
    await job_store_engine.close(old)

    migrated = await job_store_engine.open()
    assert await listed(migrated, tag) == {
        "PENDING": [],
        "EXECUTING": [running],
        "COMPLETED": [done],
        "FAILED": [failed],
        "CANCELLED": [],
    }
