"""POST /jobs/retry through the gateway's HTTP API over the embedded bus and job store,
and the processor running what it published: FAILED jobs only, the cap, dry runs, bad
input as 400 naming the field, and a repeated bulk retry running each job's new run
once (SPEC §13)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from tests.unit.services.conftest import asgi_client, gateway_app
from tests.unit.services.embedded import Embedded, Message
from tests.unit.services.test_processor_handlers import announced, created, processor, settle

from observatory.core.bus.port import Outgoing
from observatory.core.errors import DependencyDown
from observatory.core.settings import HttpSettings
from observatory.services.gateway import bulk_retry

JSON = {"Content-Type": "application/json"}
FAILS_ONCE = {"simulate": {"failAttempts": 1}}


async def failed_jobs(embedded: Embedded, count: int, **fields: Any) -> list[str]:
    """`count` jobs run by the processor (one attempt allowed) until FAILED."""
    _, handle = processor(embedded, max_attempts=1)
    batch = [created(embedded, payload=FAILS_ONCE, **fields) for _ in range(count)]
    await settle(await handle(batch))
    announced(embedded, "jobs.failed")
    ids = [str(m.document()["payload"]["id"]) for m in batch]
    rows = await embedded.jobs.load(ids)
    assert {r.status for r in rows.values()} == {"FAILED"}
    return ids


async def completed_job(embedded: Embedded) -> str:
    _, handle = processor(embedded)
    message = created(embedded)
    await settle(await handle([message]))
    return str(message.document()["payload"]["id"])


async def retry(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/jobs/retry", json=body)


def published(embedded: Embedded) -> list[Message]:
    return embedded.take("jobs.created")


async def test_a_repeated_bulk_retry_runs_each_job_s_new_run_once(
    gateway: httpx.AsyncClient, embedded: Embedded
) -> None:
    """Two bulk retries before the processor takes any copy (a client repeating after a
    timeout, or an operator after a kill): both publish run 2 of each job; the processor
    runs run 2 of each job once (one new attempt, one job.failed for it), and a third
    request then finds them FAILED in run 2 and would run them in run 3."""
    ids = await failed_jobs(embedded, 4, type="FLAKY")
    other = await completed_job(embedded)
    published(embedded)

    first = await retry(gateway, {"filter": {"type": "FLAKY"}})
    second = await retry(gateway, {"filter": {"type": "FLAKY"}})
    for answer in (first, second):
        assert answer.status_code == 200, answer.text
        assert answer.json()["matched"] == answer.json()["retried"] == 4
        assert sorted(answer.json()["jobIds"]) == sorted(ids)
    copies = published(embedded)
    assert sorted(m.document()["payload"]["id"] for m in copies) == sorted(ids * 2)
    assert {m.document()["payload"]["run"] for m in copies} == {2}

    _, handle = processor(embedded, max_attempts=1)
    await settle(await handle(copies[:4]))
    await settle(await handle(copies[4:]))
    rows = {job_id: await embedded.jobs.get(job_id) for job_id in ids}
    for row in rows.values():
        assert row is not None
        assert (row.status, row.run, row.attempts) == ("FAILED", 2, 2)
        assert [a.attempt for a in row.history] == [1, 2]  # run 2 ran one attempt, once
    failures = announced(embedded, "jobs.failed")
    run_two = [e for e in failures if e["payload"].get("run") == 2]
    assert sorted({e["payload"]["id"] for e in run_two}) == sorted(ids)
    assert len({e["eventId"] for e in run_two}) == 4  # the repeat announced the same event
    untouched = await embedded.jobs.get(other)
    assert untouched is not None
    assert untouched.status == "COMPLETED"

    third = await retry(gateway, {"filter": {"type": "FLAKY"}, "dryRun": True})
    assert third.json() == {"matched": 4, "retried": 0, "jobIds": [], "cap": 1000}


async def test_a_bulk_retry_is_audited_with_its_actor_filter_and_result(
    gateway: httpx.AsyncClient, embedded: Embedded
) -> None:
    """The audit entry of a bulk retry: action, the actor of the request's headers, target
    "jobs", the filter, {matched, retried, dryRun}, the request's correlation id, filed
    under each retried job; a dry run is recorded too (dryRun true, filed under no job)."""
    ids = await failed_jobs(embedded, 2, type="FLAKY")
    published(embedded)
    correlation = "5b0c1f6e-8d2a-4c3b-9e1f-0a1b2c3d4e5f"
    headers = {"X-Odto-Actor": "cli:alice", "X-Correlation-Id": correlation}

    dry = {"filter": {"type": "FLAKY"}, "dryRun": True}
    assert (await gateway.post("/jobs/retry", json=dry, headers=headers)).status_code == 200
    [counted] = (await embedded.events.audit(10, None)).items
    assert (counted["action"], counted["actor"], counted["target"]) == (
        "bulk-retry",
        "cli:alice",
        "jobs",
    )
    assert counted["filter"] == {"status": "FAILED", "type": "FLAKY"}
    assert counted["result"] == {"matched": 2, "retried": 0, "dryRun": True}

    body = {"filter": {"type": "FLAKY", "error": "simulated"}}
    answer = await gateway.post("/jobs/retry", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    entry, _ = (await embedded.events.audit(10, None)).items
    assert entry["action"] == "bulk-retry"
    assert (entry["actor"], entry["target"]) == ("cli:alice", "jobs")
    assert entry["filter"] == {"status": "FAILED", "type": "FLAKY", "error": "simulated"}
    assert entry["result"] == {"matched": 2, "retried": 2, "dryRun": False}
    assert entry["correlationId"] == answer.headers["x-correlation-id"] == correlation
    for job_id in ids:
        assert [e["action"] for e in await embedded.events.audit_for_job(job_id, 10)] == [
            "bulk-retry"
        ]

    anonymous = await retry(gateway, {"filter": {"type": "FLAKY"}})
    assert anonymous.status_code == 200
    assert (await embedded.events.audit(10, None)).items[0]["actor"] == "anonymous"


async def test_only_failed_jobs_matching_the_filter_are_retried(
    gateway: httpx.AsyncClient, embedded: Embedded
) -> None:
    """type and error select among FAILED jobs; COMPLETED ones never match; limit takes
    that many; a dry run counts and publishes nothing."""
    flaky = await failed_jobs(embedded, 3, type="FLAKY")
    await failed_jobs(embedded, 2, type="OTHER")
    await completed_job(embedded)
    published(embedded)

    dry = await retry(gateway, {"filter": {"type": "FLAKY", "error": "SIMULATED"}, "dryRun": True})
    assert dry.json()["matched"] == 3
    assert published(embedded) == []
    assert (await retry(gateway, {"filter": {"error": "no such text"}})).json() == {
        "matched": 0,
        "retried": 0,
        "jobIds": [],
    }
    some = await retry(gateway, {"filter": {"type": "FLAKY"}, "limit": 2})
    assert some.json()["matched"] == 3
    assert some.json()["retried"] == 2
    assert set(some.json()["jobIds"]) < set(flaky)
    assert len(published(embedded)) == 2
    everything = await retry(gateway, {})
    assert everything.json()["matched"] == everything.json()["retried"] == 5


async def test_more_than_the_cap_without_a_limit_is_refused(
    gateway: httpx.AsyncClient, embedded: Embedded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Over the cap (here lowered to 2) without a limit: 400 saying so, nothing published;
    with a limit, that many; a dry run still counts them all."""
    monkeypatch.setattr(bulk_retry, "MAX_JOBS", 2)
    await failed_jobs(embedded, 3)
    published(embedded)

    refused = await retry(gateway, {})
    assert refused.status_code == 400
    assert "3 FAILED jobs match" in refused.json()["error"]
    assert refused.json()["details"][0]["path"] == "$.limit"
    assert published(embedded) == []
    assert (await retry(gateway, {"dryRun": True})).json()["matched"] == 3
    assert (await retry(gateway, {"limit": 2})).json()["retried"] == 2


