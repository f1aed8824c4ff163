"""The metrics engine's handlers over the embedded bus, event store and counters, with a
fixed clock: what a batch of lifecycle events does to the counters, the stored timeline
and the dead letters (SPEC §5.3, §12)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from tests.unit.services.embedded import (
    Embedded,
    Message,
    event,
    job,
    lifecycle,
    publish,
    routed,
)

from observatory.core.bus.port import Outcome, Outgoing
from observatory.core.stores.records import CounterSnapshot
from observatory.services.gateway.replay import Replayer
from observatory.services.metrics_engine.admission import CHECK_HEADER, CHECKS
from observatory.services.metrics_engine.handlers import DeadLetterHandler, EventHandler
from observatory.services.metrics_engine.metrics import MetricsEngineMetrics


class Engine:
    """Both handlers of one metrics engine over `embedded`."""

    def __init__(self, embedded: Embedded) -> None:
        self.embedded = embedded
        self.metrics = MetricsEngineMetrics()
        self.events = EventHandler(
            bus=embedded.bus,
            events=embedded.events,
            counters=embedded.counters,
            clock=embedded.clock,
            metrics=self.metrics,
        )
        self.letters = DeadLetterHandler(
            events=embedded.events,
            counters=embedded.counters,
            clock=embedded.clock,
            metrics=self.metrics,
        )

    async def handle(self, batch: list[Message]) -> list[Outcome]:
        """Handle one batch and settle it, as the consumer runner does."""
        outcomes = list(await self.events(batch))
        for message, outcome in zip(batch, outcomes, strict=True):
            await message.settle(outcome)
        return outcomes

    async def store_dead_letters(self) -> list[dict[str, Any]]:
        """Hand what was dead-lettered to the dead-letter handler; return the documents."""
        letters = self.embedded.take("jobs.failed.validation")
        if letters:
            assert set(await self.letters(letters)) == {Outcome.ACK}
        return [m.document() for m in letters]

    def sample(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0


@pytest.fixture
def engine(embedded: Embedded) -> Engine:
    return Engine(embedded)


async def stored(embedded: Embedded, job_id: str) -> list[str]:
    found = await embedded.events.for_job(job_id, limit=100, newest_first=False)
    return [e["eventType"] for e in found]


async def test_a_batch_of_lifecycles_is_stored_and_counted(
    engine: Engine, embedded: Embedded
) -> None:
    """Two jobs, one completed and one failed, in one batch: every event stored, each job
    counted once, lastEventTime the latest occurredAt."""
    clock = embedded.clock
    done, broke = job(clock), job(clock)
    envelopes = lifecycle(clock, done) + lifecycle(clock, broke, ends="job.failed")

    assert await engine.handle(routed(embedded, envelopes)) == [Outcome.ACK] * 8

    snapshot = await embedded.counters.snapshot()
    assert snapshot == CounterSnapshot(
        total=2, completed=1, failed=1, last_event_time=envelopes[-1]["occurredAt"]
    )
    assert await stored(embedded, done["id"]) == [
        "job.created",
        "job.validated",
        "job.executed",
        "job.completed",
    ]
    assert engine.sample("metrics_engine_events_processed_total", event_type="job.created") == 2
    assert embedded.take("jobs.completed") == []  # nothing put back


async def test_a_redelivered_batch_changes_nothing(engine: Engine, embedded: Embedded) -> None:
    """The same events again (a redelivery after a crash before the ack) leave counters and
    the timeline as they were; each is seen as a duplicate."""
    envelopes = lifecycle(embedded.clock, job(embedded.clock))
    await engine.handle(routed(embedded, envelopes))
    before = await embedded.counters.snapshot()

    again = routed(embedded, envelopes)
    for message in again:
        message.redelivered = True
    assert await engine.handle(again) == [Outcome.ACK] * 4

    assert await embedded.counters.snapshot() == before
    assert len(await stored(embedded, envelopes[0]["payload"]["id"])) == 4
    assert engine.sample("metrics_engine_events_duplicate_total") == 4


async def test_a_job_submitted_twice_counts_once(engine: Engine, embedded: Embedded) -> None:
    """Two job.created events of one job id (the same job submitted twice) are one job."""
    clock = embedded.clock
    one = job(clock)
    await engine.handle(routed(embedded, [event(clock, "job.created", one)]))
    await engine.handle(routed(embedded, [event(clock, "job.created", one)]))
    assert (await embedded.counters.snapshot()).total == 1


async def test_an_end_before_its_creation_in_one_batch_counts(
    engine: Engine, embedded: Embedded
) -> None:
    """Within one batch the order of a job's events does not matter, and nothing waits."""
    created, *_, completed = lifecycle(embedded.clock, job(embedded.clock))
    assert await engine.handle(routed(embedded, [completed, created])) == [Outcome.ACK] * 2
    snapshot = await embedded.counters.snapshot()
    assert (snapshot.total, snapshot.completed, snapshot.in_flight) == (1, 1, 0)
    assert embedded.take("jobs.completed") == []


