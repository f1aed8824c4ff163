"""`odto` and tokens (SPEC §13 "Access"): ODTO_TOKEN (ODTO_API_TOKEN still read),
--token-file, the token on reads as well as writes, and a 401/403 saying what to do."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from observatory.interfaces.cli.main import parser
from observatory.interfaces.cli.operate import run_cancel
from observatory.interfaces.cli.settings import CliSettings
from observatory.interfaces.cli.submit import run_submit

JOB = "6f1c2f1e-7f2b-4a59-9b1e-2f0d5d6f1a11"


def answering(status: int, body: dict[str, Any], seen: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handle)


def test_odto_token_wins_and_odto_api_token_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODTO_API_TOKEN", "old-token")
    assert CliSettings().api_token == "old-token"
    monkeypatch.setenv("ODTO_TOKEN", "new-token")
    assert CliSettings().api_token == "new-token"


async def test_the_token_file_is_sent_as_the_bearer_token(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("operator-token-2\n")
    seen: list[httpx.Request] = []
    args = parser().parse_args(
        ["cancel", JOB, "--gateway-url", "http://gw", "--token-file", str(path)]
    )
    done = {"jobId": JOB, "status": "CANCELLED"}
    assert await run_cancel(args, transport=answering(200, done, seen)) == 0
    assert seen[0].headers["authorization"] == "Bearer operator-token-2"


def test_an_unreadable_token_file_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        parser().parse_args(["cancel", JOB, "--token-file", str(tmp_path / "absent")])
    assert exited.value.code == 2
    assert "cannot read" in capsys.readouterr().err


async def test_a_401_says_to_set_odto_token(capsys: pytest.CaptureFixture[str]) -> None:
    args = parser().parse_args(["cancel", JOB, "--gateway-url", "http://gw"])
    refusal = {"error": "A valid bearer token is required (set ODTO_TOKEN or sign in)"}
    assert await run_cancel(args, transport=answering(401, refusal, [])) == 1
    assert "set ODTO_TOKEN or pass --token-file" in capsys.readouterr().out


async def test_a_403_names_the_role_needed(capsys: pytest.CaptureFixture[str]) -> None:
    args = parser().parse_args(["submit", "--type", "X", "--gateway-url", "http://gw"])
    refusal = {"error": "This needs the operator role", "requiredRole": "operator"}
    assert await run_submit(args, transport=answering(403, refusal, [])) == 1
    assert "needs a token with the operator role" in capsys.readouterr().out


async def test_submit_wait_reads_with_the_token_too() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":
            return httpx.Response(202, json={"jobId": JOB, "eventId": JOB})
        return httpx.Response(200, json={"id": JOB, "status": "COMPLETED"})

    args = parser().parse_args(
        ["submit", "--type", "X", "--id", JOB, "--wait", "--token", "viewer-or-more"]
    )
    await run_submit(args, transport=httpx.MockTransport(handle))
    assert {r.method for r in seen} == {"POST", "GET"}
    assert all(r.headers["authorization"] == "Bearer viewer-or-more" for r in seen)
