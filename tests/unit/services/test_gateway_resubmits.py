"""A resubmit of the same body with the same id publishes the job.created first built for
it again, byte for byte (services/gateway/resubmits.py): after an unknown outcome, after a
lost 202, however much later within the memory's bounds. Another body under a remembered
id is 409 and publishes nothing."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from tests.unit.services.test_gateway_lane import RecordingBus

from observatory.core.bus.port import Outgoing
from observatory.core.clock import FixedClock, iso
from observatory.core.errors import DependencyDown, OutcomeUnknown
from observatory.core.http import Reply
from observatory.core.settings import HttpSettings
from observatory.core.stores.sqlite_events import SqliteEventStore
from observatory.core.stores.sqlite_jobs import SqliteJobStore
from observatory.services.gateway.app import create_app
from observatory.services.gateway.lane import SubmitLane
from observatory.services.gateway.resubmits import Recall, Resubmits, Submitted, message_bytes
from observatory.services.gateway.settings import GatewaySettings


class FlakyBus(RecordingBus):
    """Records every publish attempt; the next attempts raise `failures` (in order), or
    wait for `confirms` (in order) before they are confirmed."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts: list[Outgoing] = []
        self.failures: list[Exception] = []
        self.confirms: list[asyncio.Event] = []

    async def publish_many(self, messages: Sequence[Outgoing]) -> None:
        self.attempts.extend(messages)
        if self.failures:
            raise self.failures.pop(0)
        if self.confirms:
            await self.confirms.pop(0).wait()
        await super().publish_many(messages)


def unknown() -> OutcomeUnknown:
    return OutcomeUnknown("bus", "refused twice")


@pytest.fixture
async def stores(tmp_path: Path) -> AsyncIterator[tuple[SqliteJobStore, SqliteEventStore]]:
    jobs = SqliteJobStore(tmp_path / "jobs.sqlite3")
    events = SqliteEventStore(tmp_path / "events.sqlite3")
    await jobs.open()
    await events.open()
    yield jobs, events
    await jobs.close()
    await events.close()


@pytest.fixture
async def gateway(
    stores: tuple[SqliteJobStore, SqliteEventStore],
) -> AsyncIterator[tuple[SubmitLane, FlakyBus, FixedClock]]:
    bus, clock = FlakyBus(), FixedClock()
    jobs, events = stores
    lane = create_app(
        GatewaySettings(),
        HttpSettings(),
        bus=bus,
        jobs=jobs,
        events=events,
        owned=False,
        clock=clock,
    )
    yield lane, bus, clock
    await lane.routes.pending.close()
    await lane.routes.audit_writer.close()


async def submit(lane: SubmitLane, job: Mapping[str, Any], correlation: str = "") -> Reply:
    return await lane.routes.accept(
        body=orjson.dumps(job),
        content_type="application/json",
        correlation_id=correlation or str(uuid.uuid4()),
    )


async def test_after_an_unknown_outcome_the_retry_publishes_the_same_bytes(
    gateway: tuple[SubmitLane, FlakyBus, FixedClock],
    stores: tuple[SqliteJobStore, SqliteEventStore],
) -> None:
    """Twice unknown, then confirmed: three identical messages (eventId, occurredAt, the
    job's createdAt), though the clock moved; the 202 names the first eventId, and the
    PENDING row holds the first created time."""
    lane, bus, clock = gateway
    bus.failures = [unknown(), unknown()]
    job_id = str(uuid.uuid4())
    job = {"id": job_id, "type": "CHAOS", "payload": {"n": 1}}
    started = iso(clock.now())
    first = await submit(lane, job)
    assert (first.status, first.body["outcome"]) == (503, "unknown")
    clock.advance(7)
    assert (await submit(lane, job)).status == 503
    clock.advance(7)
    accepted = await submit(lane, job, correlation=str(uuid.uuid4()))

    assert accepted.status == 202
    assert len({m.body for m in bus.attempts}) == 1
    assert len({m.message_id for m in bus.attempts}) == 1
    envelope = orjson.loads(bus.published[0].body)
    assert accepted.body == {"jobId": job_id, "eventId": envelope["eventId"]}
    assert envelope["occurredAt"] == envelope["payload"]["createdAt"] == started
    await lane.routes.pending.flush()
    row = await stores[0].get(job_id)
    assert row is not None
    assert iso(row.created_at) == envelope["payload"]["createdAt"]