@pytest.mark.parametrize(
    ("event_type", "routing_key", "queue"),
    [
        ("job.completed", "job.created", "jobs.created.metrics"),
        ("job.failed", "job.completed", "jobs.completed"),
        ("job.created", "job.validated", "jobs.validated"),
        ("job.executed", "job.failed", "jobs.failed"),
    ],
)
async def test_an_event_on_another_queue_is_dead_lettered_with_the_reason(
    engine: Engine, embedded: Embedded, event_type: str, routing_key: str, queue: str
) -> None:
    """A schema-valid event published under another type's routing key reaches a queue it
    does not belong on: it is dead-lettered saying so, and moves no counter."""
    clock = embedded.clock
    known = job(clock)
    await engine.handle(routed(embedded, [event(clock, "job.created", known)]))
    before = await embedded.counters.snapshot()
    misplaced = event(clock, event_type, known, status="COMPLETED")
    await embedded.bus.publish_many([Outgoing(routing_key, orjson.dumps(misplaced))])
    (delivery,) = embedded.take(queue)

    assert await engine.handle([delivery]) == [Outcome.REJECT]

    assert await embedded.counters.snapshot() == before
    assert misplaced["eventId"] not in [
        e["eventId"]
        for e in await embedded.events.for_job(known["id"], limit=10, newest_first=True)
    ]
    (letter,) = await engine.store_dead_letters()
    assert letter["validation_error"] == f"event {event_type} does not belong on queue {queue}"
    assert letter["original_event"] == misplaced
    assert letter["service"] == "metrics-engine"
    assert (await embedded.counters.snapshot()).dead_letters == 1


async def test_an_end_of_an_unknown_job_waits_and_counts_once_its_creation_arrives(
    engine: Engine, embedded: Embedded
) -> None:
    """After a backlog a job's completion may come before its job.created (another queue):
    it is not counted or stored yet but put back, and counts once its job is known."""
    created, *_, completed = lifecycle(embedded.clock, job(embedded.clock))
    job_id = created["payload"]["id"]

    assert await engine.handle(routed(embedded, [completed])) == [Outcome.ACK]
    assert await embedded.counters.snapshot() == CounterSnapshot()
    assert await stored(embedded, job_id) == []
    (later,) = embedded.take("jobs.completed")
    assert later.document() == completed
    assert later.headers == {CHECK_HEADER: 1}
    assert 0 < later.delay <= 1

    await engine.handle(routed(embedded, [created]))
    assert await engine.handle([later]) == [Outcome.ACK]

    snapshot = await embedded.counters.snapshot()
    assert (snapshot.total, snapshot.completed, snapshot.in_flight) == (1, 1, 0)
    assert await stored(embedded, job_id) == ["job.created", "job.completed"]
    assert engine.sample("metrics_engine_events_deferred_total") == 1
    assert embedded.take("jobs.completed") == []


async def test_an_end_of_a_job_never_created_is_dead_lettered_after_the_last_check(
    engine: Engine, embedded: Embedded
) -> None:
    """A completion of a job that never existed is checked again with a growing delay,
    then dead-lettered with the reason; it never moves a counter."""
    *_, completed = lifecycle(embedded.clock, job(embedded.clock))
    message = routed(embedded, [completed])[0]
    delays = []
    while True:
        outcome = (await engine.handle([message]))[0]
        if outcome is Outcome.REJECT:
            break
        assert outcome is Outcome.ACK
        (message,) = embedded.take("jobs.completed")
        delays.append(round(message.delay))
        assert len(delays) <= CHECKS, "checks must end"

    assert delays == [1, 2, 4, 8, 16, 32, 64]
    (letter,) = await engine.store_dead_letters()
    job_id = completed["payload"]["id"]
    assert letter["validation_error"] == f"no job.created seen for job {job_id}"
    assert letter["original_event"] == completed
    snapshot = await embedded.counters.snapshot()
    assert (snapshot.total, snapshot.completed, snapshot.dead_letters) == (0, 0, 1)
    assert await stored(embedded, job_id) == []


async def test_a_forged_check_count_cannot_make_an_event_wait_longer(
    engine: Engine, embedded: Embedded
) -> None:
    """A check header that is not a count is read as "checks used up"."""
    *_, failed = lifecycle(embedded.clock, job(embedded.clock), ends="job.failed")
    message = embedded.message("jobs.failed", failed, **{CHECK_HEADER: "forever"})
    assert await engine.handle([message]) == [Outcome.REJECT]
    assert embedded.take("jobs.failed") == []
    assert (await embedded.counters.snapshot()).failed == 0


