"""Ids and cursors through HTTP, on the embedded profile and on real backends (SPEC §12):
any spelling of a job's UUID finds it, anything else is 404 or 400, and never 503."""

from __future__ import annotations

import uuid

import httpx
from tests.system import RunningSystem, job_status, wait_until

from observatory.core.stores.cursor import encode_cursor

NOW = "2026-03-01T12:00:00.000Z"
BAD_CURSORS = {
    "time year 1 at +23:59": encode_cursor("0001-01-01T00:00:00+23:59", str(uuid.uuid4())),
    "time 9999 at -23:59": encode_cursor("9999-12-31T23:59:59-23:59", str(uuid.uuid4())),
    "time before 1970": encode_cursor("1969-12-31T23:59:59.000Z", str(uuid.uuid4())),
    "id with a plus": encode_cursor(NOW, "+" + uuid.uuid4().hex[1:]),
    "id not a uuid": encode_cursor(NOW, "not-a-uuid"),
}


def spellings(job_id: str) -> list[str]:
    """Ways a client may write a job's id (httpx percent-encodes the braces: %7B...%7D)."""
    return [job_id.upper(), f"urn:uuid:{job_id}", f"{{{job_id}}}", job_id.replace("-", "")]


def test_any_spelling_of_a_job_id_finds_it_and_bad_ids_are_client_errors(
    profile_system: RunningSystem,
) -> None:
    """GET /jobs/{id}, /events?jobId= and POST /jobs/{id}/retry take any UUID spelling of an
    existing job; a non-UUID retry is 404 and an odd cursor 400 with $.cursor; no 503."""
    system = profile_system
    gateway, read_model = system.gateway_url, system.read_model_url
    job_id = str(uuid.uuid4())
    answers: list[httpx.Response] = []
    with httpx.Client(timeout=5) as client:
        failing = {"id": job_id, "type": "SPELLED", "payload": {"simulate": {"failProbability": 1}}}
        assert client.post(f"{gateway}/jobs", json=failing).status_code == 202
        wait_until(
            lambda: job_status(client, read_model, job_id) == "FAILED",
            message="the job to fail",
        )

        for spelling in spellings(job_id):
            found = client.get(f"{read_model}/jobs/{spelling}")
            answers.append(found)
            assert found.status_code == 200, (spelling, found.text)
            assert (found.json()["id"], found.json()["status"]) == (job_id, "FAILED")
            events = client.get(f"{read_model}/events", params={"jobId": spelling})
            answers.append(events)
            assert events.status_code == 200
            assert {e["payload"]["id"] for e in events.json()} == {job_id}, spelling

        for odd in ("not-a-uuid", "{not-a-uuid}", "urn:uuid:nope", "+" + job_id[1:]):
            missing = client.get(f"{read_model}/jobs/{odd}")
            retry = client.post(f"{gateway}/jobs/{odd}/retry")
            answers += [missing, retry]
            assert (missing.status_code, retry.status_code) == (404, 404), odd
            assert "not found" in retry.json()["error"]
            assert client.get(f"{read_model}/events", params={"jobId": odd}).json() == []

        for name, cursor in BAD_CURSORS.items():
            page = client.get(f"{read_model}/jobs", params={"cursor": cursor})
            answers.append(page)
            assert page.status_code == 400, (name, page.text)
            assert [d["path"] for d in page.json()["details"]] == ["$.cursor"], name

        retried = client.post(f"{gateway}/jobs/{job_id.upper()}/retry")
        answers.append(retried)
        assert retried.status_code == 202, retried.text
        assert retried.json()["jobId"] == job_id
        wait_until(
            lambda: client.get(f"{read_model}/jobs/{job_id}").json()["run"] == 2,
            message="the retried run to start",
        )

    assert [a.status_code for a in answers if a.status_code >= 500] == []
