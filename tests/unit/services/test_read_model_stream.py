"""The /stream broadcaster: woken by event news it pushes at once, then coalesces a burst
and flushes once more after it (the counters land just after the events); without news
it polls as before. Safety and poll paces are set far beyond the test's deadline, so an
update that arrives was pushed by news, not found by a poll."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from tests.streams import Spy, listening, next_of

from observatory.core.stores.news import EventNews, LocalNews, NoNews, Signal
from observatory.services.read_model.stream import Broadcaster

NEVER = 3600.0  # a poll pace no test waits for
DEADLINE = 10.0


class Store:
    """Events and a counter that, like the metrics engine's, is written just after the
    events: each stats read catches up with the events stored before the previous read."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self._counted = 0
        self._due = 0
        self.signal = Signal()

    def add(self, *, announce: bool = True) -> str:
        event_id = str(uuid.uuid4())
        self.events.append({"eventId": event_id, "eventType": "job.created"})
        if announce:
            self.signal.notify()
        return event_id

    async def stats(self) -> dict[str, Any]:
        self._counted, self._due = self._due, len(self.events)
        return {"totalJobs": self._counted}

    async def recent(self, limit: int) -> list[dict[str, Any]]:
        return list(reversed(self.events))[:limit]


def broadcaster(
    store: Store, news: EventNews, *, interval: float = NEVER, safety: float = NEVER
) -> tuple[Broadcaster, Spy]:
    spy = Spy(news)
    b = Broadcaster(store.stats, store.recent, interval, news=spy, coalesce=0.01, safety=safety)
    return b, spy


async def test_news_pushes_a_new_event_at_once_and_the_stats_after_it() -> None:
    """With live news and polls an hour apart, a stored event reaches the subscriber, and
    the counters written just after it follow in the flush that ends the burst."""
    store = Store()
    b, spy = broadcaster(store, LocalNews(store.signal, live=True))
    async with listening(b, spy) as messages:
        event_id = store.add()
        assert (await next_of(messages, "job-event"))["eventId"] == event_id
        assert (await next_of(messages, "stats"))["totalJobs"] == 1
        assert True in spy.answers  # woken by news, not by a poll


async def test_events_there_before_the_stream_started_are_not_replayed() -> None:
    """Only events stored after the stream started are pushed (the de-duplication)."""
    store = Store()
    store.add(announce=False)
    b, spy = broadcaster(store, LocalNews(store.signal, live=True))
    async with listening(b, spy) as messages:
        new = store.add()
        assert (await next_of(messages, "job-event"))["eventId"] == new


async def test_a_burst_is_pushed_whole_in_order_and_each_event_once() -> None:
    """Many events announced in a burst all arrive, oldest first, none twice."""
    store = Store()
    b, spy = broadcaster(store, LocalNews(store.signal, live=True))
    async with listening(b, spy) as messages:
        ids = [store.add() for _ in range(30)]
        pushed = [(await next_of(messages, "job-event"))["eventId"] for _ in ids]
        assert pushed == ids
        last = store.add()
        assert (await next_of(messages, "job-event"))["eventId"] == last


async def test_without_news_the_stream_polls() -> None:
    """An engine that announces nothing (MongoDB): events are found by the poll."""
    store = Store()
    b, spy = broadcaster(store, NoNews(), interval=0.01)
    async with listening(b, spy) as messages:
        event_id = store.add(announce=False)
        assert (await next_of(messages, "job-event"))["eventId"] == event_id


async def test_news_that_is_not_live_still_polls_for_other_writers() -> None:
    """SQLite written by another process: in-process news would push, and what another
    writer stored silently is found by the poll."""
    store = Store()
    b, spy = broadcaster(store, LocalNews(store.signal, live=False), interval=0.01)
    async with listening(b, spy) as messages:
        event_id = store.add(announce=False)
        assert (await next_of(messages, "job-event"))["eventId"] == event_id


async def test_live_news_keeps_a_safety_poll() -> None:
    """A change nobody announced (a lost notification) is still pushed by the safety poll."""
    store = Store()
    b, spy = broadcaster(store, LocalNews(store.signal, live=True), safety=0.01)
    async with listening(b, spy) as messages:
        event_id = store.add(announce=False)
        assert (await next_of(messages, "job-event"))["eventId"] == event_id


async def test_every_reader_of_a_signal_sees_each_change_once() -> None:
    """Two readers of one signal (two read models in a process) do not take each
    other's news; news that came while nobody waited is seen at the next wait."""
    signal = Signal()
    first, second = LocalNews(signal, live=True), LocalNews(signal, live=True)
    signal.notify()
    assert await first.wait(0)
    assert await second.wait(0)
    assert not await first.wait(0)
    waiting = asyncio.create_task(first.wait(DEADLINE))
    await asyncio.sleep(0)
    signal.notify()
    assert await waiting
