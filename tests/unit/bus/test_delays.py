"""Quorum queues' delayed messages, held and moved by the consumers (core.bus.delays)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import pytest
from aiormq import spec
from aiormq.abc import DeliveredMessage
from tests.waiting import wait_until_async

from observatory.core.bus import delays
from observatory.core.bus.declarations import Declarations
from observatory.core.bus.delays import DUE_HEADER, DelayMover, due_headers, wait_of
from observatory.core.errors import DependencyDown, OutcomeUnknown


@dataclass
class FakeChannel:
    acked: list[int] = field(default_factory=list)
    requeued: list[int] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)
    is_closed: bool = False

    async def basic_reject(self, tag: int, *, requeue: bool) -> None:
        assert not requeue
        self.rejected.append(tag)

    async def basic_ack(self, tag: int) -> None:
        self.acked.append(tag)

    async def basic_nack(self, tag: int, *, requeue: bool) -> None:
        assert requeue
        self.requeued.append(tag)


def delivered(channel: FakeChannel, tag: int, body: bytes, headers: dict[str, Any]) -> Any:
    deliver = spec.Basic.Deliver(delivery_tag=tag, routing_key="jobs.created.delay")
    header: Any = type("Header", (), {"properties": spec.Basic.Properties(headers=headers)})()
    # the fake stands for aiormq's channel: the mover uses only its acks and `is_closed`
    return DeliveredMessage(delivery=deliver, header=header, body=body, channel=cast(Any, channel))


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class Target:
    """Where the mover publishes: records what arrived, or refuses the first `refusals`."""

    def __init__(self, refusals: int = 0, error: type[DependencyDown] = DependencyDown) -> None:
        self.moved: list[tuple[str, bytes, Mapping[str, Any]]] = []
        self.rounds = 0
        self.refusals = refusals
        self.error = error

    async def forward(self, queue: str, items: Sequence[tuple[bytes, Mapping[str, Any]]]) -> None:
        if self.refusals:
            self.refusals -= 1
            raise self.error("bus", "not connected")
        self.rounds += 1
        self.moved += [(queue, body, headers) for body, headers in items]


def test_the_due_time_rides_in_a_header_in_milliseconds() -> None:
    headers = due_headers({"x-attempt": 2}, 1.5, now=1_000.25)
    assert headers == {"x-attempt": 2, DUE_HEADER: 1_001_750}
    assert due_headers({}, -3, now=10.0)[DUE_HEADER] == 10_000  # no negative delays


@pytest.mark.parametrize(
    ("due", "wait"),
    [
        (1_002_000, 2.0),  # two seconds from now
        (999_000, 0.0),  # past: at once
        (None, 0.0),  # none (an earlier version's message, or forged): at once
        ("1002000", 0.0),  # not a number
        (True, 0.0),  # a bool is not a time
        (10**15, delays.LONGEST_WAIT),  # absurdly far: held a day at most
    ],
)
def test_how_long_a_message_is_held(due: Any, wait: float) -> None:
    headers = {} if due is None else {DUE_HEADER: due}
    assert wait_of(headers, now=1_000.0) == wait


def test_quorum_delay_queues_hold_rather_than_dead_letter() -> None:
    """No expiration route on quorum: the at-least-once dead-lettering that stalls is not
    involved. Classic delay queues keep the standard pattern."""
    assert Declarations("quorum").delay("ns.jobs.created") == {"x-queue-type": "quorum"}
    assert Declarations("classic").delay("ns.jobs.created") == {
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": "ns.jobs.created",
    }
    assert delays.delay_queue("ns.jobs.created") == "ns.jobs.created.delay"


async def test_a_message_is_held_until_due_then_moved_and_only_then_acked() -> None:
    channel, target = FakeChannel(), Target()
    clock = Clock(1_000.0)
    mover = DelayMover("ns.jobs.created", target.forward, clock=clock)
    headers = {"x-attempt": 2, "traceparent": "00-" + "1" * 32 + "-" + "2" * 16 + "-01"}
    due = due_headers(headers, 0.3, now=clock.now)
    await mover.receiver(delivered(channel, 7, b"later", {**due, "x-delivery-count": 1}))
    await mover.receiver(delivered(channel, 8, b"now", {"x-attempt": 1}))

    await wait_until_async(lambda: len(target.moved) == 2, timeout=5, message="both moved")
    assert [body for _, body, _ in target.moved] == [b"now", b"later"]  # each on its own time
    queue, _, kept = target.moved[1]
    assert queue == "ns.jobs.created"
    assert kept == headers  # the due time and the quorum queue's count are not carried on
    await wait_until_async(lambda: sorted(channel.acked) == [7, 8], timeout=5, message="acks")
    assert mover.held == 0


@pytest.mark.parametrize("error", [DependencyDown, OutcomeUnknown])
async def test_a_message_not_moved_goes_back_to_the_queue_after_a_pause(
    monkeypatch: pytest.MonkeyPatch, error: type[DependencyDown]
) -> None:
    """The target refused (broker down, or an unknown outcome): not acked but given back,
    so another consumer or a later delivery moves it; never lost, never spun on."""
    monkeypatch.setattr(delays, "RETRY_PAUSE", 0.05)
    channel, target = FakeChannel(), Target(refusals=1, error=error)
    mover = DelayMover("q", target.forward)
    await mover.receiver(delivered(channel, 3, b"x", {}))
    await wait_until_async(lambda: channel.requeued == [3], timeout=5, message="requeue")
    assert channel.acked == []
    assert target.moved == []


async def test_closing_stops_holding_without_acking() -> None:
    """Held messages go back to the broker with the channel (nothing acked, nothing moved)."""
    channel, target = FakeChannel(), Target()
    mover = DelayMover("q", target.forward, clock=Clock(0.0))
    await mover.receiver(delivered(channel, 1, b"x", due_headers({}, 3600, now=0.0)))
    assert mover.held == 1
    mover.close()
    await wait_until_async(lambda: mover.held == 0, timeout=5, message="tasks cancelled")
    assert channel.acked == []
    assert channel.requeued == []
    assert target.moved == []


async def test_a_message_whose_channel_closed_while_held_is_left_to_its_next_holder() -> None:
    """A reconnect closed the channel: the broker has given the message back (to this
    consumer's new channel, or another's), so the old hold does not move it too."""
    channel, target = FakeChannel(), Target()
    mover = DelayMover("q", target.forward, clock=Clock(0.0))
    await mover.receiver(delivered(channel, 1, b"x", due_headers({}, 0.1, now=0.0)))
    channel.is_closed = True
    await wait_until_async(lambda: mover.held == 0, timeout=5, message="hold ended")
    assert target.moved == []
    assert channel.acked == []


async def test_messages_due_together_go_back_in_one_round() -> None:
    """After an outage many retries fall due at once: one publish round for them all,
    then each acked."""
    channel, target = FakeChannel(), Target()
    mover = DelayMover("q", target.forward)
    for tag in range(1, 201):
        await mover.receiver(delivered(channel, tag, b"%d" % tag, {}))
    await wait_until_async(lambda: len(channel.acked) == 200, timeout=5, message="all acked")
    assert target.rounds == 1
    assert sorted(body for _, body, _ in target.moved) == sorted(b"%d" % t for t in range(1, 201))
    assert mover.held == 0


async def test_a_message_that_cannot_be_published_again_fails_alone() -> None:
    """Whatever the target cannot take for a reason other than the bus (an encoding
    error, say) costs that message alone: the rest of its batch goes back, and it is
    dropped with an error rather than held or retried forever."""
    channel = FakeChannel()
    moved: list[bytes] = []

    async def forward(queue: str, items: Sequence[tuple[bytes, Mapping[str, Any]]]) -> None:
        if any(body == b"poison" for body, _ in items):
            raise ValueError("header cannot be encoded")
        moved.extend(body for body, _ in items)

    mover = DelayMover("q", forward)
    for tag, body in enumerate((b"a", b"poison", b"b"), start=1):
        await mover.receiver(delivered(channel, tag, body, {}))
    await wait_until_async(lambda: mover.held == 0, timeout=5, message="all settled")
    assert sorted(moved) == [b"a", b"b"]
    assert sorted(channel.acked) == [1, 3]
    assert channel.rejected == [2]
    assert channel.requeued == []
