"""Isolating: a batch that fails on one item is split until the item is alone; that item
is poison and the rest proceed. An outage fails everything and poisons nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from observatory.core.bus.isolation import POISON_AFTER, Isolating
from observatory.core.bus.port import Delivery, Outcome, Settlement
from observatory.core.errors import DependencyDown, InvalidMessage


@dataclass
class Item:
    body: bytes
    queue: str = "q"
    headers: Mapping[str, Any] = field(default_factory=dict)
    redelivered: bool = False

    async def settle(self, outcome: Outcome) -> None:  # the runner's job, not used here
        raise AssertionError("Isolating never settles")


class Handler:
    """Fails a whole batch when it holds a bad item, like one database transaction."""

    def __init__(self, *, bad: bytes = b"bad", down: bool = False, flaky: bytes = b"") -> None:
        self.bad, self.down, self.flaky = bad, down, flaky
        self.calls: list[int] = []

    async def __call__(self, batch: Sequence[Delivery]) -> list[Settlement]:
        self.calls.append(len(batch))
        if self.down:
            raise DependencyDown("job_store", "connection refused")
        if any(d.body == self.flaky for d in batch):
            raise DependencyDown("job_store", "database error 22008")  # a bad value, misreported
        if any(d.body == self.bad for d in batch):
            raise InvalidMessage("value out of range")
        return [Outcome.ACK] * len(batch)


class Poison:
    def __init__(self) -> None:
        self.seen: list[tuple[bytes, str]] = []

    async def __call__(self, delivery: Delivery, reason: str) -> Outcome:
        self.seen.append((delivery.body, reason))
        return Outcome.REJECT


def items(*bodies: bytes) -> list[Item]:
    return [Item(b) for b in bodies]


async def test_one_bad_item_is_rejected_alone_and_the_rest_proceed() -> None:
    """Eight items, the sixth bad: seven ACK, the bad one REJECT with the reason."""
    handler, poison = Handler(), Poison()
    batch = items(*[b"ok%d" % i for i in range(5)], b"bad", b"ok6", b"ok7")
    outcomes = await Isolating(handler, poison)(batch)
    assert outcomes == [Outcome.ACK] * 5 + [Outcome.REJECT] + [Outcome.ACK] * 2
    assert poison.seen == [(b"bad", "value out of range")]


async def test_two_bad_items_in_one_batch_are_both_found() -> None:
    handler, poison = Handler(), Poison()
    batch = items(b"bad", *[b"ok%d" % i for i in range(14)], b"bad")
    outcomes = await Isolating(handler, poison)(batch)
    assert outcomes.count(Outcome.REJECT) == 2
    assert outcomes[0] is Outcome.REJECT
    assert outcomes[-1] is Outcome.REJECT
    assert len(poison.seen) == 2


async def test_an_outage_is_retried_and_never_poisons() -> None:
    """A backend that is down fails every batch: each call raises DependencyDown (the
    runner backs off and retries), however often, and nothing is dead-lettered."""
    handler, poison = Handler(down=True), Poison()
    isolating = Isolating(handler, poison)
    for _ in range(POISON_AFTER * 3):
        with pytest.raises(DependencyDown):
            await isolating(items(b"a", b"b", b"c"))
    assert poison.seen == []


async def test_a_message_that_keeps_failing_while_others_succeed_is_isolated() -> None:
    """A bad value reported as a database error fails its batch again and again while
    other batches succeed: the batch is split, and the item ends as poison after a bound
    while its neighbours are acknowledged."""
    handler, poison = Handler(flaky=b"sticky"), Poison()
    isolating = Isolating(handler, poison)
    pending = items(b"n1", b"sticky", b"n2", b"n3")
    final: dict[bytes, Outcome] = {}
    for _ in range(POISON_AFTER * 2):  # each round: the broker redelivers what was retried
        try:
            outcomes: Sequence[Settlement] = await isolating(pending)
        except DependencyDown:
            outcomes = [Outcome.RETRY] * len(pending)
        for item, outcome in zip(pending, outcomes, strict=True):
            assert isinstance(outcome, Outcome)
            if outcome is not Outcome.RETRY:
                final[item.body] = outcome
        pending = [i for i, o in zip(pending, outcomes, strict=True) if o is Outcome.RETRY]
        if not pending:
            break
        assert await isolating(items(b"other")) == [Outcome.ACK]  # the backend works
    assert final == {
        b"n1": Outcome.ACK,
        b"n2": Outcome.ACK,
        b"n3": Outcome.ACK,
        b"sticky": Outcome.REJECT,
    }
    assert poison.seen[0][0] == b"sticky"
    assert "kept failing" in poison.seen[0][1]


async def test_a_poison_handler_that_breaks_rejects_the_item_instead_of_retrying() -> None:
    """If dead-lettering the isolated item itself fails (a defect), the item is rejected
    as it came and the rest of its batch still proceeds: no batch goes back for good."""

    async def broken(delivery: Delivery, reason: str) -> Outcome:
        raise TypeError("Recursion limit reached")

    isolating = Isolating(Handler(), broken)
    outcomes = await isolating(items(b"ok-1", b"bad", b"ok-2"))
    assert outcomes == [Outcome.ACK, Outcome.REJECT, Outcome.ACK]


async def test_an_outage_while_poisoning_is_still_retried() -> None:
    async def down(delivery: Delivery, reason: str) -> Outcome:
        raise DependencyDown("bus", "connection refused")

    with pytest.raises(DependencyDown):
        await Isolating(Handler(), down)(items(b"bad"))
