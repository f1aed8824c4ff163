"""Bulk replay's cap, limit and resumption over the embedded bus and event store: more
than 1,000 matches without a limit is 400 and touches nothing; a bulk replay that dies
midway (the bus goes down) has marked exactly what it sent, and the same request again
replays only the rest."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import orjson
import pytest
from tests.unit.services.embedded import Embedded, event, job

from observatory.core.bus.port import Outgoing
from observatory.core.errors import DependencyDown
from observatory.core.http import Reply
from observatory.core.stores.records import DeadLetter
from observatory.services.gateway.replay import BulkResult, Replayer, parse_bulk


async def add_letters(embedded: Embedded, count: int) -> None:
    letters = []
    for _ in range(count):
        document = event(embedded.clock, "job.created", job(embedded.clock))
        letters.append(
            DeadLetter(
                str(uuid.uuid4()),
                {
                    "original_event": document,
                    "validation_error": "consumer was down",
                    "rejected_at": "2026-03-01T12:00:00.000Z",
                    "correlation_id": None,
                    "service": "processor",
                    "service_version": "0",
                    "queue": "test.jobs.created",
                },
            )
        )
    await embedded.events.add_dead_letters(letters)


async def states(embedded: Embedded) -> dict[str, int]:
    counts: dict[str, int] = {}
    for letter in await embedded.events.dead_letters(5000):
        counts[letter["state"]] = counts.get(letter["state"], 0) + 1
    return counts


async def test_more_than_the_cap_without_a_limit_is_refused(embedded: Embedded) -> None:
    await add_letters(embedded, 1001)
    replayer = Replayer(bus=embedded.bus, events=embedded.events, clock=embedded.clock)
    refused = await replayer.bulk(parse_bulk({}))
    assert isinstance(refused, Reply)
    assert refused.status == 400
    assert "more than 1000" in refused.body["error"]
    assert await states(embedded) == {"new": 1001}

    limited = await replayer.bulk(parse_bulk({"limit": 1000, "dryRun": True}))
    assert isinstance(limited, BulkResult)
    assert (limited.matched, limited.replayed) == (1000, 0)


async def test_a_bulk_replay_cut_short_resumes_where_it_stopped(embedded: Embedded) -> None:
    await add_letters(embedded, 250)
    sent: list[Outgoing] = []

    class FailingBus:
        """Takes the first two chunks, then is down."""

        async def publish_many(self, messages: Sequence[Outgoing]) -> None:
            if len(sent) >= 200:
                raise DependencyDown("bus", "test says so")
            sent.extend(messages)

    bus = FailingBus()
    cut = Replayer(bus=bus, events=embedded.events, clock=embedded.clock)  # type: ignore[arg-type]  # FailingBus has only publish_many
    with pytest.raises(DependencyDown):
        await cut.bulk(parse_bulk({}))
    assert await states(embedded) == {"replayed": 200, "new": 50}
    assert {orjson.loads(m.body)["eventType"] for m in sent} == {"job.created"}
    assert {m.routing_key for m in sent} == {"job.created"}

    again = Replayer(bus=embedded.bus, events=embedded.events, clock=embedded.clock)
    result = await again.bulk(parse_bulk({}))
    assert isinstance(result, BulkResult)
    assert (result.matched, result.replayed) == (50, 50)
    assert await states(embedded) == {"replayed": 250}
