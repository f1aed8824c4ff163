"""The New Task form: the gateway's rule checked before sending, the job followed to the end,
and a submission whose fate is open sent again with the job id the form chose."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import httpx

from tests.browser.conftest import UUID, Console, open_dashboard, screenshot
from tests.system import RunningSystem, wait_until


def test_submitted_job_is_shown_completed_without_a_reload(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    """Submit from the form, see the job id, then COMPLETED in Recent Jobs and its timeline."""
    open_dashboard(page, observatory)
    page.evaluate("window.__sameDocument = true")
    job_type = "ui_" + uuid.uuid4().hex[:8]

    page.get_by_role("button", name="New Task").click()
    dialog = page.locator("#new-task-dialog")
    assert dialog.is_visible()
    assert page.evaluate("document.activeElement.id") == "task-type"
    page.keyboard.type(job_type)
    page.fill("#task-duration", "150")
    page.fill("#task-failure", "0")
    screenshot(page, "new-task", full_page=False)
    page.keyboard.press("Enter")

    created = page.locator("#task-result code[data-job-id]")
    created.wait_for()
    job_id = created.get_attribute("data-job-id")
    assert UUID.fullmatch(job_id or "")
    assert "Job created" in page.locator("#task-result").inner_text()

    page.keyboard.press("Escape")
    assert dialog.is_hidden()
    row = page.locator(f"#recent-jobs-body tr[data-job-id='{job_id}']")
    row.locator(".pill[data-status='COMPLETED']").wait_for(timeout=20_000)
    assert row.locator("td.type").inner_text() == job_type.upper()

    job = httpx.get(f"{observatory.read_model_url}/jobs/{job_id}", timeout=5).json()
    assert job["payload"] == {"simulate": {"durationMs": 150, "failProbability": 0}}

    row.locator("a.job-link").click()  # the timeline is one click away
    page.locator("#job-status .pill[data-status='COMPLETED']").wait_for()
    timeline = page.locator("#job-timeline")
    timeline.locator("[data-event-type='job.created']").wait_for()
    timeline.locator("[data-event-type='job.completed']").wait_for()
    assert page.evaluate("window.__sameDocument") is True
    assert console.errors == []


def test_bad_job_types_are_refused_before_sending(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    """The form applies the server's rule itself: nothing is sent for a bad type."""
    open_dashboard(page, observatory)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    page.get_by_role("button", name="New Task").click()

    cases = {
        "bad type!": "Job type must be alphanumeric (underscores/hyphens allowed)",
        "x" * 51: "Job type too long (max 50 chars)",
        "   ": "Job type cannot be empty",
        "Ünïcode": "Job type must be alphanumeric (underscores/hyphens allowed)",
    }
    for value, message in cases.items():
        page.fill("#task-type", value)
        page.click("#task-submit")
        result = page.locator("#task-result.error")
        result.wait_for()
        assert result.inner_text() == f"✗ {message}"
        assert page.get_attribute("#task-type", "aria-invalid") == "true"

    page.fill("#task-type", "OK_TYPE")
    page.fill("#task-failure", "1.5")
    page.click("#task-submit")
    assert "Failure probability" in page.locator("#task-result.error").inner_text()
    assert posts == []
    screenshot(page, "new-task-validation", full_page=False)
    assert console.errors == []


UUID_V4 = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")


class GatewayScript:
    """Fakes the first answers to the form's POST /jobs, then lets requests reach the real
    gateway; keeps every body the page sent."""

    def __init__(self, page: Any, *answers: Callable[[Any, dict[str, Any]], None]) -> None:
        self.answers = list(answers)
        self.bodies: list[dict[str, Any]] = []
        page.route("**/gateway/jobs", self.handle)

    def handle(self, route: Any, request: Any) -> None:
        body = request.post_data_json
        self.bodies.append(body)
        if self.answers:
            self.answers.pop(0)(route, body)
        else:
            route.continue_()


def unknown_outcome(retry_after: str) -> Callable[[Any, dict[str, Any]], None]:
    """The gateway's 503 when the broker's confirm timed out: the job may have been published."""

    def answer(route: Any, body: dict[str, Any]) -> None:
        reply = {"error": "bus unavailable", "jobId": body["id"], "outcome": "unknown"}
        route.fulfill(
            status=503,
            headers={"Retry-After": retry_after},
            content_type="application/json",
            body=json.dumps(reply),
        )

    return answer


