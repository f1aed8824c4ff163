"""AckTracker: the frames it sends for the outcomes handlers decide."""

from __future__ import annotations

import asyncio
from typing import Any

from observatory.core.bus.acks import ACK, REJECT, REQUEUE, AckTracker


class FakeChannel:
    """Records the settle frames in the order they are written."""

    def __init__(self, *, closed: bool = False) -> None:
        self.frames: list[tuple[Any, ...]] = []
        self.closed = closed

    async def basic_ack(self, tag: int, multiple: bool = False) -> None:
        self._write("ack", tag, multiple)

    async def basic_reject(self, tag: int, *, requeue: bool) -> None:
        self._write("reject", tag, requeue)

    async def basic_nack(self, tag: int, *, requeue: bool) -> None:
        self._write("nack", tag, requeue)

    def _write(self, *frame: Any) -> None:
        if self.closed:
            raise RuntimeError("channel closed")
        self.frames.append(frame)


def tracker_with(tags: range) -> tuple[AckTracker, FakeChannel]:
    channel = FakeChannel()
    tracker = AckTracker(channel)  # type: ignore[arg-type]
    for tag in tags:
        tracker.delivered(tag)
    return tracker, channel


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
    await tracker.settled()
    assert channel.frames == []
    assert tracker.unsettled == 10

    for tag in (1, 2):
        tracker.settle(tag, ACK)
    await tracker.settled()
    assert channel.frames == [("ack", 2, True)]

    tracker.settle(3, ACK)
    await tracker.settled()
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
    await tracker.settled()
    assert channel.frames == [("reject", 3, False)]
    tracker.settle(1, ACK)
    tracker.settle(2, ACK)
    await tracker.settled()
    assert channel.frames == [("reject", 3, False), ("ack", 2, True)]


async def test_outcomes_of_one_loop_turn_are_flushed_together_without_being_asked() -> None:
    tracker, channel = tracker_with(range(1, 4))
    for tag in (1, 2, 3):
        tracker.settle(tag, ACK)
    for _ in range(3):
        await asyncio.sleep(0)
    assert channel.frames == [("ack", 3, True)]


async def test_a_closed_channel_is_not_an_error() -> None:
    channel = FakeChannel(closed=True)
    tracker = AckTracker(channel)  # type: ignore[arg-type]
    tracker.delivered(1)
    tracker.settle(1, ACK)
    await tracker.settled()  # the broker redelivers what a dead channel held
    assert channel.frames == []
