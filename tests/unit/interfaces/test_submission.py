"""One submission, the SPEC §12 way: the client's own id, the same body again while the job's
fate is open, a bound on the tries, and an honest account when they run out."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from observatory.interfaces.submission import (
    INTERACTIVE,
    Retrying,
    RetryPolicy,
    Submission,
    new_job_id,
    submit_job,
)

URL = "http://gw.test/jobs"
Answer = httpx.Response | Exception


def unknown(job_id: str, retry_after: str = "5") -> httpx.Response:
    """The gateway's answer when the broker's confirm timed out."""
    body = {"error": "bus unavailable", "jobId": job_id, "outcome": "unknown"}
    return httpx.Response(503, json=body, headers={"Retry-After": retry_after})


class Gateway:
    """Answers POST /jobs from a script (then 202) and keeps what it was sent."""

    def __init__(self, *script: Answer | Callable[[httpx.Request], Answer]) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.script.pop(0) if self.script else None
        if callable(answer):
            answer = answer(request)
        if isinstance(answer, Exception):
            raise answer
        return answer or httpx.Response(202, json={"jobId": self.ids[-1], "eventId": "e"})

    @property
    def ids(self) -> list[str]:
        return [json.loads(r.content)["id"] for r in self.requests]


class Waits(list[float]):
    """A sleep that records how long it was asked to wait and returns at once."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


async def submit(
    gateway: Gateway, body: dict[str, Any], waits: Waits, **options: Any
) -> Submission:
    async with httpx.AsyncClient(transport=httpx.MockTransport(gateway)) as client:
        return await submit_job(client, URL, body, sleep=waits, **options)


async def test_an_unknown_outcome_is_sent_again_with_the_same_id_and_body() -> None:
    job_id = new_job_id()
    gateway = Gateway(unknown(job_id))
    waits = Waits()
    heard: list[Retrying] = []

    result = await submit(gateway, {"id": job_id, "type": "A"}, waits, on_retry=heard.append)

    assert result.accepted
    assert (result.job_id, result.attempts) == (job_id, 2)
    assert gateway.ids == [job_id, job_id]
    assert gateway.requests[0].content == gateway.requests[1].content
    assert waits == [5.0]  # the gateway's Retry-After
    assert heard == [Retrying(job_id, 2, 4, 5.0, "503 bus unavailable, outcome unknown")]


async def test_timeouts_and_dropped_connections_are_retried_with_back_off() -> None:
    gateway = Gateway(
        lambda r: httpx.ReadTimeout("timed out", request=r),
        lambda r: httpx.RemoteProtocolError("peer closed", request=r),
        httpx.Response(502, json={"error": "gateway unavailable"}),
    )
    waits = Waits()
    job_id = new_job_id()

    result = await submit(gateway, {"id": job_id, "type": "A"}, waits)

    assert result.accepted
    assert gateway.ids == [job_id] * 4
    assert waits == [1.0, 2.0, 4.0]


@pytest.mark.parametrize("status", [400, 401, 404, 409, 413, 415, 500])
async def test_a_final_answer_is_never_retried(status: int) -> None:
    gateway = Gateway(httpx.Response(status, json={"error": "no"}))
    waits = Waits()

    result = await submit(gateway, {"id": new_job_id(), "type": "A"}, waits)

    assert len(gateway.requests) == 1
    assert waits == []
    assert not result.accepted
    assert not result.gave_up
    assert result.response is not None
    assert result.response.status_code == status


async def test_an_always_busy_gateway_gets_four_tries_then_an_honest_note() -> None:
    job_id = new_job_id()
    gateway = Gateway(*[unknown(job_id)] * 10)
    waits = Waits()

    result = await submit(gateway, {"id": job_id, "type": "A"}, waits)

    assert len(gateway.requests) == INTERACTIVE.attempts == 4
    assert waits == [5.0, 5.0, 5.0]
    assert result.gave_up
    assert result.maybe_published
    assert result.note() == (
        f"Job {job_id} was not confirmed after 4 tries: its outcome is unknown and it may "
        "still run. Resubmitting it with the same id is safe (it runs once)."
    )


async def test_the_time_budget_ends_the_tries_and_caps_each_wait() -> None:
    now = 0.0

    class Clocked(Waits):
        async def __call__(self, seconds: float) -> None:
            nonlocal now
            self.append(seconds)
            now += seconds

    gateway = Gateway(*[httpx.Response(503, headers={"Retry-After": "120"})] * 10)
    waits = Clocked()
    policy = RetryPolicy(attempts=10, budget=30.0, max_wait=10.0)

    result = await submit(
        gateway, {"id": new_job_id(), "type": "A"}, waits, policy=policy, monotonic=lambda: now
    )

    assert waits == [10.0, 10.0, 10.0]  # a fourth wait would end after 30 s
    assert result.attempts == 4
    assert result.gave_up


async def test_when_no_try_reached_the_gateway_nothing_was_published() -> None:
    gateway = Gateway(*[lambda r: httpx.ConnectError("refused", request=r)] * 4)
    job_id = new_job_id()

    result = await submit(gateway, {"id": job_id, "type": "A"}, Waits())

    assert result.gave_up
    assert not result.maybe_published
    assert f"Job {job_id} was not accepted after 4 tries (nothing was published)" in result.note()


async def test_a_plain_503_after_a_timeout_still_counts_as_maybe_published() -> None:
    gateway = Gateway(
        lambda r: httpx.ReadTimeout("timed out", request=r),
        *[httpx.Response(503, json={"error": "bus unavailable"})] * 3,
    )
    result = await submit(gateway, {"id": new_job_id(), "type": "A"}, Waits())
    assert result.gave_up
    assert result.maybe_published  # the first try may have been published


async def test_a_body_without_its_own_id_is_refused() -> None:
    with pytest.raises(ValueError, match="own job id"):
        await submit(Gateway(), {"type": "A"}, Waits())