def jobs_of_type(system: RunningSystem, job_type: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{system.read_model_url}/jobs", params={"type": job_type}, timeout=5)
    return list(response.json()["items"])


def test_an_unsure_gateway_is_retried_with_the_same_id_and_one_job_is_made(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    """A 503 "outcome unknown" shows Retrying… with the job id; the retry after Retry-After
    sends the same body, the form shows that id, and exactly one job exists."""
    open_dashboard(page, observatory)
    job_type = "UNSURE_" + uuid.uuid4().hex[:8].upper()
    script = GatewayScript(page, unknown_outcome("1"))

    page.get_by_role("button", name="New Task").click()
    page.fill("#task-type", job_type)
    page.fill("#task-duration", "0")
    page.click("#task-submit")

    retrying = page.locator("#task-result.pending code[data-unsettled-job-id]")
    retrying.wait_for()
    assert "Retrying… try 2 of 4 in 1s (bus unavailable)" in page.inner_text("#task-result")
    sent_id = retrying.get_attribute("data-unsettled-job-id")
    assert UUID_V4.fullmatch(sent_id or "")

    created = page.locator("#task-result code[data-job-id]")
    created.wait_for()
    assert created.get_attribute("data-job-id") == sent_id
    assert len(script.bodies) == 2
    assert (
        script.bodies[0]
        == script.bodies[1]
        == {
            "id": sent_id,
            "type": job_type,
            "payload": {"simulate": {"durationMs": 0}},
        }
    )
    wait_until(
        lambda: [j["status"] for j in jobs_of_type(observatory, job_type)] == ["COMPLETED"],
        timeout=20,
        message=f"one COMPLETED {job_type} job",
    )
    assert [e for e in console.errors if "503" not in e] == []


def test_without_random_uuid_a_network_failure_is_retried_with_the_same_v4_id(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    """Over plain http from another host crypto.randomUUID is missing; the form still sends a
    UUID v4 of its own, and a request that never got an answer goes out again with it."""
    page.add_init_script("delete Crypto.prototype.randomUUID")
    open_dashboard(page, observatory)
    assert page.evaluate("typeof crypto.randomUUID") == "undefined"
    script = GatewayScript(page, lambda route, body: route.abort("connectionreset"))

    page.get_by_role("button", name="New Task").click()
    page.fill("#task-type", "NO_RANDOM_UUID")
    page.click("#task-submit")

    created = page.locator("#task-result code[data-job-id]")
    created.wait_for()
    job_id = created.get_attribute("data-job-id")
    assert UUID_V4.fullmatch(job_id or "")
    assert [b["id"] for b in script.bodies] == [job_id, job_id]
    assert [e for e in console.errors if "ERR_CONNECTION_RESET" not in e] == []


def test_when_the_tries_run_out_the_id_is_named_and_submitting_again_resends_that_job(
    page: Any, console: Console, observatory: RunningSystem
) -> None:
    """Four unsure answers: the form names the job id and says resubmitting is safe; Submit
    with the form unchanged sends that same id again, and it is accepted once."""
    open_dashboard(page, observatory)
    job_type = "GAVE_UP_" + uuid.uuid4().hex[:8].upper()
    script = GatewayScript(page, *[unknown_outcome("0")] * 4)

    page.get_by_role("button", name="New Task").click()
    page.fill("#task-type", job_type)
    page.click("#task-submit")

    unsettled = page.locator("#task-result.error code[data-unsettled-job-id]")
    unsettled.wait_for()
    job_id = unsettled.get_attribute("data-unsettled-job-id")
    text = page.inner_text("#task-result")
    assert f"Job {job_id} was not confirmed after 4 tries: its outcome is unknown" in text
    assert "Resubmitting it with the same id is safe" in text
    assert [b["id"] for b in script.bodies] == [job_id] * 4

    page.click("#task-submit")
    created = page.locator("#task-result code[data-job-id]")
    created.wait_for()
    assert created.get_attribute("data-job-id") == job_id
    assert [b["id"] for b in script.bodies] == [job_id] * 5
    wait_until(
        lambda: [j["id"] for j in jobs_of_type(observatory, job_type)] == [job_id],
        timeout=20,
        message=f"the one {job_type} job",
    )
    assert [e for e in console.errors if "503" not in e] == []
