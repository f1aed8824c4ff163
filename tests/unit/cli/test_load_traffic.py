"""`odto load` sends the planned jobs open-loop, counts answers and reads back outcomes."""

from __future__ import annotations

import argparse
import asyncio
import json
from collections import Counter
from typing import Any

import httpx
import pytest

from observatory.interfaces.cli import load
from observatory.interfaces.cli.traffic import LoadPlan, run_load

GATEWAY = "http://gw.test"
READ_MODEL = "http://rm.test"


def plan(**overrides: Any) -> LoadPlan:
    values: dict[str, Any] = {"gateway_url": GATEWAY, "rate": 200.0, "duration": 0.1, "wait": 0}
    values.update(overrides)
    return LoadPlan(**values)


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    load.register(parser.add_subparsers())
    return parser.parse_args(["load", *argv])


async def test_sends_rate_times_duration_jobs_with_types_and_simulation() -> None:
    bodies: list[dict[str, Any]] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        assert request.url == f"{GATEWAY}/jobs"
        bodies.append(json.loads(request.content))
        return httpx.Response(202, json={"jobId": bodies[-1]["id"], "eventId": "e"})

    report = await run_load(
        plan(types=("A", "B"), failure_rate=0.5, work_ms=20), transport=httpx.MockTransport(gateway)
    )

    assert (report.sent, report.accepted, sum(report.rejected.values())) == (20, 20, 0)
    assert [b["type"] for b in bodies[:4]] == ["A", "B", "A", "B"]
    assert all(
        b["payload"]["simulate"] == {"failProbability": 0.5, "durationMs": 20} for b in bodies
    )
    assert len({b["id"] for b in bodies}) == 20
    assert sorted(report.accepted_ids) == sorted(b["id"] for b in bodies)
    assert report.completed is None  # no read model: outcomes not counted
    assert report.ok


async def test_without_simulation_options_jobs_carry_no_payload() -> None:
    bodies: list[dict[str, Any]] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        return httpx.Response(202, json={})

    await run_load(plan(duration=0.01), transport=httpx.MockTransport(gateway))
    assert bodies
    assert "payload" not in bodies[0]


class Waits(list[float]):
    """The retry wait: records how long it was asked to wait and returns at once."""

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