async def test_a_resubmit_after_a_lost_202_publishes_the_same_bytes(
    gateway: tuple[SubmitLane, FlakyBus, FixedClock],
) -> None:
    lane, bus, clock = gateway
    job = {"id": str(uuid.uuid4()), "type": "T"}
    first = await submit(lane, job)
    clock.advance(1)
    again = await submit(lane, job)
    assert first.status == again.status == 202
    assert first.body == again.body
    assert bus.published[0].body == bus.published[1].body


async def test_the_same_body_in_another_spelling_is_the_same_job(
    gateway: tuple[SubmitLane, FlakyBus, FixedClock],
) -> None:
    """Key order and the id's letter case do not make another body."""
    lane, bus, clock = gateway
    bus.failures = [unknown()]
    job_id = str(uuid.uuid4())
    await submit(lane, {"id": job_id, "type": "T", "payload": {"a": 1, "b": 2}})
    clock.advance(5)
    again = await submit(lane, {"payload": {"b": 2, "a": 1}, "type": "T", "id": job_id.upper()})
    assert again.status == 202
    assert bus.attempts[0].body == bus.attempts[1].body


async def test_a_job_without_an_id_can_be_resubmitted_under_the_id_it_was_given(
    gateway: tuple[SubmitLane, FlakyBus, FixedClock],
) -> None:
    lane, bus, clock = gateway
    bus.failures = [unknown()]
    first = await submit(lane, {"type": "T"})
    clock.advance(5)
    again = await submit(lane, {"type": "T", "id": first.body["jobId"]})
    assert again.status == 202
    assert bus.attempts[0].body == bus.attempts[1].body


async def test_another_body_under_a_remembered_id_is_409_and_publishes_nothing(
    gateway: tuple[SubmitLane, FlakyBus, FixedClock],
) -> None:
    lane, bus, _ = gateway
    bus.failures = [unknown()]
    job = {"id": str(uuid.uuid4()), "type": "T", "payload": {"n": 1}}
    await submit(lane, job)
    conflict = await submit(lane, {**job, "payload": {"n": 2}})
    assert conflict.status == 409
    assert conflict.body["jobId"] == job["id"]
    assert len(bus.attempts) == 1
    assert (await submit(lane, job)).status == 202  # the first body still goes through
    assert bus.attempts[0].body == bus.attempts[1].body


async def test_a_job_certainly_not_published_is_not_remembered(
    gateway: tuple[SubmitLane, FlakyBus, FixedClock],
) -> None:
    """A plain 503 (the bus refused before anything left): the retry is a new submit, and
    another body under the id is no conflict."""
    lane, bus, clock = gateway
    bus.failures = [DependencyDown("bus", "down")]
    job = {"id": str(uuid.uuid4()), "type": "T"}
    refused = await submit(lane, job)
    assert refused.status == 503
    assert "outcome" not in refused.body
    clock.advance(5)
    assert (await submit(lane, {**job, "type": "OTHER"})).status == 202
    assert orjson.loads(bus.published[0].body)["payload"]["createdAt"] == iso(clock.now())


async def test_a_retry_refused_outright_after_an_unknown_outcome_keeps_the_first_envelope(
    gateway: tuple[SubmitLane, FlakyBus, FixedClock],
) -> None:
    """Unknown, then a plain 503 (nothing left this time), then accepted: the first copy may
    be out, so the third attempt still sends the first bytes."""
    lane, bus, clock = gateway
    bus.failures = [unknown(), DependencyDown("bus", "down")]
    job = {"id": str(uuid.uuid4()), "type": "T"}
    assert (await submit(lane, job)).status == 503
    clock.advance(5)
    assert (await submit(lane, job)).status == 503
    clock.advance(5)
    assert (await submit(lane, job)).status == 202
    assert len({m.body for m in bus.attempts}) == 1


