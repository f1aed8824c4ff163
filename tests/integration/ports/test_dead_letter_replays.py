"""Dead-letter state and filters on the EventStore port (SPEC §13), proved once against
every reachable adapter: letters keep their queue and reason, are filtered by state,
reason, queue and time, and a replayed letter whose message is dead-lettered again
turns replay_failed instead of appearing twice, while its own dead letter delivered again
(rejected before the replay) leaves it replayed."""

from __future__ import annotations

from datetime import UTC, datetime

from observatory.core.stores.ports import EventStore
from observatory.core.stores.records import DeadLetter, DeadLetterQuery

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
AFTER_AT = "2026-03-02T09:00:05.000Z"  # when a replay sent at AT was refused again


def letter(
    key: str, second: int, reason: str, queue: str | None, *, rejected_at: str | None = None
) -> DeadLetter:
    document = {
        "original_event": {"eventType": "job.created"},
        "validation_error": reason,
        "rejected_at": rejected_at or f"2026-03-01T12:00:{second:02d}.000Z",
        "correlation_id": None,
        "service": "processor",
        "service_version": "0.1.0",
    }
    if queue is not None:
        document["queue"] = queue
    return DeadLetter(key, document)


async def seeded(event_store: EventStore) -> dict[str, str]:
    """Three letters: two from the processor's queue (one under a namespace), one from
    the metrics engine's; their ids by key."""
    await event_store.add_dead_letters(
        [
            letter("a", 1, "Envelope validation failed: $.payload.type", "jobs.created"),
            letter("b", 2, "not JSON: unexpected character", "ns1.jobs.created"),
            letter("c", 3, "No job.created seen for job 42", "ns1.jobs.completed"),
        ]
    )
    listed = await event_store.dead_letters(10)
    return {d["validation_error"][:3]: d["id"] for d in listed}


async def test_letters_are_new_with_their_queue_and_reason(event_store: EventStore) -> None:
    """A stored letter is `new`, with its topology queue (namespace removed) and reason;
    one stored before queues were kept has queue None."""
    await seeded(event_store)
    await event_store.add_dead_letters([letter("old", 4, "old reason", None)])
    listed = await event_store.dead_letters(10)
    assert [(d["state"], d["queue"], d["reason"]) for d in listed] == [
        ("new", None, "old reason"),
        ("new", "jobs.completed", "No job.created seen for job 42"),
        ("new", "jobs.created", "not JSON: unexpected character"),
        ("new", "jobs.created", "Envelope validation failed: $.payload.type"),
    ]
    assert listed[1]["busQueue"] == "ns1.jobs.completed"


async def test_letters_are_filtered_by_queue_reason_and_time(event_store: EventStore) -> None:
    ids = await seeded(event_store)

    async def found(**query: object) -> list[str]:
        letters = await event_store.find_dead_letters(DeadLetterQuery(**query), 10)  # type: ignore[arg-type]  # each test passes the field's own type
        return [d["id"] for d in letters]

    assert await found(queue="jobs.created") == [ids["not"], ids["Env"]]
    assert await found(reason="JOB.CREATED seen") == [ids["No "]]
    assert await found(reason="100%_") == []  # no wildcard in a reason
    since = datetime(2026, 3, 1, 12, 0, 2, tzinfo=UTC)
    until = datetime(2026, 3, 1, 12, 0, 3, tzinfo=UTC)
    assert await found(since=since, until=until) == [ids["not"]]
    assert await found(state="replayed") == []
    assert await event_store.dead_letter(ids["Env"]) is not None
    assert await event_store.dead_letter("999999999") is None
    assert await event_store.dead_letter("not-an-id") is None


async def test_a_replayed_letter_turns_replay_failed_when_dead_lettered_again(
    event_store: EventStore,
) -> None:
    """Marked replayed with the key its message would get; that key (or its own) coming
    back, rejected since the replay was sent, flips it to replay_failed with the new
    reason, and no new letter is stored."""
    ids = await seeded(event_store)
    await event_store.mark_dead_letter(ids["Env"], "replayed", at=AT, replay_key="a-again")
    await event_store.mark_dead_letter(ids["not"], "replayed", at=AT, replay_key="b-again")

    again = [letter("a-again", 9, "still bad", "jobs.created", rejected_at=AFTER_AT)]
    assert await event_store.add_dead_letters(again) == 0
    b_again = letter("b", 9, "bad again", "jobs.created", rejected_at=AFTER_AT)
    assert await event_store.add_dead_letters([b_again]) == 0

    by_id = {d["id"]: d for d in await event_store.dead_letters(10)}
    assert len(by_id) == 3
    assert (by_id[ids["Env"]]["state"], by_id[ids["Env"]]["replayError"]) == (
        "replay_failed",
        "still bad",
    )
    assert by_id[ids["not"]]["state"] == "replay_failed"
    assert by_id[ids["No "]]["state"] == "new"
    failed = await event_store.find_dead_letters(DeadLetterQuery(state="replay_failed"), 10)
    assert {d["id"] for d in failed} == {ids["Env"], ids["not"]}


async def test_a_replay_that_succeeds_stays_replayed(event_store: EventStore) -> None:
    ids = await seeded(event_store)
    await event_store.mark_dead_letter(ids["No "], "replayed", at=AT, replay_key="c-again")
    await event_store.add_dead_letters([letter("other", 9, "unrelated", "jobs.created")])
    shown = await event_store.dead_letter(ids["No "])
    assert shown is not None
    assert shown["state"] == "replayed"
    assert "replayError" not in shown


async def test_a_replayed_letter_delivered_again_stays_replayed(event_store: EventStore) -> None:
    """The letter's own dead letter delivered again after the replay (the broker redelivers
    what was not acked), or another copy of the original refused before the replay went
    out: both carry its key but were rejected before the replay, so the letter stays
    replayed and nothing new is stored; the replay's own failure still flips it."""
    ids = await seeded(event_store)
    await event_store.mark_dead_letter(ids["not"], "replayed", at=AT, replay_key="b")

    redelivered = letter("b", 2, "not JSON: unexpected character", "ns1.jobs.created")
    earlier_copy = letter("b", 30, "not JSON: unexpected character", "ns1.jobs.created")
    assert await event_store.add_dead_letters([redelivered]) == 0
    assert await event_store.add_dead_letters([earlier_copy]) == 0
    shown = await event_store.dead_letter(ids["not"])
    assert shown is not None
    assert (shown["state"], shown.get("replayError")) == ("replayed", None)
    assert len(await event_store.dead_letters(10)) == 3

    failed = letter("b", 0, "still not JSON", "ns1.jobs.created", rejected_at=AFTER_AT)
    assert await event_store.add_dead_letters([failed]) == 0
    shown = await event_store.dead_letter(ids["not"])
    assert shown is not None
    assert (shown["state"], shown["replayError"]) == ("replay_failed", "still not JSON")
