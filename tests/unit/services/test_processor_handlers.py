"""The processor's handler over the embedded bus and SQLite job store, with a fixed clock:
what a batch of job.created messages does to the rows, the announcements, the retries
and the dead letters (SPEC §5.2, §12). Deliveries are handed to the handler directly."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest
from tests.unit.services.embedded import Embedded, Message, event, job

from observatory.core.bus.isolation import Isolating
from observatory.core.bus.port import Outcome, Outgoing, Settlement
from observatory.core.clock import iso, parse_iso
from observatory.core.errors import OutcomeUnknown
from observatory.core.stores.records import Pending
from observatory.services.processor.handlers import JobHandler
from observatory.services.processor.lifecycle import ATTEMPT_HEADER
from observatory.services.processor.metrics import ProcessorMetrics
from observatory.services.processor.settings import ProcessorSettings

POISON_CREATED_AT = "0001-01-01T00:00:00+23:59"  # parses, but has no UTC form


def processor(embedded: Embedded, **settings: Any) -> tuple[JobHandler, Isolating]:
    options = {"work_ms": 0, "fail_rate": 0, "max_attempts": 3, "backoff_base": 1.0, **settings}
    handler = JobHandler(
        bus=embedded.bus,
        jobs=embedded.jobs,
        clock=embedded.clock,
        settings=ProcessorSettings(**options),
        metrics=ProcessorMetrics(),
    )
    return handler, Isolating(handler, handler.reject)


def created(embedded: Embedded, **fields: Any) -> Message:
    return embedded.message(
        "jobs.created", event(embedded.clock, "job.created", job(embedded.clock, **fields))
    )


async def settle(outcomes: Sequence[Settlement]) -> list[Outcome]:
    """Each delivery's final outcome (waiting for the ones whose work still runs)."""
    return [o if isinstance(o, Outcome) else await o for o in outcomes]


def job_id(message: Message) -> str:
    return str(message.document()["payload"]["id"])


def announced(embedded: Embedded, queue: str) -> list[dict[str, Any]]:
    return [m.document() for m in embedded.take(queue)]


async def test_a_batch_runs_every_job_to_completed_and_announces_each_step(
    embedded: Embedded,
) -> None:
    _, handle = processor(embedded)
    batch = [created(embedded) for _ in range(3)]
    assert await settle(await handle(batch)) == [Outcome.ACK] * 3
    rows = await embedded.jobs.load([job_id(m) for m in batch])
    assert {r.status for r in rows.values()} == {"COMPLETED"}
    for queue in ("jobs.validated", "jobs.executed", "jobs.completed"):
        assert sorted(e["payload"]["id"] for e in announced(embedded, queue)) == sorted(
            job_id(m) for m in batch
        )


async def test_a_poison_job_is_dead_lettered_and_the_rest_of_its_batch_completes(
    embedded: Embedded,
) -> None:
    """One job whose createdAt cannot be stored among four good ones: the four complete,
    the poison job is dead-lettered with its reason and has no row."""
    _, handle = processor(embedded)
    good = [created(embedded) for _ in range(4)]
    bad = created(embedded, createdAt=POISON_CREATED_AT)
    outcomes = await settle(await handle([good[0], good[1], bad, good[2], good[3]]))
    assert outcomes == [Outcome.ACK, Outcome.ACK, Outcome.REJECT, Outcome.ACK, Outcome.ACK]
    rows = await embedded.jobs.load([job_id(m) for m in [*good, bad]])
    assert set(rows) == {job_id(m) for m in good}
    assert {r.status for r in rows.values()} == {"COMPLETED"}
    letters = announced(embedded, "jobs.failed.validation")
    assert [d["original_event"]["payload"]["id"] for d in letters] == [job_id(bad)]
    assert letters[0]["service"] == "processor"
    assert letters[0]["validation_error"]


async def test_a_redelivered_finished_job_is_announced_again_not_run_again(
    embedded: Embedded,
) -> None:
    _, handle = processor(embedded)
    message = created(embedded)
    await settle(await handle([message]))
    first = announced(embedded, "jobs.completed")
    announced(embedded, "jobs.executed")  # drain what the first run announced
    again = await settle(await handle([message]))
    assert again == [Outcome.ACK]
    repeat = announced(embedded, "jobs.completed")
    assert [e["eventId"] for e in repeat] == [e["eventId"] for e in first]  # same event id
    assert announced(embedded, "jobs.executed") == []  # no second attempt ran
    row = (await embedded.jobs.load([job_id(message)]))[job_id(message)]
    assert row.attempts == 1


