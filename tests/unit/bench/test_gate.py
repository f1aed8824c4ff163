"""The load generator's backlog gate survives a failed poll: it keeps its last state,
polls again and counts the failure; after many in a row it opens for good, so senders
never wait on a gate nobody watches. And it ends when closed, even if the client it
polls with turns the cancel into an error of its own."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import pytest
from benchmarks import loadgen
from benchmarks.loadgen import Gate, LoadResult
from tests.waiting import wait_until_async


def fresh() -> LoadResult:
    return LoadResult(time.monotonic(), datetime.now(UTC))


class Scripted:
    """A backlog poll that answers what the test hands it, one answer per poll."""

    def __init__(self) -> None:
        self.answers: asyncio.Queue[int | Exception] = asyncio.Queue()
        self.polls = 0

    async def __call__(self, _: LoadResult) -> int:
        self.polls += 1
        answer = await self.answers.get()
        if isinstance(answer, Exception):
            raise answer
        return answer

    async def answer(self, value: int | Exception) -> None:
        """Hand `value` to the poll waiting now, and wait until the gate polls again."""
        polls = self.polls
        self.answers.put_nowait(value)
        await wait_until_async(lambda: self.polls > polls, 2, message="the next poll")


def watcher(gate: Gate) -> asyncio.Task[None]:
    assert gate._task is not None
    return gate._task


async def test_a_failed_poll_keeps_the_gate_closed_and_is_counted() -> None:
    backlog, result = Scripted(), fresh()
    with Gate(backlog, 10, result) as gate:
        await backlog.answer(20)
        assert not gate.open.is_set()  # over the limit: closed
        await backlog.answer(ConnectionError("closed by server"))
        assert not gate.open.is_set()  # the poll failed: still closed
        assert result.gate_errors == 1
        await backlog.answer(0)
        assert gate.open.is_set()  # under the limit again: open
    assert result.gate_errors == 1
    assert gate.paused > 0


async def test_a_gate_whose_polls_keep_failing_opens_for_good(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(loadgen, "GIVE_UP", 3)
    backlog, result = Scripted(), fresh()
    answers: list[int | Exception] = [20, *[ConnectionError("Redis is gone")] * 3]
    for answer in answers:
        backlog.answers.put_nowait(answer)
    with Gate(backlog, 10, result) as gate:
        await asyncio.wait_for(asyncio.shield(watcher(gate)), 2)  # it stopped watching
        assert gate.open.is_set()  # and left the gate open
    assert result.gate_errors == 3
    assert backlog.polls == 4


async def test_a_gate_cancelled_mid_poll_ends_even_if_the_client_swallows_the_cancel() -> None:
    """redis-py answers a cancel during a read with its own ConnectionError; the gate
    must still end when it is closed, not poll on for ever (a benchmark hung so)."""
    polls = 0
    never = asyncio.Event()

    async def backlog(_: LoadResult) -> int:
        nonlocal polls
        polls += 1
        try:
            await never.wait()  # a read that has not answered yet
        except asyncio.CancelledError:
            raise ConnectionError("Connection closed by server") from None
        return 0

    gate = Gate(backlog, 10, fresh())
    with gate:
        await wait_until_async(lambda: polls == 1, 2, message="the first poll")
    await asyncio.wait_for(asyncio.shield(watcher(gate)), 2)
    assert polls == 1