async def test_final_answers_are_counted_by_status_and_by_transport_error() -> None:
    tries: Counter[str] = Counter()
    kinds: dict[str, int] = {}

    def gateway(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        tries[body["id"]] += 1
        kind = kinds.setdefault(body["id"], len(kinds) % 4)
        if kind == 0:  # refused every time: nothing was sent, so nothing may run
            raise httpx.ConnectError("refused", request=request)
        if kind == 1:  # always busy, and the outcome of each try unknown
            answer = {"error": "bus unavailable", "jobId": body["id"], "outcome": "unknown"}
            return httpx.Response(503, json=answer, headers={"Retry-After": "1"})
        if kind == 2:
            return httpx.Response(400, json={"error": "Invalid job data"})
        return httpx.Response(202, json={})

    waits = Waits()
    report = await run_load(plan(), transport=httpx.MockTransport(gateway), sleep=waits)

    assert report.sent == 20
    assert report.accepted == 5
    assert report.rejected == {"503": 5, "400": 5, "connection error": 5}
    assert sorted(tries.values()) == [1] * 10 + [3] * 10  # 503 and refusals: 2 more tries
    assert report.retried == 10
    assert len(report.unknown_ids) == 5  # the 503-unknown ones may still run
    assert all(tries[i] == 3 for i in report.unknown_ids)
    assert not report.ok


async def test_an_unknown_outcome_or_a_timeout_is_retried_with_the_same_id() -> None:
    bodies: list[dict[str, Any]] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        job_id = bodies[-1]["id"]
        first = sum(b["id"] == job_id for b in bodies) == 1
        if first and len({b["id"] for b in bodies}) % 2:
            raise httpx.ReadTimeout("timed out", request=request)
        if first:
            answer = {"error": "bus unavailable", "jobId": job_id, "outcome": "unknown"}
            return httpx.Response(503, json=answer, headers={"Retry-After": "5"})
        return httpx.Response(202, json={"jobId": job_id})

    waits = Waits()
    report = await run_load(plan(), transport=httpx.MockTransport(gateway), sleep=waits)

    assert (report.sent, report.accepted, report.retried) == (20, 20, 20)
    assert len(bodies) == 40
    ids = [b["id"] for b in bodies]
    assert sorted(Counter(ids).values()) == [2] * 20  # each job sent twice, one id each
    assert sorted(report.accepted_ids) == sorted(set(ids))
    assert sorted(waits) == [0.5] * 10 + [5.0] * 10  # back-off after a timeout, else Retry-After
    assert report.ok


async def test_retries_wait_in_their_own_task_and_never_hold_up_the_schedule() -> None:
    firsts: set[str] = set()
    everyone_sent = asyncio.Event()

    def gateway(request: httpx.Request) -> httpx.Response:
        job_id = json.loads(request.content)["id"]
        if job_id in firsts:
            return httpx.Response(202, json={"jobId": job_id})
        firsts.add(job_id)
        if len(firsts) == 20:
            everyone_sent.set()
        return httpx.Response(503, json={"error": "bus unavailable"}, headers={"Retry-After": "5"})

    async def sleep(seconds: float) -> None:
        await everyone_sent.wait()  # a schedule that waited on a retry would never get here

    report = await asyncio.wait_for(
        run_load(plan(), transport=httpx.MockTransport(gateway), sleep=sleep), timeout=10
    )
    assert (report.sent, report.accepted) == (20, 20)
    assert report.unknown_ids == []  # a plain 503: certainly not published


async def test_retries_0_sends_each_job_once() -> None:
    calls = 0

    def gateway(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        return httpx.Response(503, json={"error": "bus unavailable"})

    waits = Waits()
    report = await run_load(plan(retries=0), transport=httpx.MockTransport(gateway), sleep=waits)
    assert (calls, waits, report.rejected) == (20, [], {"503": 20})


async def test_open_loop_keeps_sending_while_the_gateway_is_slow() -> None:
    arrived = 0
    second_arrived = asyncio.Event()

    async def slow_gateway(request: httpx.Request) -> httpx.Response:
        """Answers nothing until a second request arrives while the first is unanswered."""
        nonlocal arrived
        arrived += 1
        if arrived == 2:
            second_arrived.set()
        await second_arrived.wait()
        return httpx.Response(202, json={})

    # A closed-loop client would wait on the first answer forever: the time-out ends it.
    report = await asyncio.wait_for(
        run_load(plan(), transport=httpx.MockTransport(slow_gateway)), timeout=10
    )

    # A closed-loop client would never have more than one request outstanding.
    assert report.max_in_flight > 1
    assert report.accepted == 20


async def test_outcomes_are_read_back_from_the_read_model() -> None:
    polls: dict[str, int] = {}

    def system(request: httpx.Request) -> httpx.Response:
        if request.url.host == "gw.test":
            return httpx.Response(202, json={})
        job_id = request.url.path.rsplit("/", 1)[-1]
        polls[job_id] = polls.get(job_id, 0) + 1
        if polls[job_id] < 2:
            return httpx.Response(200, json={"id": job_id, "status": "EXECUTING"})
        status = "FAILED" if job_id.startswith(("0", "1", "2", "3")) else "COMPLETED"
        return httpx.Response(200, json={"id": job_id, "status": status})

    report = await run_load(
        plan(read_model_url=READ_MODEL, wait=10), transport=httpx.MockTransport(system)
    )

    assert report.completed is not None
    assert report.failed is not None
    assert report.completed + report.failed == 20
    assert report.failed == sum(i.startswith(("0", "1", "2", "3")) for i in report.accepted_ids)
    assert report.unfinished == 0
    assert report.ok


async def test_jobs_that_never_finish_are_reported_unfinished_after_the_wait() -> None:
    def system(request: httpx.Request) -> httpx.Response:
        if request.url.host == "gw.test":
            return httpx.Response(202, json={})
        if request.url.path.endswith(("0", "1", "2", "3", "4", "5", "6", "7")):
            return httpx.Response(404, json={"error": "not found"})
        return httpx.Response(200, json={"status": "COMPLETED"})

    report = await run_load(
        plan(read_model_url=READ_MODEL, wait=0.3), transport=httpx.MockTransport(system)
    )

    assert report.unfinished == sum(i.endswith(tuple("01234567")) for i in report.accepted_ids)
    assert report.lookup_errors == 0  # a 404 means "not recorded yet", not an error
    assert report.completed == 20 - report.unfinished
    assert report.ok is (report.unfinished == 0)


def test_cli_options_build_the_plan() -> None:
    args = parse(
        "--gateway-url", "http://g:1", "--rate", "2", "--duration", "3", "--types", "a,b-c",
        "--failure-rate", "0.5", "--work-ms", "40", "--read-model-url", "http://r:2",
    )  # fmt: skip
    built = load.plan_from(args)
    assert built == LoadPlan(
        gateway_url="http://g:1", rate=2.0, duration=3.0, types=("a", "b-c"), failure_rate=0.5,
        work_ms=40, read_model_url="http://r:2", wait=30.0, token=built.token, timeout=5.0,
        retries=2,
    )  # fmt: skip
    assert built.count == 6


@pytest.mark.parametrize(
    "argv",
    [
        ("--failure-rate", "1.5"),
        ("--rate", "0"),
        ("--types", "bad type"),
        ("--types", ","),
        ("--work-ms", "-1"),
        ("--retries", "-1"),
    ],
)
def test_cli_rejects_invalid_options(
    argv: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse(*argv)
    assert exit_info.value.code == 2
    assert "must" in capsys.readouterr().err


def test_cli_prints_what_was_sent_and_accepted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def gateway(request: httpx.Request) -> httpx.Response:
        return httpx.Response(202 if json.loads(request.content)["type"] == "ok" else 400, json={})

    real = httpx.AsyncClient

    def client(**kwargs: Any) -> httpx.AsyncClient:
        kwargs["transport"] = httpx.MockTransport(gateway)
        return real(**kwargs)

    monkeypatch.setattr("observatory.interfaces.cli.traffic.httpx.AsyncClient", client)
    args = parse("--rate", "100", "--duration", "0.04", "--types", "ok,no", "--wait", "0")
    code = args.func(args)

    out = capsys.readouterr().out
    assert "Sending 4 jobs at 100/s" in out
    assert "sent 4, accepted 2, rejected 2 (400: 2)" in out
    assert code == 1


async def test_an_unreachable_read_model_is_reported_as_failed_lookups() -> None:
    def system(request: httpx.Request) -> httpx.Response:
        if request.url.host == "gw.test":
            return httpx.Response(202, json={})
        raise httpx.ConnectError("refused", request=request)

    report = await run_load(
        plan(duration=0.01, read_model_url=READ_MODEL, wait=0.2),
        transport=httpx.MockTransport(system),
    )
    assert report.unfinished == report.accepted > 0
    assert report.lookup_errors >= 1
    assert "read-model lookups failed" in load.summary_lines(report)[-1]
