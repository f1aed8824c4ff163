"""`odto purge --older-than DURATION [--dry-run]` on the embedded profile's stores: the
dry run counts and keeps, the purge removes and prints per kind, a second purge finds
nothing, and a bad duration is refused by the parser (SPEC §13)."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from observatory.core.clock import iso
from observatory.core.stores.records import AttemptEnd, AttemptStart, AuditEntry, DeadLetter
from observatory.core.stores.sqlite_events import SqliteEventStore
from observatory.core.stores.sqlite_jobs import SqliteJobStore
from observatory.interfaces.cli.main import main


async def seed(data_dir: Path) -> tuple[str, str]:
    """One job finished 30 days ago (two events, an old dead letter, an old audit entry),
    one finished now (with an audit entry of now)."""
    jobs = SqliteJobStore(data_dir / "jobs.sqlite3")
    events = SqliteEventStore(data_dir / "events.sqlite3")
    await jobs.open()
    await events.open()
    made = []
    for age in (timedelta(days=30), timedelta(0)):
        when = datetime.now(UTC) - age
        job_id = str(uuid.uuid4())
        start = AttemptStart(
            job_id, "OLD", {}, {}, when, 1, 1, str(uuid.uuid4()), str(uuid.uuid4()), when
        )
        await jobs.begin([start])
        await jobs.finish([AttemptEnd(job_id, 1, "COMPLETED", "completed", None, when)])
        await events.insert([envelope(job_id, when, step) for step in ("a", "b")])
        await events.add_audit([audit_entry(job_id, when)])
        made.append(job_id)
    await events.add_dead_letters(
        [DeadLetter("k", {"rejected_at": iso(datetime.now(UTC) - timedelta(days=30))})]
    )
    await jobs.close()
    await events.close()
    return made[0], made[1]


def audit_entry(job_id: str, when: datetime) -> AuditEntry:
    return AuditEntry(
        event_id=str(uuid.uuid4()),
        action="submit",
        actor="anonymous",
        target=job_id,
        result={"status": 202},
        correlation_id=str(uuid.uuid4()),
        occurred_at=when,
        job_ids=(job_id,),
    )


def envelope(job_id: str, when: datetime, step: str) -> dict[str, object]:
    return {
        "contractVersion": "1.0.0",
        "eventType": "job.completed",
        "eventId": str(uuid.uuid4()),
        "occurredAt": iso(when),
        "producer": {"service": "processor", "instanceId": "h", "version": "0"},
        "correlationId": str(uuid.uuid4()),
        "idempotencyKey": f"{job_id}:{step}",
        "payload": {"id": job_id, "type": "OLD", "status": "COMPLETED", "createdAt": iso(when)},
    }


async def audit(data_dir: Path) -> list[dict[str, object]]:
    events = SqliteEventStore(data_dir / "events.sqlite3")
    await events.open()
    try:
        return (await events.audit(50, None)).items
    finally:
        await events.close()


async def exists(data_dir: Path, job_id: str) -> bool:
    jobs = SqliteJobStore(data_dir / "jobs.sqlite3")
    await jobs.open()
    try:
        return await jobs.get(job_id) is not None
    finally:
        await jobs.close()


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("POSTGRES_URL", "EVENT_STORE_URL", "RABBITMQ_URL", "REDIS_URL", "ODTO_NAMESPACE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ODTO_DATA_DIR", str(tmp_path))
    return tmp_path


def test_purge_counts_then_removes_what_is_older(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = asyncio.run(seed(data_dir))

    assert main(["purge", "--older-than", "7d", "--dry-run", "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    expected = {
        "jobs": 1,
        "attempts": 1,
        "events": 2,
        "dead_letters": 1,
        "audit": 1,
        "alerts": 0,
    }
    assert (dry["dryRun"], dry["removed"]) == (True, expected)
    assert dry["actor"].startswith("cli:")
    assert asyncio.run(exists(data_dir, old))
    assert [e["target"] for e in asyncio.run(audit(data_dir))] == [new, old]  # dry: unaudited

    assert main(["purge", "--older-than", "7d"]) == 0
    printed = capsys.readouterr().out
    assert "removed" in printed
    assert [line.split()[:3] for line in printed.splitlines()[1:7]] == [
        ["jobs", "1"],
        ["attempts", "1"],
        ["events", "2"],
        ["dead", "letters", "1"],
        ["audit", "1"],
        ["alerts", "0", "(kept"],
    ]
    assert not asyncio.run(exists(data_dir, old))
    assert asyncio.run(exists(data_dir, new))
    entry, kept = asyncio.run(audit(data_dir))  # the old entry went, the purge's is new
    assert kept["target"] == new
    assert (entry["action"], entry["target"], entry["actor"]) == ("purge", "history", dry["actor"])
    assert entry["result"] == {**expected, "alerts": 0}
    assert entry["filter"] == {"olderThan": "7 days, 0:00:00"}
    assert entry["correlationId"]

    assert main(["purge", "--older-than", "7d", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["removed"] == dict.fromkeys(expected, 0)


@pytest.mark.parametrize("bad", ["0", "soon", "-1d"])
def test_a_bad_window_is_refused(
    data_dir: Path, bad: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["purge", "--older-than", bad])
    assert exited.value.code == 2
    assert "--older-than" in capsys.readouterr().err
