"""The load generator's backlog gate survives a failed poll: it keeps its last state,
polls again and counts the failure; after many in a row it opens for good, so senders
never wait on a gate nobody watches."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
from benchmarks import loadgen
from benchmarks.loadgen import Gate, LoadResult


def fresh() -> LoadResult:
    return LoadResult(time.monotonic(), datetime.now(UTC))


async def test_a_failed_poll_keeps_the_gate_closed_and_is_counted() -> None:
    answers: list[int | Exception] = [20, ConnectionError("closed by server"), 20, 0]
    result = fresh()

    async def backlog(_: LoadResult) -> int:
        answer = answers.pop(0) if answers else 0
        if isinstance(answer, Exception):
            raise answer
        return answer

    with Gate(backlog, 10, result) as gate:
        await asyncio.sleep(0.05)
        assert not gate.open.is_set()  # over the limit: closed
        await asyncio.sleep(0.1)
        assert not gate.open.is_set()  # the poll failed: still closed
        await asyncio.wait_for(gate.open.wait(), 2)  # under the limit again: open
    assert result.gate_errors == 1
    assert gate.paused > 0


async def test_a_gate_whose_polls_keep_failing_opens_for_good(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(loadgen, "GIVE_UP", 3)
    calls = 0

    async def backlog(_: LoadResult) -> int:
        nonlocal calls
        calls += 1
        if calls == 1:
            return 20
        raise ConnectionError("Redis is gone")

    result = fresh()
    with Gate(backlog, 10, result) as gate:
        await asyncio.wait_for(gate.open.wait(), 2)
        await asyncio.sleep(0.3)
    assert result.gate_errors == 3
    assert calls == 4


async def test_a_gate_cancelled_mid_poll_ends_even_if_the_client_swallows_the_cancel() -> None:
    """redis-py answers a cancel during a read with its own ConnectionError; the gate
    must still end when it is closed, not poll on for ever (a benchmark hung so)."""
    polls = 0

    async def backlog(_: LoadResult) -> int:
        nonlocal polls
        polls += 1
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            raise ConnectionError("Connection closed by server") from None
        return 0

    gate = Gate(backlog, 10, fresh())
    with gate:
        await asyncio.sleep(0.05)
    assert gate._task is not None
    await asyncio.wait_for(asyncio.shield(gate._task), 2)
    assert polls == 1
