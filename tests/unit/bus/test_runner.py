"""ConsumerRunner: a delivery answered later holds its own prefetch slot, not its batch."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.waiting import wait_until_async

from observatory.core.bus.port import Delivery, Outcome, Settlement
from observatory.core.bus.runner import ConsumerRunner


@dataclass
class Item:
    body: bytes
    queue: str = "q"
    headers: Mapping[str, Any] = field(default_factory=dict)
    redelivered: bool = False
    settled: list[Outcome] = field(default_factory=list)

    async def settle(self, outcome: Outcome) -> None:
        self.settled.append(outcome)


async def test_a_slow_delivery_frees_its_batch_and_settles_alone() -> None:
    """A batch of three whose second item is still working: the other two are settled at
    once, the batch slot is free for the next batch, and the slow one is settled (and its
    prefetch slot freed) only when its outcome arrives."""
    slow: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()

    async def handler(batch: Sequence[Delivery]) -> list[Settlement]:
        return [Outcome.ACK, slow, Outcome.REJECT]

    runner = ConsumerRunner("q", handler, prefetch=10, max_batches=1)
    batch = [Item(b"a"), Item(b"b"), Item(b"c")]
    runner.submit(batch)
    await wait_until_async(lambda: runner.batches == 0, timeout=5, interval=0)
    assert [i.settled for i in batch] == [[Outcome.ACK], [], [Outcome.REJECT]]
    assert runner.in_flight == 1
    assert await runner.wait_for_room() == 9  # the next batch may start now

    slow.set_result(Outcome.ACK)
    await wait_until_async(lambda: runner.in_flight == 0, timeout=5, interval=0)
    assert batch[1].settled == [Outcome.ACK]


async def test_a_deferred_outcome_that_breaks_hands_the_delivery_back() -> None:
    async def broken() -> Outcome:
        raise RuntimeError("work crashed")

    async def handler(batch: Sequence[Delivery]) -> list[Settlement]:
        return [asyncio.ensure_future(broken())]

    runner = ConsumerRunner("q", handler, prefetch=10)
    item = Item(b"x")
    runner.submit([item])
    await wait_until_async(lambda: runner.in_flight == 0, timeout=5, interval=0)
    assert item.settled == [Outcome.RETRY]


async def test_a_batch_waits_for_the_busy_one_unless_a_full_batch_is_waiting() -> None:
    """Group commit: with no batch in flight the next starts at once; while one is being
    handled, the next waits (its deliveries keep gathering) until that one ends, or until
    a full batch is waiting and someone says so."""
    release = asyncio.Event()

    async def handler(batch: Sequence[Delivery]) -> list[Settlement]:
        await release.wait()
        return [Outcome.ACK] * len(batch)

    runner = ConsumerRunner("q", handler, prefetch=100)
    waiting: list[Item] = [Item(b"a")]
    await runner.wait_for_turn(lambda: len(waiting), 3)  # nothing in flight: no wait
    runner.submit(waiting[:])
    waiting.clear()

    waiting.append(Item(b"b"))
    turn = asyncio.ensure_future(runner.wait_for_turn(lambda: len(waiting), 3, linger=60))
    await wait_until_async(lambda: runner.batches == 1, timeout=5, interval=0)
    for _ in range(5):
        await asyncio.sleep(0)
    assert not turn.done()  # one delivery waiting beside a busy batch: it keeps gathering

    waiting.extend([Item(b"c"), Item(b"d")])  # a full batch now waits
    await runner.wake()
    await asyncio.wait_for(turn, timeout=5)

    turn = asyncio.ensure_future(runner.wait_for_turn(lambda: 1, 3, linger=60))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not turn.done()
    release.set()  # the busy batch ends: the small one may start
    await asyncio.wait_for(turn, timeout=5)
    assert runner.batches == 0


async def test_a_slow_batch_holds_the_next_small_one_only_for_the_linger() -> None:
    """A batch that never ends does not stall the deliveries behind it: after the linger
    the small batch starts beside it."""
    never = asyncio.Event()

    async def handler(batch: Sequence[Delivery]) -> list[Settlement]:
        await never.wait()
        return [Outcome.ACK] * len(batch)

    runner = ConsumerRunner("q", handler, prefetch=100)
    runner.submit([Item(b"slow")])
    await asyncio.wait_for(runner.wait_for_turn(lambda: 1, 100, linger=0.01), timeout=5)
    assert runner.batches == 1  # started beside the slow one, which still runs
    never.set()
    await wait_until_async(lambda: runner.batches == 0, timeout=5, interval=0)