async def test_a_retry_run_counts_as_retried_and_moves_the_job_to_completed(
    engine: Engine, embedded: Embedded
) -> None:
    """Run 1 failed, run 2 completed: one job, retried once, completed, not failed. Run 2's
    completion waits for run 2's job.created, not just the job's first one."""
    clock = embedded.clock
    first = job(clock)
    await engine.handle(routed(embedded, lifecycle(clock, first, ends="job.failed")))
    second = {**first, "run": 2, "status": "PENDING"}
    created, *_, completed = lifecycle(clock, second)

    await engine.handle(routed(embedded, [completed]))
    assert (await embedded.counters.snapshot()).completed == 0
    (later,) = embedded.take("jobs.completed")
    await engine.handle(routed(embedded, [created]))
    await engine.handle([later])

    snapshot = await embedded.counters.snapshot()
    assert (snapshot.total, snapshot.retried, snapshot.completed, snapshot.failed) == (1, 1, 1, 0)


async def test_bad_messages_are_dead_lettered_while_the_rest_of_the_batch_counts(
    engine: Engine, embedded: Embedded
) -> None:
    """Not JSON, a broken envelope, and a time that has no UTC equivalent: each is
    dead-lettered with its reason; the valid events beside them are counted."""
    clock = embedded.clock
    created, *_, completed = lifecycle(clock, job(clock))
    odd = job(clock)
    no_utc = event(clock, "job.created", odd)
    no_utc["occurredAt"] = "0001-01-01T00:00:00+23:59"
    batch = [
        embedded.message("jobs.completed", b"not <b>json</b>"),
        embedded.message("jobs.created.metrics", created),
        embedded.message("jobs.validated", {"eventType": "job.validated", "payload": {}}),
        embedded.message("jobs.created.metrics", no_utc),
        embedded.message("jobs.completed", completed),
    ]

    outcomes = await engine.handle(batch)

    assert outcomes == [Outcome.REJECT, Outcome.ACK, Outcome.REJECT, Outcome.REJECT, Outcome.ACK]
    snapshot = await embedded.counters.snapshot()
    assert (snapshot.total, snapshot.completed) == (1, 1)
    letters = await engine.store_dead_letters()
    reasons = {orjson.dumps(d["original_event"]): d["validation_error"] for d in letters}
    assert set(reasons) == {orjson.dumps(b.document()) for b in batch[2:4]} | {b'"not <b>json</b>"'}
    assert reasons[b'"not <b>json</b>"'].startswith("not JSON")
    assert all(reasons.values())
    assert (await embedded.counters.snapshot()).dead_letters == 3
    assert engine.sample("metrics_engine_validation_failed_total") == 3
    assert await stored(embedded, odd["id"]) == []


async def test_a_job_created_with_a_time_no_store_can_hold_is_not_counted(
    engine: Engine, embedded: Embedded
) -> None:
    """The processor dead-letters a job whose createdAt has no UTC time within 1970-9999;
    the metrics engine refuses its job.created too, so no job stays in flight forever."""
    clock = embedded.clock
    poison = job(clock)
    poison["createdAt"] = "0001-01-01T00:00:00+23:59"

    assert await engine.handle(routed(embedded, [event(clock, "job.created", poison)])) == [
        Outcome.REJECT
    ]

    (letter,) = await engine.store_dead_letters()
    assert letter["validation_error"].startswith("payload.createdAt is not a time within 1970")
    snapshot = await embedded.counters.snapshot()
    assert (snapshot.total, snapshot.in_flight, snapshot.dead_letters) == (0, 0, 1)


async def test_every_spelling_of_a_job_id_is_one_job(engine: Engine, embedded: Embedded) -> None:
    """Upper- and lower-case spellings of one id (both schema-valid) count as one job,
    and its completion finds it."""
    clock = embedded.clock
    one = job(clock)
    shouted = {**one, "id": one["id"].upper()}
    await engine.handle(routed(embedded, [event(clock, "job.created", shouted)]))
    completed = event(clock, "job.completed", one, status="COMPLETED")
    batch = routed(embedded, [event(clock, "job.created", one), completed])

    assert await engine.handle(batch) == [Outcome.ACK, Outcome.ACK]

    snapshot = await embedded.counters.snapshot()
    assert (snapshot.total, snapshot.completed, snapshot.in_flight) == (1, 1, 0)
    assert embedded.take("jobs.completed") == []