async def test_the_same_job_twice_in_one_batch_runs_once(embedded: Embedded) -> None:
    _, handle = processor(embedded)
    message = created(embedded)
    outcomes = await settle(await handle([message, message]))
    assert outcomes == [Outcome.ACK, Outcome.RETRY]  # the copy comes back later
    assert len(announced(embedded, "jobs.completed")) == 1


async def test_a_failed_attempt_is_scheduled_again_with_back_off_then_completes(
    embedded: Embedded,
) -> None:
    """failAttempts 1: the first attempt fails, the message is scheduled back to
    jobs.created with the next attempt number and a delay; that delivery completes."""
    _, handle = processor(embedded)
    message = created(embedded, payload={"simulate": {"failAttempts": 1}})
    assert await settle(await handle([message])) == [Outcome.ACK]
    retries = embedded.take("jobs.created")
    assert len(retries) == 1
    assert retries[0].headers[ATTEMPT_HEADER] == 2
    assert 0.4 < retries[0].delay <= 1.5  # base 1 s, jitter 0.5-1.5
    assert announced(embedded, "jobs.completed") == []
    assert await settle(await handle(retries)) == [Outcome.ACK]
    row = await embedded.jobs.get(job_id(message))
    assert row is not None
    assert row.status == "COMPLETED"
    assert [a.outcome for a in row.history] == ["failed", "completed"]


async def test_a_long_job_holds_neither_its_batch_nor_other_jobs(embedded: Embedded) -> None:
    """A batch with a one-minute job and two instant ones: the instant ones are finished
    and acknowledged while the long one still works."""
    _, handle = processor(embedded)
    long = created(embedded, payload={"simulate": {"durationMs": 60000}})
    quick = [created(embedded), created(embedded)]
    outcomes = await handle([long, *quick])
    assert await settle(outcomes[1:]) == [Outcome.ACK, Outcome.ACK]
    pending = outcomes[0]
    assert isinstance(pending, asyncio.Task)
    assert not pending.done()
    rows = await embedded.jobs.load([job_id(m) for m in [long, *quick]])
    assert rows[job_id(long)].status == "EXECUTING"
    assert {rows[job_id(m)].status for m in quick} == {"COMPLETED"}
    pending.cancel()


async def test_a_wrong_event_type_on_jobs_created_is_dead_lettered(embedded: Embedded) -> None:
    _, handle = processor(embedded)
    stray = embedded.message(
        "jobs.created", event(embedded.clock, "job.completed", job(embedded.clock))
    )
    assert await settle(await handle([stray, created(embedded)])) == [Outcome.REJECT, Outcome.ACK]
    letters = announced(embedded, "jobs.failed.validation")
    assert "unexpected event type job.completed" in letters[0]["validation_error"]


def test_the_poison_time_parses_but_has_no_utc_form() -> None:
    """Guard for the fixture above: the time parses, and converting it overflows."""
    moment = parse_iso(POISON_CREATED_AT)
    with pytest.raises(OverflowError):
        iso(moment)


def pending_of(message: Message) -> Pending:
    doc = message.document()
    job = doc["payload"]
    return Pending(
        job_id=job["id"],
        type=job["type"],
        payload=job.get("payload") or {},
        metadata=job.get("metadata") or {},
        created_at=parse_iso(job["createdAt"]),
        run=1,
        event_id=doc["eventId"],
        correlation_id=doc["correlationId"],
        at=parse_iso(doc["occurredAt"]),
    )


async def test_a_job_the_gateway_wrote_as_pending_runs_to_completed(embedded: Embedded) -> None:
    """A PENDING row is a job not started: its job.created runs it as if there were no row."""
    _, handle = processor(embedded)
    message = created(embedded)
    await embedded.jobs.accept([pending_of(message)])
    assert await settle(await handle([message])) == [Outcome.ACK]
    row = await embedded.jobs.get(job_id(message))
    assert row is not None
    assert (row.status, row.attempts) == ("COMPLETED", 1)