BAD = {
    "not-json": (b"{nope", "$"),
    "not-object": (b"[1]", "$"),
    "unknown-field": (b'{"filters": {}}', "$.filters"),
    "filter-not-object": (b'{"filter": "FLAKY"}', "$.filter"),
    "filter-status": (b'{"filter": {"status": "FAILED"}}', "$.filter.status"),
    "filter-meta": (b'{"filter": {"meta.a": "b"}}', "$.filter.meta.a"),
    "bad-type": (b'{"filter": {"type": "a b"}}', "$.filter.type"),
    "bad-time": (b'{"filter": {"from": "soon"}}', "$.filter.from"),
    "from-after-to": (
        b'{"filter": {"from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}}',
        "$.filter.from",
    ),
    "dry-run-not-bool": (b'{"dryRun": "yes"}', "$.dryRun"),
    "limit-zero": (b'{"limit": 0}', "$.limit"),
    "limit-over-cap": (b'{"limit": 1001}', "$.limit"),
    "limit-bool": (b'{"limit": true}', "$.limit"),
}


@pytest.mark.parametrize(("body", "field"), BAD.values(), ids=BAD.keys())
async def test_a_malformed_request_is_a_400_naming_the_field(
    gateway: httpx.AsyncClient, body: bytes, field: str
) -> None:
    answer = await gateway.post("/jobs/retry", content=body, headers=JSON)
    assert answer.status_code == 400, answer.text
    assert field in [d["path"] for d in answer.json()["details"]]


async def test_a_broker_failing_midway_is_reported_exactly(
    gateway: httpx.AsyncClient, embedded: Embedded, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches of 2, the broker down from the second batch on: 503 naming the two jobs
    that were published; repeating once it is back retries the rest (and those two
    again, which the processor runs once)."""
    ids = await failed_jobs(embedded, 5)
    published(embedded)
    monkeypatch.setattr(bulk_retry, "BATCH", 2)
    real = embedded.bus.publish_many
    calls = 0

    async def flaky(messages: Sequence[Outgoing]) -> None:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise DependencyDown("bus", "test says so")
        await real(messages)

    monkeypatch.setattr(embedded.bus, "publish_many", flaky)
    answer = await retry(gateway, {})
    assert answer.status_code == 503
    assert answer.json()["retried"] == 2
    sent = [m.document()["payload"]["id"] for m in published(embedded)]
    assert sorted(answer.json()["jobIds"]) == sorted(sent)
    assert answer.headers["Retry-After"]

    monkeypatch.setattr(embedded.bus, "publish_many", real)
    again = await retry(gateway, {})
    assert again.json()["retried"] == 5
    assert sorted(again.json()["jobIds"]) == sorted(ids)


async def test_a_token_guards_bulk_retry(embedded: Embedded) -> None:
    from pydantic import SecretStr

    app = gateway_app(embedded, HttpSettings(api_token=SecretStr("s3cret")))
    async with asgi_client(app, "http://gw") as client:
        assert (await client.post("/jobs/retry", json={})).status_code == 401
        ok = await client.post(
            "/jobs/retry", json={"dryRun": True}, headers={"Authorization": "Bearer s3cret"}
        )
        assert ok.status_code == 200