async def test_a_dead_letter_is_stored_and_counted_once(engine: Engine, embedded: Embedded) -> None:
    """A dead letter delivered twice is listed once and counted once; a message published
    straight to the dead-letter queue is stored with why it is not a dead letter."""
    await engine.handle([embedded.message("jobs.executed", b"garbage")])
    (letter,) = embedded.take("jobs.failed.validation")
    twice = [letter, Message(letter.body, letter.queue, letter.headers, redelivered=True)]
    assert await engine.letters(twice) == [Outcome.ACK, Outcome.ACK]
    stray = embedded.message("jobs.failed.validation", b"{}")
    await engine.letters([stray])

    listed = await embedded.events.dead_letters(10)
    assert [d["original_event"] for d in listed] == [{}, "garbage"]
    assert "not a dead-letter document" in listed[0]["validation_error"]
    assert (await embedded.counters.snapshot()).dead_letters == 2


async def test_events_published_through_the_exchange_reach_the_engine_by_their_queue(
    engine: Engine, embedded: Embedded
) -> None:
    """What the services publish (routed by event type) is what the engine accepts: the
    namespaced queue names of a shared broker are read as their topology names."""
    envelopes = lifecycle(embedded.clock, job(embedded.clock))
    await publish(embedded, envelopes)
    deliveries = [
        message
        for queue in ("jobs.created.metrics", "jobs.validated", "jobs.executed", "jobs.completed")
        for message in embedded.take(queue)
    ]
    assert {m.queue.split(".", 1)[0] for m in deliveries} == {"unit"}
    assert await engine.handle(deliveries) == [Outcome.ACK] * 4
    assert (await embedded.counters.snapshot()).completed == 1


async def test_a_replayed_letter_delivered_again_stays_replayed_until_its_replay_fails(
    engine: Engine, embedded: Embedded
) -> None:
    """The dead letter of a completion of a job never created is replayed; the same dead
    letter then reaches the engine again (the broker redelivers what was not acked): the
    letter stays replayed and is stored once. The replayed completion, refused again,
    turns it replay_failed."""
    *_, completed = lifecycle(embedded.clock, job(embedded.clock))
    last_check = embedded.message("jobs.completed", completed, **{CHECK_HEADER: CHECKS})
    assert await engine.handle([last_check]) == [Outcome.REJECT]
    original = embedded.take("jobs.failed.validation")
    assert set(await engine.letters(original)) == {Outcome.ACK}
    [stored_letter] = await embedded.events.dead_letters(10)

    embedded.clock.advance(60)  # the operator replays it a minute later
    replayer = Replayer(bus=embedded.bus, events=embedded.events, clock=embedded.clock)
    reply, _ = await replayer.one(stored_letter["id"])
    assert reply.status == 202

    assert set(await engine.letters(original)) == {Outcome.ACK}  # delivered again
    [letter] = await embedded.events.dead_letters(10)
    assert (letter["id"], letter["state"]) == (stored_letter["id"], "replayed")

    [replayed] = embedded.take("jobs.completed")
    assert replayed.body == last_check.body
    refused = embedded.message("jobs.completed", replayed.body, **{CHECK_HEADER: CHECKS})
    assert await engine.handle([refused]) == [Outcome.REJECT]
    await engine.store_dead_letters()
    [letter] = await embedded.events.dead_letters(10)
    assert letter["state"] == "replay_failed"
    assert letter["replayError"] == f"no job.created seen for job {completed['payload']['id']}"


async def test_rabbitmqs_own_dead_letters_are_stored_and_copies_of_our_rejects_skipped(
    engine: Engine, embedded: Embedded
) -> None:
    """With quorum queues RabbitMQ dead-letters messages itself (core.bus.declarations): one
    that reached the delivery limit is stored with that reason and the queue to replay it
    into; its copy of a message we rejected (and dead-lettered already) is not stored again."""
    limit = {"x-death": [{"reason": "delivery_limit", "queue": "ns.jobs.created", "count": 1}]}
    ours = {"x-death": [{"reason": "rejected", "queue": "ns.jobs.executed", "count": 1}]}
    looping = orjson.dumps(event(embedded.clock, "job.created", job(embedded.clock)))
    batch = [
        Message(looping, "ns.jobs.failed.validation", limit),
        Message(b"garbage", "ns.jobs.failed.validation", ours),
    ]
    assert await engine.letters(batch) == [Outcome.ACK, Outcome.ACK]

    (stored_letter,) = await embedded.events.dead_letters(10)
    assert stored_letter["original_event"] == orjson.loads(looping)
    assert stored_letter["queue"] == "jobs.created"  # stored by its topology name
    assert "delivery_limit" in stored_letter["validation_error"]
    assert (await embedded.counters.snapshot()).dead_letters == 1