async def test_a_resubmit_while_the_first_publish_waits_for_its_confirm_sends_the_same_bytes(
    gateway: tuple[SubmitLane, FlakyBus, FixedClock],
) -> None:
    """A client that gave up waiting resubmits while the gateway still waits for the
    broker: both publishes carry the first envelope, and both answers name it."""
    lane, bus, clock = gateway
    confirm = asyncio.Event()
    bus.confirms = [confirm]
    job = {"id": str(uuid.uuid4()), "type": "T"}
    first = asyncio.create_task(submit(lane, job))
    while not bus.attempts:  # the first publish has left and waits for its confirm
        await asyncio.sleep(0)
    clock.advance(15)
    second = await submit(lane, job)
    confirm.set()
    assert (await first).body == second.body
    assert len({m.body for m in bus.published}) == 1
    assert len(bus.published) == 2


async def test_through_http_a_conflict_is_json_on_both_paths(
    gateway: tuple[SubmitLane, FlakyBus, FixedClock],
) -> None:
    lane, bus, _ = gateway
    job_id = str(uuid.uuid4())
    transport = httpx.ASGITransport(app=lane)
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        assert (await client.post("/jobs", json={"id": job_id, "type": "A"})).status_code == 202
        for headers in ({}, {"Origin": "http://localhost:8081"}):
            answer = await client.post("/jobs", json={"id": job_id, "type": "B"}, headers=headers)
            assert answer.status_code == 409
            assert answer.headers["content-type"] == "application/json"
            assert answer.json()["jobId"] == job_id
    assert len(bus.published) == 1


def entry(size: int = 10) -> Submitted:
    return Submitted(b"d", b"x" * size)


def test_the_memory_is_bounded_in_entries_bytes_and_age() -> None:
    clock = FixedClock()
    recall = Recall(entries=2, size=100, ttl=60)
    resubmits = Resubmits(clock, unknown=recall, accepted=Recall(entries=2, size=100, ttl=60))
    for name in "abc":
        resubmits.outcome_unknown(name, entry())
    assert [resubmits.recall(n) is not None for n in "abc"] == [False, True, True]
    resubmits.outcome_unknown("big", entry(size=45))  # b: 2 entries; c: 110 bytes
    assert [resubmits.recall(n) is not None for n in ("b", "c", "big")] == [False, False, True]
    resubmits.outcome_unknown("huge", entry(size=51))  # over the whole budget
    assert resubmits.recall("huge") is None
    clock.advance(61)
    assert resubmits.recall("big") is None
    assert len(recall) == 0


def test_accepted_submits_never_push_out_those_whose_outcome_is_unknown() -> None:
    clock = FixedClock()
    resubmits = Resubmits(
        clock,
        unknown=Recall(entries=2, size=1000, ttl=900),
        accepted=Recall(entries=2, size=1000, ttl=60),
    )
    resubmits.outcome_unknown("kept", entry())
    for n in range(10):
        resubmits.confirmed(str(n), entry())
    assert resubmits.recall("kept") is not None
    clock.advance(120)  # past the accepted tier's age, within the unknown tier's
    assert resubmits.recall("9") is None
    assert resubmits.recall("kept") is not None
    resubmits.confirmed("kept", entry())  # confirmed at last: kept a minute more
    assert len(resubmits.unknown) == 0
    assert resubmits.recall("kept") is not None


def test_the_remembered_bytes_are_the_published_envelope() -> None:
    """A resubmit sends the first message byte for byte: the compact copy is the same JSON."""
    envelope = {"eventId": "e-1", "payload": {"id": "j-1", "type": "EMAIL_SEND", "n": [1, 2]}}
    assert message_bytes(envelope) == orjson.dumps(envelope)
