"""GATEWAY_PENDING_ROWS: on (the default) an accepted job has its PENDING row; off (for
measuring what the rows cost) the gateway accepts the job the same and writes no row."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest
from tests.unit.services.test_gateway_lane import RecordingBus

from observatory.core.settings import HttpSettings
from observatory.core.stores.sqlite_events import SqliteEventStore
from observatory.core.stores.sqlite_jobs import SqliteJobStore
from observatory.services.gateway.app import create_app
from observatory.services.gateway.settings import GatewaySettings


def test_the_variable_turns_the_rows_off_and_they_are_on_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GATEWAY_PENDING_ROWS", raising=False)
    assert GatewaySettings().pending_rows is True
    monkeypatch.setenv("GATEWAY_PENDING_ROWS", "false")
    assert GatewaySettings().pending_rows is False


@pytest.mark.parametrize("rows", [True, False])
async def test_an_accepted_job_has_a_pending_row_only_when_rows_are_on(
    tmp_path: Path, rows: bool
) -> None:
    jobs = SqliteJobStore(tmp_path / "jobs.sqlite3")
    events = SqliteEventStore(tmp_path / "events.sqlite3")
    await jobs.open()
    await events.open()
    bus = RecordingBus()
    lane = create_app(
        GatewaySettings(pending_rows=rows),
        HttpSettings(),
        bus=bus,
        jobs=jobs,
        events=events,
        owned=False,
    )
    job_id = str(uuid.uuid4())
    try:
        transport = httpx.ASGITransport(app=lane)
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            answer = await client.post("/jobs", json={"id": job_id, "type": "T"})
        assert answer.status_code == 202
        assert len(bus.published) == 1
        await lane.routes.pending.flush()
        record = await jobs.get(job_id)
        assert (record.status if record else None) == ("PENDING" if rows else None)
    finally:
        await lane.routes.pending.close()
        await lane.routes.audit_writer.close()
        await jobs.close()
        await events.close()
