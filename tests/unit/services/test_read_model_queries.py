"""The read model's queries over the embedded job store, event store and counters, with a
fixed clock: what /stats, /jobs/recent, /jobs, /jobs/{id} and /events answer (SPEC §5.4)."""

from __future__ import annotations

import random
from typing import Any, cast

import pytest
from tests.unit.services.embedded import Embedded, event, job, lifecycle

from observatory.core.clock import parse_iso
from observatory.core.errors import DependencyDown
from observatory.core.stores.ports import EventStore, JobStore
from observatory.core.stores.records import AttemptEnd, AttemptStart, CounterEffect, JobFilter
from observatory.services.read_model.queries import Queries


@pytest.fixture
def queries(embedded: Embedded) -> Queries:
    return Queries(jobs=embedded.jobs, events=embedded.events, counters=embedded.counters)


async def run(embedded: Embedded, of_job: dict[str, Any], *, ends: str | None = None) -> None:
    """The processor's writes for one attempt of `of_job`: begun, and finished if `ends`."""
    clock = embedded.clock
    await embedded.jobs.begin(
        [
            AttemptStart(
                job_id=of_job["id"],
                type=of_job["type"],
                payload=of_job.get("payload", {}),
                metadata={},
                created_at=parse_iso(of_job["createdAt"]),
                attempt=1,
                run=1,
                event_id=clock.new_id(),
                correlation_id=clock.new_id(),
                at=clock.now(),
            )
        ]
    )
    if ends is not None:
        clock.advance(1)
        error = None if ends == "COMPLETED" else "boom"
        outcome = "completed" if ends == "COMPLETED" else "failed"
        await embedded.jobs.finish([AttemptEnd(of_job["id"], 1, ends, outcome, error, clock.now())])


async def test_stats_answer_the_counters(queries: Queries, embedded: Embedded) -> None:
    """Totals, in flight (total - completed - failed - cancelled) and the latest event time."""
    await embedded.counters.apply(
        [
            CounterEffect("created:a", {"total": 1}, "2026-01-01T00:00:01.000Z"),
            CounterEffect("created:b", {"total": 1}, "2026-01-01T00:00:02.000Z"),
            CounterEffect("created:c", {"total": 1}, "2026-01-01T00:00:03.000Z"),
            CounterEffect("terminal:a:1", {"completed": 1}, "2026-01-01T00:00:04.000Z"),
            CounterEffect("terminal:b:1", {"failed": 1}, "2026-01-01T00:00:05.000Z"),
            CounterEffect("created:b:2", {"retried": 1}, "2026-01-01T00:00:06.000Z"),
            CounterEffect("dead:x", {"dead_letters": 1}),
            CounterEffect("created:d", {"total": 1}, "2026-01-01T00:00:01.500Z"),
            CounterEffect("terminal:d:1", {"cancelled": 1}, "2026-01-01T00:00:05.500Z"),
        ]
    )
    assert await queries.stats() == {
        "totalJobs": 4,
        "completedJobs": 1,
        "failedJobs": 1,
        "inFlightJobs": 1,
        "retriedJobs": 1,
        "deadLetters": 1,
        "lastEventTime": "2026-01-01T00:00:06.000Z",
        "cancelledJobs": 1,
    }


async def test_stats_of_a_fresh_system_are_zero(queries: Queries) -> None:
    """Before any event every figure is 0 and lastEventTime is empty."""
    stats = await queries.stats()
    assert stats["totalJobs"] == stats["inFlightJobs"] == stats["deadLetters"] == 0
    assert stats["lastEventTime"] == ""


async def test_recent_jobs_are_newest_first(queries: Queries, embedded: Embedded) -> None:
    """/jobs/recent lists the newest jobs first, each as its summary."""
    clock = embedded.clock
    made = []
    for _ in range(4):
        made.append(job(clock))
        await run(embedded, made[-1], ends="COMPLETED")
        clock.advance(10)

    recent = await queries.recent_jobs(3)

    assert [j["id"] for j in recent] == [j["id"] for j in reversed(made)][:3]
    assert recent[0] == {
        "id": made[-1]["id"],
        "type": "UNIT",
        "status": "COMPLETED",
        "createdAt": made[-1]["createdAt"],
        "updatedAt": recent[0]["updatedAt"],
        "attempts": 1,
        "error": None,
    }


