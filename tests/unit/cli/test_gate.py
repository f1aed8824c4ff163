"""`odto gate` submits jobs (and, with --observability, failing ones) with unique ids of its
own and retries a job whose fate is open with that same id: it counts exactly the jobs it made."""

from __future__ import annotations

import argparse
import json
from collections import Counter
from typing import Any

import httpx

from observatory.interfaces.cli.gate import Gate
from observatory.interfaces.cli.observability.checks import _inject_failures

GATEWAY = "http://gw.test"


def gate(handler: Any, waits: list[float], jobs: int = 3) -> Gate:
    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    args = argparse.Namespace(
        gateway_url=GATEWAY, read_model_url="http://rm.test", token=None, jobs=jobs
    )
    client = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return Gate(client, args, sleep=sleep)


async def test_jobs_have_unique_ids_and_an_unknown_outcome_is_retried_with_the_same_id() -> None:
    sent: list[str] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        job_id = json.loads(request.content)["id"]
        sent.append(job_id)
        if sent.count(job_id) == 1:  # every job's first try: the confirm timed out
            body = {"error": "bus unavailable", "jobId": job_id, "outcome": "unknown"}
            return httpx.Response(503, json=body, headers={"Retry-After": "5"})
        return httpx.Response(202, json={"jobId": job_id, "eventId": "e"})

    waits: list[float] = []
    checks = gate(gateway, waits)
    ids = await checks.submit()
    await checks.client.aclose()

    assert len(set(ids)) == 3
    assert sent == [i for i in ids for _ in (1, 2)]  # each job twice, with its own id
    assert waits == [5.0, 5.0, 5.0]
    assert checks.results[-1].ok


async def test_a_job_that_never_gets_through_fails_the_gate_naming_its_id() -> None:
    sent: list[str] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content)["id"])
        raise httpx.ConnectError("refused", request=request)

    waits: list[float] = []
    checks = gate(gateway, waits, jobs=1)
    ids = await checks.submit()
    await checks.client.aclose()

    assert ids == []
    assert len(sent) == 4
    assert len(set(sent)) == 1
    result = checks.results[-1]
    assert not result.ok
    assert f"Job {sent[0]} was not accepted after 4 tries" in result.detail


async def test_the_injected_failing_jobs_have_their_own_ids_and_are_retried_with_them() -> None:
    sent: list[str] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        job_id = json.loads(request.content)["id"]
        sent.append(job_id)
        if sent.count(job_id) == 1:
            body = {"error": "bus unavailable", "jobId": job_id, "outcome": "unknown"}
            return httpx.Response(503, json=body, headers={"Retry-After": "0"})
        return httpx.Response(202, json={"jobId": job_id, "eventId": "e"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(gateway)) as client:
        accepted = await _inject_failures(client, GATEWAY, 5, None)

    assert accepted == 5
    assert sorted(Counter(sent).values()) == [2] * 5  # five jobs, each sent twice with its id
