"""The read model with ODTO_RETENTION set purges in the background: an old finished job
and an old webhook notification go, a new job stays, and retention_removed_total{kind}
counts what went; without it nothing is removed (SPEC §13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from tests.unit.services.conftest import asgi_client, read_model_app
from tests.unit.services.embedded import Embedded
from tests.waiting import wait_until_async

from observatory.core.clock import FixedClock
from observatory.core.stores.records import AttemptEnd, AttemptStart, AuditEntry
from observatory.services.read_model.alerts import AlertSource
from observatory.services.read_model.settings import ReadModelSettings


async def finished_job(embedded: Embedded) -> str:
    clock = embedded.clock
    job_id = clock.new_id()
    start = AttemptStart(
        job_id=job_id,
        type="OLD",
        payload={},
        metadata={},
        created_at=clock.now(),
        attempt=1,
        run=1,
        event_id=clock.new_id(),
        correlation_id=clock.new_id(),
        at=clock.now(),
    )
    await embedded.jobs.begin([start])
    await embedded.jobs.finish([AttemptEnd(job_id, 1, "COMPLETED", "completed", None, clock.now())])
    return job_id


def settings(retention: str | None) -> ReadModelSettings:
    extra = {"ODTO_RETENTION": retention} if retention else {}
    return ReadModelSettings.model_validate({"READ_MODEL_RETENTION_INTERVAL": 0.05, **extra})


async def test_the_read_model_purges_in_the_background(embedded: Embedded) -> None:
    old = await finished_job(embedded)
    await embedded.events.add_audit(
        [
            AuditEntry(
                event_id=embedded.clock.new_id(),
                action="cancel",
                actor="anonymous",
                target=old,
                result={"status": 409},
                correlation_id=embedded.clock.new_id(),
                occurred_at=embedded.clock.now(),
                job_ids=(old,),
            )
        ]
    )
    embedded.clock.advance(3 * 86_400)
    new = await finished_job(embedded)
    app = read_model_app(embedded, settings("2d"))
    async with app.router.lifespan_context(app), asgi_client(app, "http://rm") as client:

        async def metric() -> str | None:
            text = (await client.get("/metrics")).text
            audit_counted = 'retention_removed_total{kind="audit"} 1.0' in text  # the last kind
            return text if audit_counted else None

        text = await wait_until_async(metric, timeout=10, message="retention metric")
        assert 'retention_removed_total{kind="jobs"} 1.0' in text
        assert 'retention_removed_total{kind="attempts"} 1.0' in text
        assert (await client.get(f"/jobs/{old}")).status_code == 404
        assert (await client.get(f"/jobs/{new}")).status_code == 200

        async def purge_audited() -> dict[str, Any] | None:
            items = (await client.get("/audit")).json()["items"]
            return items[0] if items else None

        entry = await wait_until_async(purge_audited, timeout=10, message="purge audit")
        assert (entry["action"], entry["actor"], entry["target"]) == (
            "purge",
            "retention",
            "history",
        )
        assert entry["result"]["jobs"] == 1
        assert entry["result"]["attempts"] == 1
        assert entry["result"]["audit"] == 1
        assert [e["action"] for e in (await client.get("/audit")).json()["items"]] == ["purge"]


async def test_without_retention_nothing_is_removed(embedded: Embedded) -> None:
    old = await finished_job(embedded)
    embedded.clock.advance(400 * 86_400)
    assert settings(None).retention is None
    assert settings("0").retention is None
    app = read_model_app(embedded, settings(None))
    async with app.router.lifespan_context(app):
        assert await embedded.jobs.get(old) is not None


def test_a_bad_retention_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="not a duration"):
        settings("thirty days")


def test_alert_history_forgets_old_notifications() -> None:
    clock = FixedClock(datetime(2026, 1, 1, tzinfo=UTC))
    source = AlertSource(None, timeout=1, history=10, clock=clock)
    source.record({"alerts": []})
    clock.advance(86_400)
    source.record({"alerts": [], "status": "firing"})
    assert source.forget_before(clock.now() - timedelta(hours=1)) == 1
    assert [entry["status"] for entry in source.history] == ["firing"]