async def test_pages_cover_every_job_once_and_filter(queries: Queries, embedded: Embedded) -> None:
    """Following nextCursor walks every job newest first, without gaps or repeats; the
    status and type filters keep only what they name."""
    clock = embedded.clock
    made = []
    for n in range(7):
        made.append(job(clock, type="EVEN" if n % 2 == 0 else "ODD"))
        await run(embedded, made[-1], ends="FAILED" if n % 3 == 0 else "COMPLETED")
        clock.advance(5)

    seen: list[str] = []
    cursor = None
    while True:
        page = await queries.jobs_page(JobFilter(), limit=3, cursor=cursor)
        seen += [j["id"] for j in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            break
    assert seen == [j["id"] for j in reversed(made)]

    failed = await queries.jobs_page(JobFilter(status="FAILED"), limit=10, cursor=None)
    assert [j["id"] for j in failed["items"]] == [made[6]["id"], made[3]["id"], made[0]["id"]]
    assert all(j["error"] == "boom" for j in failed["items"])
    odd = await queries.jobs_page(JobFilter(type="ODD"), limit=10, cursor=None)
    assert {j["type"] for j in odd["items"]} == {"ODD"}
    assert len(odd["items"]) == 3
    assert odd["nextCursor"] is None


async def test_a_job_detail_has_its_attempts_and_its_timeline_in_order(
    queries: Queries, embedded: Embedded
) -> None:
    """Events stored in any order come back in time order; events of the same millisecond
    in lifecycle order (created before validated before executed before the end)."""
    clock = embedded.clock
    one = job(clock, payload={"n": 1})
    envelopes = [event(clock, t, one) for t in ("job.created", "job.validated", "job.executed")]
    clock.advance(1)
    envelopes.append(event(clock, "job.completed", one, status="COMPLETED"))
    shuffled = envelopes[:]
    random.Random(7).shuffle(shuffled)
    for envelope in shuffled:  # one insert each: storage order is the shuffled order
        await embedded.events.insert([envelope])
    await run(embedded, one, ends="COMPLETED")

    detail = await queries.job(one["id"])

    assert detail is not None
    assert (detail["status"], detail["attempts"], detail["payload"]) == ("COMPLETED", 1, {"n": 1})
    assert [a["outcome"] for a in detail["attemptHistory"]] == ["completed"]
    assert [e["eventType"] for e in detail["events"]] == [
        "job.created",
        "job.validated",
        "job.executed",
        "job.completed",
    ]


async def test_a_job_waiting_in_the_queue_is_pending_from_its_created_event(
    queries: Queries, embedded: Embedded
) -> None:
    """No row yet (the processor has not taken it): answered from job.created, PENDING,
    with createdAt in the store's form."""
    clock = embedded.clock
    waiting = job(clock, metadata={"who": "me"})
    waiting["createdAt"] = "2026-01-01T01:00:00+01:00"
    created = event(clock, "job.created", waiting)
    await embedded.events.insert([created])

    detail = await queries.job(waiting["id"])

    assert detail is not None
    assert detail["status"] == "PENDING"
    assert detail["createdAt"] == "2026-01-01T00:00:00.000Z"
    assert (detail["attempts"], detail["attemptHistory"], detail["completedAt"]) == (0, [], None)
    assert detail["metadata"] == {"who": "me"}
    assert detail["events"] == [created]


async def test_a_traced_jobs_detail_names_its_trace_and_links_to_it(embedded: Embedded) -> None:
    """traceId: the newest run's job.created names the job's trace (a retried job's second
    run is a new trace); traceUrl: ODTO_TRACE_URL filled in. Untraced: neither field."""
    clock = embedded.clock
    traced, untraced = job(clock), job(clock)
    first, second = "1" * 32, "2" * 32
    await embedded.events.insert(
        [
            {**event(clock, "job.created", traced), "traceId": first},
            {**event(clock, "job.failed", traced, status="FAILED"), "traceId": first},
            event(clock, "job.created", untraced),
        ]
    )
    clock.advance(1)
    rerun = {**event(clock, "job.created", traced, run=2), "traceId": second}
    rerun["idempotencyKey"] = f"{traced['id']}:run2"
    await embedded.events.insert([rerun])
    linked = Queries(
        jobs=embedded.jobs,
        events=embedded.events,
        counters=embedded.counters,
        trace_url="http://jaeger.example/trace/{traceId}?uiEmbed=v0",
    )

    detail = await linked.job(traced["id"])
    assert detail is not None
    assert detail["traceId"] == second
    assert detail["traceUrl"] == f"http://jaeger.example/trace/{second}?uiEmbed=v0"
    plain = await linked.job(untraced["id"])
    assert plain is not None
    assert "traceId" not in plain
    assert "traceUrl" not in plain
    unlinked = Queries(jobs=embedded.jobs, events=embedded.events, counters=embedded.counters)
    detail = await unlinked.job(traced["id"])
    assert detail is not None
    assert (detail["traceId"], "traceUrl" in detail) == (second, False)


async def test_an_unknown_job_has_no_detail(queries: Queries, embedded: Embedded) -> None:
    """Neither a row nor a job.created: no detail (the route answers 404)."""
    assert await queries.job(embedded.clock.new_id()) is None


async def test_a_job_detail_with_its_event_store_down_is_dependency_down(
    embedded: Embedded,
) -> None:
    """The job's row, events and audit are read at once: the event store failing fails the
    detail with DependencyDown (the route's 503), after the job store's read has ended."""
    one = job(embedded.clock)
    await run(embedded, one, ends="COMPLETED")
    job_reads: list[str] = []

    class JobsWatched:
        async def get(self, job_id: str) -> Any:
            found = await embedded.jobs.get(job_id)
            job_reads.append(job_id)
            return found

    class EventsDown:
        async def for_job(self, job_id: str, *, limit: int, newest_first: bool) -> Any:
            raise DependencyDown("event_store", "down")

        async def audit_for_job(self, job_id: str, limit: int) -> Any:
            return []

    down = Queries(
        jobs=cast(JobStore, JobsWatched()),
        events=cast(EventStore, EventsDown()),
        counters=embedded.counters,
    )
    with pytest.raises(DependencyDown):
        await down.job(one["id"])
    assert job_reads == [one["id"]]


async def test_events_are_newest_first_for_a_job_and_overall(
    queries: Queries, embedded: Embedded
) -> None:
    """/events of a job, and of every job, newest first."""
    clock = embedded.clock
    first, second = job(clock), job(clock)
    await embedded.events.insert(lifecycle(clock, first) + lifecycle(clock, second))

    mine = await queries.events_for(first["id"], 10)
    assert [e["eventType"] for e in mine] == [
        "job.completed",
        "job.executed",
        "job.validated",
        "job.created",
    ]
    overall = await queries.events_for(None, 5)
    assert [e["payload"]["id"] for e in overall] == [second["id"]] * 4 + [first["id"]]
