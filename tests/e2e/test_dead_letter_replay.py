"""Dead letters replayed through HTTP (SPEC §13), on the embedded profile and on real
backends: letters are listed with state, queue and reason and filtered by them; a replay
is checked again like a new message (422 and replay_failed when it fails); a replayed
message that is dead-lettered again flips its letter to replay_failed; bulk replay
counts first (dry run), then replays and resumes nothing twice."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from tests.e2e.test_bad_input import put_raw
from tests.e2e.test_event_admission import envelope, put_straight, quick_checks
from tests.system import RunningSystem, wait_until

__all__ = ["quick_checks"]  # the fixture, imported to be found


def letters(client: httpx.Client, system: RunningSystem, **params: str) -> list[dict[str, Any]]:
    answer = client.get(f"{system.read_model_url}/dead-letters", params={"limit": 50, **params})
    assert answer.status_code == 200, answer.text
    body: list[dict[str, Any]] = answer.json()
    return body


def by_reason(client: httpx.Client, system: RunningSystem, reason: str) -> dict[str, Any]:
    found = letters(client, system, reason=reason)
    assert len(found) == 1, found
    return found[0]


def replay(client: httpx.Client, system: RunningSystem, letter_id: str) -> httpx.Response:
    return client.post(f"{system.gateway_url}/dead-letters/{letter_id}/replay")


def bulk(client: httpx.Client, system: RunningSystem, body: Any) -> httpx.Response:
    return client.post(f"{system.gateway_url}/dead-letters/replay", json=body)


def test_replays_are_checked_again_and_failures_are_recorded(quick_checks: RunningSystem) -> None:
    """A misplaced event and a non-JSON message are refused on replay (422, replay_failed);
    the completion of a job never created is replayed (202) and, dead-lettered again by
    the metrics engine, turns its letter replay_failed without a second letter."""
    system = quick_checks
    ghost = str(uuid.uuid4())
    asyncio.run(
        put_straight(
            system,
            [
                ("jobs.completed", envelope("job.created", ghost, "PENDING")),
                ("jobs.completed", envelope("job.completed", ghost, "COMPLETED")),
            ],
        )
    )
    asyncio.run(put_raw(system, [("jobs.created", b"not json at all")]))
    with httpx.Client(timeout=10) as client:
        wait_until(lambda: len(letters(client, system)) == 3, timeout=30, message="3 letters")
        assert {d["state"] for d in letters(client, system)} == {"new"}
        assert len(letters(client, system, queue="jobs.completed")) == 2
        assert len(letters(client, system, queue="jobs.created", state="new")) == 1
        bad = client.get(f"{system.read_model_url}/dead-letters", params={"state": "gone"})
        assert bad.status_code == 400
        assert bad.json()["details"][0]["path"] == "$.state"

        misplaced = by_reason(client, system, "does not belong")
        refused = replay(client, system, misplaced["id"])
        assert refused.status_code == 422
        assert refused.json()["state"] == "replay_failed"
        assert refused.json()["details"][0]["path"] == "$.eventType"
        assert by_reason(client, system, "does not belong")["state"] == "replay_failed"
        audit = client.get(f"{system.read_model_url}/audit").json()["items"]
        assert (audit[0]["action"], audit[0]["target"], audit[0]["result"]) == (
            "replay",
            f"dead-letter:{misplaced['id']}",
            {"status": 422, "state": "replay_failed"},
        )

        raw = by_reason(client, system, "not JSON")
        assert replay(client, system, raw["id"]).status_code == 422

        unknown = by_reason(client, system, "no job.created seen")
        accepted = replay(client, system, unknown["id"])
        assert (accepted.status_code, accepted.json()) == (
            202,
            {"deadLetterId": unknown["id"], "state": "replayed"},
        )
        assert replay(client, system, unknown["id"]).status_code == 409
        failed = wait_until(
            lambda: (
                (d := by_reason(client, system, "no job.created seen"))["state"] == "replay_failed"
                and d
            ),
            timeout=40,
            message="the replayed completion to be dead-lettered again",
        )
        assert failed["replayError"] == f"no job.created seen for job {ghost}"
        assert len(letters(client, system)) == 3
        assert replay(client, system, "12345678").status_code == 404
        assert replay(client, system, "nope").status_code == 404


def test_bulk_replay_counts_first_then_replays_each_letter_once(
    quick_checks: RunningSystem,
) -> None:
    """Completions of jobs created later: a dry run counts them, the replay sends them
    (their events are stored now, the letters stay replayed), a second replay finds none.
    Malformed requests are 400 naming the field."""
    system = quick_checks
    late = [str(uuid.uuid4()) for _ in range(2)]
    asyncio.run(
        put_straight(
            system, [("jobs.completed", envelope("job.completed", j, "COMPLETED")) for j in late]
        )
    )
    with httpx.Client(timeout=10) as client:
        wait_until(lambda: len(letters(client, system)) == 2, timeout=30, message="2 letters")
        for job_id in late:  # the jobs exist now
            created = client.post(f"{system.gateway_url}/jobs", json={"type": "LATE", "id": job_id})
            assert created.status_code == 202
        request = {"filter": {"reason": "No JOB.CREATED seen", "queue": "jobs.completed"}}

        dry = bulk(client, system, {**request, "dryRun": True})
        assert (dry.status_code, dry.json()["matched"], dry.json()["replayed"]) == (200, 2, 0)
        assert {d["state"] for d in letters(client, system)} == {"new"}

        done = bulk(client, system, request)
        assert (done.json()["matched"], done.json()["replayed"]) == (2, 2)
        every = client.get(f"{system.read_model_url}/audit").json()["items"]
        audit = [a for a in every if a["action"] == "bulk-replay"]  # the submits are there too
        assert [(a["result"]["dryRun"], a["result"]["replayed"]) for a in audit] == [
            (False, 2),
            (True, 0),
        ]
        assert audit[0]["filter"] == request["filter"]

        def stored(job_id: str) -> bool:
            events = client.get(f"{system.read_model_url}/events", params={"jobId": job_id})
            return "job.completed" in {e["eventType"] for e in events.json()}

        wait_until(
            lambda: all(stored(j) for j in late), message="the replayed completions to be stored"
        )
        assert {d["state"] for d in letters(client, system)} == {"replayed"}
        assert bulk(client, system, request).json()["matched"] == 0

        for body, path in [
            ({"limit": 0}, "$.limit"),
            ({"limit": 1001}, "$.limit"),
            ({"filter": {"queue": "nowhere"}}, "$.filter.queue"),
            ({"filter": {"from": "yesterday"}}, "$.filter.from"),
            ({"filter": [], "dryRun": True}, "$.filter"),
            ({"dryRun": "yes"}, "$.dryRun"),
        ]:
            answer = bulk(client, system, body)
            assert answer.status_code == 400, (body, answer.text)
            assert answer.json()["details"][0]["path"] == path
