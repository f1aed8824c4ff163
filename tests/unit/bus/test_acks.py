"""AckTracker: the frames it sends for the outcomes handlers decide."""

from __future__ import annotations

import asyncio
from typing import Any

from observatory.core.bus.acks import ACK, REJECT, REQUEUE, STRAGGLER_SECONDS, AckTracker


class FakeChannel:
    """Records settle frames in the order they reach the socket. Like aiormq with
    wait=True, each call returns only after a few loop turns (the flush)."""

    def __init__(self, *, closed: bool = False, turns: int = 0) -> None:
        self.frames: list[tuple[Any, ...]] = []
        self.closed = closed
        self.turns = turns

    async def basic_ack(self, tag: int, multiple: bool = False) -> None:
        await self._write("ack", tag, multiple)

    async def basic_reject(self, tag: int, *, requeue: bool) -> None:
        await self._write("reject", tag, requeue)

    async def basic_nack(self, tag: int, *, requeue: bool) -> None:
        await self._write("nack", tag, requeue)

    async def _write(self, *frame: Any) -> None:
        if self.closed:
            raise RuntimeError("channel closed")
        self.frames.append(frame)
        for _ in range(self.turns):
            await asyncio.sleep(0)


class FakeMonotonic:
    """A monotonic clock that moves only when the test advances it."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds


def tracker_with(
    tags: range, clock: FakeMonotonic | None = None, **channel_options: Any
) -> tuple[AckTracker, FakeChannel]:
    channel = FakeChannel(**channel_options)
    tracker = AckTracker(channel, clock=clock or FakeMonotonic())  # type: ignore[arg-type]  # FakeChannel has only the settle calls
    for tag in tags:
        tracker.delivered(tag)
    return tracker, channel


async def turns(count: int = 5) -> None:
    for _ in range(count):
        await asyncio.sleep(0)


async def test_a_whole_batch_of_acks_is_one_multiple_ack() -> None:
    tracker, channel = tracker_with(range(1, 101))
    for tag in range(1, 101):
        tracker.settle(tag, ACK)
    await tracker.settled()
    assert channel.frames == [("ack", 100, True)]
    assert tracker.unsettled == 0


async def test_nothing_is_acked_past_a_delivery_still_being_handled() -> None:
    tracker, channel = tracker_with(range(1, 11))
    for tag in range(4, 11):  # a later batch finishes first; 1-3 are still being handled
        tracker.settle(tag, ACK)
    await turns()
    assert channel.frames == []
    assert tracker.unsettled == 10

    for tag in (1, 2):
        tracker.settle(tag, ACK)
    await turns()
    assert channel.frames == [("ack", 2, True)]

    tracker.settle(3, ACK)
    await turns()
    assert channel.frames == [("ack", 2, True), ("ack", 10, True)]
    assert tracker.unsettled == 0


async def test_rejects_and_requeues_go_out_one_by_one_before_the_ack_that_follows() -> None:
    tracker, channel = tracker_with(range(1, 7))
    outcomes = {1: ACK, 2: REJECT, 3: ACK, 4: REQUEUE, 5: ACK, 6: REJECT}
    for tag, outcome in outcomes.items():
        tracker.settle(tag, outcome)
    await tracker.settled()
    # the multiple ack names the last *acked* tag, so it never covers a dropped one twice
    assert channel.frames == [
        ("reject", 2, False),
        ("nack", 4, True),
        ("reject", 6, False),
        ("ack", 5, True),
    ]
    assert tracker.unsettled == 0


async def test_a_drop_behind_an_undecided_delivery_is_sent_at_once() -> None:
    tracker, channel = tracker_with(range(1, 4))
    tracker.settle(3, REJECT)
    await turns()
    assert channel.frames == [("reject", 3, False)]
    tracker.settle(1, ACK)
    tracker.settle(2, ACK)
    await turns()
    assert channel.frames == [("reject", 3, False), ("ack", 2, True)]


async def test_frames_of_two_flushes_never_interleave() -> None:
    """A requeue decided first must reach the broker before a later multiple ack that would
    otherwise settle it (and make the broker close the channel over the nack that follows)."""
    tracker, channel = tracker_with(range(1, 7), turns=3)
    tracker.settle(2, REJECT)
    tracker.settle(4, REQUEUE)
    await asyncio.sleep(0)  # the first flush starts; its frames take several turns each
    for tag in (1, 3, 5, 6):
        tracker.settle(tag, ACK)
    await tracker.settled()
    assert channel.frames == [("reject", 2, False), ("nack", 4, True), ("ack", 6, True)]


async def test_deliveries_stuck_behind_a_slow_one_are_acked_singly_after_a_while() -> None:
    clock = FakeMonotonic()
    tracker, channel = tracker_with(range(1, 6), clock)
    for tag in (2, 3, 5):
        tracker.settle(tag, ACK)
    tracker.settle(4, REJECT)
    await turns()
    assert channel.frames == [("reject", 4, False)]

    clock.advance(STRAGGLER_SECONDS / 2)  # not yet: still held behind tag 1
    tracker.flush()
    await turns()
    assert channel.frames == [("reject", 4, False)]

    clock.advance(STRAGGLER_SECONDS)  # the look-again the tracker's timer would make
    tracker.flush()
    await turns()
    singles = [("ack", 2, False), ("ack", 3, False), ("ack", 5, False)]
    assert channel.frames == [("reject", 4, False), *singles]
    assert tracker.unsettled == 1

    tracker.settle(1, ACK)  # the slow one at last: acked on its own, nothing else covered
    await turns()
    assert channel.frames[-1] == ("ack", 1, True)
    assert tracker.unsettled == 0


async def test_closing_acks_everything_decided_and_leaves_the_undecided_to_the_broker() -> None:
    tracker, channel = tracker_with(range(1, 5))
    tracker.settle(2, ACK)
    tracker.settle(4, ACK)
    await tracker.settled()
    assert channel.frames == [("ack", 2, False), ("ack", 4, False)]
    assert tracker.unsettled == 2  # 1 and 3 were never decided: redelivered after close


async def test_outcomes_of_one_loop_turn_are_flushed_together_without_being_asked() -> None:
    tracker, channel = tracker_with(range(1, 4))
    for tag in (1, 2, 3):
        tracker.settle(tag, ACK)
    await turns(3)
    assert channel.frames == [("ack", 3, True)]


async def test_a_closed_channel_is_not_an_error() -> None:
    channel = FakeChannel(closed=True)
    tracker = AckTracker(channel)  # type: ignore[arg-type]  # FakeChannel has only the settle calls
    tracker.delivered(1)
    tracker.settle(1, ACK)
    await tracker.settled()  # the broker redelivers what a dead channel held
    assert channel.frames == []
