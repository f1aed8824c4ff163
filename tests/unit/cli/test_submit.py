"""`odto submit` sends its own job id and, while a job's fate is open, sends it again with
that id: a 503 or a dropped connection never makes a second job, and when the tries run
out the user is told the job id and how to resubmit it safely."""

from __future__ import annotations

import argparse
import json
import uuid

import httpx
import pytest

from observatory.interfaces.cli import submit

GATEWAY = "http://gw.test"


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    submit.register(parser.add_subparsers())
    return parser.parse_args(["submit", "--gateway-url", GATEWAY, *argv])


class Gateway:
    """POST /jobs answered from `script` (then 202 with the id sent), requests kept."""

    def __init__(self, *script: int | type[httpx.TransportError]) -> None:
        self.script = list(script)
        self.bodies: list[dict[str, object]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(json.loads(request.content))
        job_id = self.bodies[-1].get("id")
        answer = self.script.pop(0) if self.script else 202
        if not isinstance(answer, int):
            raise answer("gone", request=request)
        if answer == 503:
            body = {"error": "bus unavailable", "jobId": job_id, "outcome": "unknown"}
            return httpx.Response(503, json=body, headers={"Retry-After": "5"})
        if answer == 202:
            return httpx.Response(202, json={"jobId": job_id, "eventId": str(uuid.uuid4())})
        return httpx.Response(answer, json={"error": "Invalid job data"})

    @property
    def ids(self) -> list[object]:
        return [b.get("id") for b in self.bodies]


async def run(gateway: Gateway, *argv: str) -> tuple[int, list[float]]:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    code = await submit.run_submit(
        parse(*argv), transport=httpx.MockTransport(gateway), sleep=sleep
    )
    return code, waits


@pytest.mark.parametrize("first", [503, 502, 504, httpx.ReadTimeout, httpx.ConnectError], ids=str)
async def test_an_open_answer_is_retried_with_the_same_id_and_one_job_is_reported(
    first: int | type[httpx.TransportError], capsys: pytest.CaptureFixture[str]
) -> None:
    gateway = Gateway(first)

    code, waits = await run(gateway, "--type", "REPORT", "--duration-ms", "10")

    assert code == 0
    assert len(gateway.bodies) == 2
    assert gateway.bodies[0] == gateway.bodies[1]  # the same body, the same id
    job_id = str(gateway.ids[0])
    assert str(uuid.UUID(job_id, version=4)) == job_id
    assert len(waits) == 1
    out = capsys.readouterr().out
    assert f"retrying {job_id} in {waits[0]:g}s (try 2 of 4)" in out
    assert out.count("accepted ") == 1
    assert out.rstrip().endswith(f"accepted {job_id}")


async def test_each_job_has_its_own_id(capsys: pytest.CaptureFixture[str]) -> None:
    gateway = Gateway()
    code, _ = await run(gateway, "--count", "3")
    assert code == 0
    assert len(set(gateway.ids)) == 3
    assert capsys.readouterr().out.split() == [w for i in gateway.ids for w in ("accepted", i)]


@pytest.mark.parametrize("status", [400, 401, 413, 415])
async def test_a_refusal_is_not_retried(status: int, capsys: pytest.CaptureFixture[str]) -> None:
    gateway = Gateway(status)
    code, waits = await run(gateway)
    assert (code, waits, len(gateway.bodies)) == (1, [], 1)
    assert capsys.readouterr().out.startswith(f"rejected ({status}): ")


async def test_after_four_tries_the_job_id_is_named_with_how_to_resubmit_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    gateway = Gateway(*[503] * 20)

    code, waits = await run(gateway, "--type", "SLOW")

    assert code == 1
    assert len(gateway.bodies) == 4
    assert len(set(gateway.ids)) == 1
    assert waits == [5.0, 5.0, 5.0]
    job_id = gateway.ids[0]
    out = capsys.readouterr().out
    assert f"Job {job_id} was not confirmed after 4 tries: its outcome is unknown" in out
    assert "Resubmitting it with the same id is safe" in out
    assert "last answer: 503 bus unavailable, outcome unknown" in out
    assert f"run the same command with --id {job_id}" in out


async def test_id_resubmits_that_very_job(capsys: pytest.CaptureFixture[str]) -> None:
    job_id = str(uuid.uuid4())
    gateway = Gateway()
    code, _ = await run(gateway, "--id", job_id.upper())
    assert code == 0
    assert gateway.ids == [job_id]
    assert capsys.readouterr().out == f"accepted {job_id}\n"


async def test_id_names_one_job_only(capsys: pytest.CaptureFixture[str]) -> None:
    gateway = Gateway()
    code, _ = await run(gateway, "--id", str(uuid.uuid4()), "--count", "2")
    assert (code, gateway.bodies) == (2, [])
    assert "--count 1" in capsys.readouterr().out


def test_id_must_be_a_uuid(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        parse("--id", "job-1")
    assert "must be a UUID" in capsys.readouterr().err