async def test_a_job_cancelled_while_pending_is_acked_without_effects(embedded: Embedded) -> None:
    """Its delivery is acked; it is not started, announced or finished, and stays CANCELLED."""
    _, handle = processor(embedded)
    cancelled, other = created(embedded), created(embedded)
    await embedded.jobs.accept([pending_of(cancelled), pending_of(other)])
    cancel = await embedded.jobs.cancel(job_id(cancelled), embedded.clock.now())
    assert cancel == ("CANCELLED", True)

    assert await settle(await handle([cancelled, other])) == [Outcome.ACK, Outcome.ACK]

    row = await embedded.jobs.get(job_id(cancelled))
    assert row is not None
    assert (row.status, row.history) == ("CANCELLED", ())
    for queue in ("jobs.validated", "jobs.executed", "jobs.completed"):
        assert [e["payload"]["id"] for e in announced(embedded, queue)] == [job_id(other)]


async def test_the_delayed_retry_of_a_cancelled_job_is_acked_without_effects(
    embedded: Embedded,
) -> None:
    """Cancelled while it waited for its retry: the retry's delivery starts nothing."""
    _, handle = processor(embedded)
    message = created(embedded, payload={"simulate": {"failAttempts": 1}})
    assert await settle(await handle([message])) == [Outcome.ACK]
    retries = embedded.take("jobs.created")
    embedded.take("jobs.executed")
    assert await embedded.jobs.cancel(job_id(message), embedded.clock.now()) == ("CANCELLED", True)

    assert await settle(await handle(retries)) == [Outcome.ACK]

    row = await embedded.jobs.get(job_id(message))
    assert row is not None
    assert (row.status, len(row.history)) == ("CANCELLED", 1)
    assert announced(embedded, "jobs.executed") == []
    assert announced(embedded, "jobs.completed") == announced(embedded, "jobs.failed") == []


async def test_a_cancel_between_decide_and_begin_wins(
    embedded: Embedded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race with delivery: the row was PENDING when the handler looked, CANCELLED when
    it began. begin() refuses the cancelled job, so it is not run."""
    _, handle = processor(embedded)
    message = created(embedded)
    await embedded.jobs.accept([pending_of(message)])
    real_load = embedded.jobs.load

    async def load_then_cancel(ids: Sequence[str]) -> Any:
        states = await real_load(ids)
        await embedded.jobs.cancel(job_id(message), embedded.clock.now())
        return states

    monkeypatch.setattr(embedded.jobs, "load", load_then_cancel)
    assert await settle(await handle([message])) == [Outcome.ACK]
    row = await embedded.jobs.get(job_id(message))
    assert row is not None
    assert (row.status, row.history) == ("CANCELLED", ())
    assert announced(embedded, "jobs.executed") == []


class LosingBus:
    """The embedded bus, except that the first publish round holding a job.validated loses
    those (their queue's leader died) and stores the rest, then says the outcome is unknown."""

    def __init__(self, embedded: Embedded) -> None:
        self.bus = embedded.bus
        self.lost = False

    async def publish_many(self, messages: Sequence[Outgoing]) -> None:
        if self.lost or not any(m.routing_key == "job.validated" for m in messages):
            await self.bus.publish_many(messages)
            return
        self.lost = True
        await self.bus.publish_many([m for m in messages if m.routing_key != "job.validated"])
        raise OutcomeUnknown("bus", "a node died before it confirmed")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.bus, name)


async def test_announcements_lost_in_part_still_leave_the_events_in_lifecycle_order(
    embedded: Embedded,
) -> None:
    """A begin whose announcement round ends unknown having lost job.validated: the
    delivery comes back later and the job completes; the first copy of each event (what
    every consumer keeps) is dated in lifecycle order."""
    handler = JobHandler(
        bus=LosingBus(embedded),
        jobs=embedded.jobs,
        clock=embedded.clock,
        settings=ProcessorSettings(work_ms=0, fail_rate=0, max_attempts=3, backoff_base=1.0),
        metrics=ProcessorMetrics(),
    )
    message = created(embedded)
    with pytest.raises(OutcomeUnknown):
        await handler([message])
    embedded.clock.advance(5)
    assert await settle(await handler([message])) == [Outcome.ACK]
    first: dict[str, dict[str, Any]] = {}
    for queue in ("jobs.validated", "jobs.executed", "jobs.completed"):
        for e in announced(embedded, queue):
            first.setdefault(e["eventId"], e)
    times = {e["eventType"]: e["occurredAt"] for e in first.values()}
    order = ["job.validated", "job.executed", "job.completed"]
    assert sorted(times) == sorted(order)
    assert [times[t] for t in order] == sorted(times[t] for t in order)
