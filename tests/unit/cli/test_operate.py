"""`odto cancel` and `odto replay`: the request each sends (with the CLI's actor), what
they print and their exit codes, against a fake gateway."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from observatory.core.actor import cli_actor
from observatory.interfaces.cli.main import parser
from observatory.interfaces.cli.operate import run_cancel, run_replay

JOB = "6f1c2f1e-7f2b-4a59-9b1e-2f0d5d6f1a11"


def gateway(status: int, answer: dict[str, Any], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=answer)

    return httpx.MockTransport(handle)


async def test_cancel_posts_with_the_cli_actor_and_prints_the_answer(
    capsys: pytest.CaptureFixture[str],
) -> None:
    seen: list[httpx.Request] = []
    args = parser().parse_args(["cancel", JOB, "--gateway-url", "http://gw"])
    answer = {"jobId": JOB, "status": "CANCELLED"}
    assert await run_cancel(args, transport=gateway(200, answer, seen)) == 0
    assert str(seen[0].url) == f"http://gw/jobs/{JOB}/cancel"
    assert seen[0].headers["x-odto-actor"] == cli_actor()
    assert json.loads(capsys.readouterr().out) == answer


async def test_a_refused_cancel_exits_1_naming_the_status(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = parser().parse_args(["cancel", JOB, "--gateway-url", "http://gw"])
    refusal = {"error": "running", "status": "EXECUTING"}
    assert await run_cancel(args, transport=gateway(409, refusal, [])) == 1
    assert "EXECUTING" in capsys.readouterr().out


async def test_replay_by_filter_sends_the_bulk_body() -> None:
    seen: list[httpx.Request] = []
    args = parser().parse_args(
        [
            "replay",
            "--filter",
            "reason=not JSON",
            "--filter",
            "queue=jobs.created",
            "--dry-run",
            "--gateway-url",
            "http://gw",
        ]
    )
    answer = {"matched": 3, "replayed": 0, "failed": []}
    assert await run_replay(args, transport=gateway(200, answer, seen)) == 0
    assert str(seen[0].url) == "http://gw/dead-letters/replay"
    assert json.loads(seen[0].content) == {
        "filter": {"reason": "not JSON", "queue": "jobs.created"},
        "dryRun": True,
    }


async def test_replay_by_id_and_bad_arguments() -> None:
    seen: list[httpx.Request] = []
    args = parser().parse_args(["replay", "17", "--gateway-url", "http://gw"])
    assert await run_replay(args, transport=gateway(202, {"state": "replayed"}, seen)) == 0
    assert str(seen[0].url) == "http://gw/dead-letters/17/replay"
    both = parser().parse_args(["replay", "17", "--dry-run"])
    assert await run_replay(both) == 2
    odd = parser().parse_args(["replay", "--filter", "reason"])
    assert await run_replay(odd) == 2
