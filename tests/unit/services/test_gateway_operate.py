"""The gateway's single-job write actions over the embedded bus and job store (SPEC §13):
a cancel answers 200 once and 409 `{error, status}` after (a CANCELLED job has finished),
announcing job.cancelled again under the same event id; a retry of a job that is not
FAILED is 409 with the same shape."""

from __future__ import annotations

import httpx
from tests.unit.services.embedded import Embedded
from tests.unit.services.test_processor_handlers import created, processor, settle


async def submitted(gateway: httpx.AsyncClient) -> str:
    answer = await gateway.post("/jobs", json={"type": "WAITS"})
    assert answer.status_code == 202, answer.text
    return str(answer.json()["jobId"])


async def test_cancelling_twice_is_200_then_409_with_the_same_announcement(
    gateway: httpx.AsyncClient, embedded: Embedded
) -> None:
    job_id = await submitted(gateway)

    first = await gateway.post(f"/jobs/{job_id}/cancel")
    assert (first.status_code, first.json()) == (200, {"jobId": job_id, "status": "CANCELLED"})
    again = await gateway.post(f"/jobs/{job_id.upper()}/cancel")
    assert again.status_code == 409
    assert again.json()["status"] == "CANCELLED"
    assert "CANCELLED" in again.json()["error"]

    announced = [m.document() for m in embedded.take("jobs.cancelled")]
    assert [a["payload"]["id"] for a in announced] == [job_id, job_id]
    assert announced[0]["eventId"] == announced[1]["eventId"]  # consumers count it once
    audit = await embedded.events.audit_for_job(job_id, 10)
    assert [(e["action"], e["result"]) for e in audit[1:]] == [
        ("cancel", {"status": 200, "jobStatus": "CANCELLED"}),
        ("cancel", {"status": 409, "jobStatus": "CANCELLED"}),
    ]


async def test_a_finished_job_is_not_cancelled_and_not_announced(
    gateway: httpx.AsyncClient, embedded: Embedded
) -> None:
    _, handle = processor(embedded)
    message = created(embedded)
    await settle(await handle([message]))
    job_id = str(message.document()["payload"]["id"])

    refused = await gateway.post(f"/jobs/{job_id}/cancel")
    assert (refused.status_code, refused.json()["status"]) == (409, "COMPLETED")
    assert embedded.take("jobs.cancelled") == []
    assert (
        await gateway.post("/jobs/7c1e4a52-0000-4000-8000-000000000000/cancel")
    ).status_code == 404


async def test_retrying_a_job_that_is_not_failed_is_409_with_its_status(
    gateway: httpx.AsyncClient, embedded: Embedded
) -> None:
    job_id = await submitted(gateway)
    await gateway.post(f"/jobs/{job_id}/cancel")
    embedded.take("jobs.created")

    refused = await gateway.post(f"/jobs/{job_id}/retry")
    assert refused.status_code == 409
    assert refused.json()["status"] == "CANCELLED"
    assert "only FAILED jobs" in refused.json()["error"]
    assert embedded.take("jobs.created") == []
    assert (await gateway.post("/jobs/not-a-job/retry")).status_code == 404
