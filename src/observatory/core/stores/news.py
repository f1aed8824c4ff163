"""Event news: how the read model learns that new events were stored, so /stream pushes
them at once instead of polling for them.

- `EventNews` (the port): `wait(timeout)` until news or a timeout; `live` says whether
  every stored event is announced (the reader may then poll only now and then, as a
  safety net) or not (the reader keeps polling at its fallback pace).
- `Signal`: the in-process announcement; any number of `LocalNews` readers follow it,
  each seeing every change once.
- `LocalNews`: the SQLite event store's news. It raises its signal after each commit
  that stored something; the signal reaches readers in this process only, so it is live
  only when the metrics engine writes through the same store object (`odto up`).
- `NoNews`: an engine that announces nothing (MongoDB): the reader polls.
- `Announcing`: an event store that has news (`news_source`); `news_for` picks it or
  `NoNews`. The PostgreSQL adapter's listener is in `postgres_news`.
"""

from __future__ import annotations

import asyncio
from typing import Protocol, cast


class EventNews(Protocol):
    """Word that new events were stored. Never raises for a backend being down: while it
    cannot listen it is not `live`, and the reader polls."""

    @property
    def live(self) -> bool:
        """True while every event stored is announced; False: poll at the fallback pace."""

    def start(self) -> None:
        """Begin listening (idempotent; a listener connects in the background)."""

    async def wait(self, timeout: float) -> bool:
        """True as soon as news arrived since the previous wait returned (at once when it
        already had), False when `timeout` seconds passed without any."""

    async def close(self) -> None:
        """Stop listening."""


class Signal:
    """An in-process announcement: `notify()` wakes every waiter; a generation number
    lets each reader tell news it has not seen yet from news it has."""

    def __init__(self) -> None:
        self.generation = 0
        self._changed: asyncio.Event | None = None

    def notify(self) -> None:
        self.generation += 1
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def changed_since(self, generation: int, timeout: float) -> bool:
        """True once the generation is past `generation`; False after `timeout` seconds."""
        if self.generation != generation:
            return True
        if timeout <= 0:
            return False
        if self._changed is None:
            self._changed = asyncio.Event()
        try:  # asyncio.timeout: wait_for (3.11) can swallow a cancellation
            async with asyncio.timeout(timeout):
                await self._changed.wait()
        except TimeoutError:
            return self.generation != generation
        return True


class SignalReader:
    """One reader of a `Signal`: sees each change once, whatever the other readers do."""

    def __init__(self, signal: Signal) -> None:
        self._signal = signal
        self._seen = signal.generation

    async def wait(self, timeout: float) -> bool:
        news = await self._signal.changed_since(self._seen, timeout)
        self._seen = self._signal.generation
        return news


class LocalNews:
    """News of a store in this process; `live` when every writer shares the store object."""

    def __init__(self, signal: Signal, *, live: bool) -> None:
        self._reader = SignalReader(signal)
        self._live = live

    @property
    def live(self) -> bool:
        return self._live

    def start(self) -> None:
        """Nothing to connect."""

    async def wait(self, timeout: float) -> bool:
        return await self._reader.wait(timeout)

    async def close(self) -> None:
        """Nothing to release."""


class NoNews:
    """No announcements (an engine without them): every wait times out."""

    live = False

    def start(self) -> None:
        """Nothing to connect."""

    async def wait(self, timeout: float) -> bool:
        await asyncio.sleep(timeout)
        return False

    async def close(self) -> None:
        """Nothing to release."""


class Announcing(Protocol):
    """An event store that announces what it stores."""

    def news_source(self, *, shared: bool) -> EventNews:
        """A new reader of this store's news. `shared`: every writer of the store runs in
        this process over this very object (`odto up`), so in-process news is complete."""


def news_for(events: object, *, shared: bool) -> EventNews:
    """The news of `events` when its engine announces (PostgreSQL, SQLite), else `NoNews`."""
    # getattr, not isinstance: a traced store (core.tracing.ports) forwards attributes
    # through __getattr__, which runtime protocol checks no longer consult (3.12).
    source = getattr(events, "news_source", None)
    if source is None:
        return NoNews()
    return cast(Announcing, events).news_source(shared=shared)
