"""Following the read model's /stream broadcaster in-process: a spy on its event news,
and one subscriber's messages, parsed, as they come."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson

from observatory.core.stores.news import EventNews
from observatory.services.read_model.stream import Broadcaster
from tests.waiting import wait_until_async

DEADLINE = 10.0


class Spy:
    """News that records what each wait answered."""

    def __init__(self, news: EventNews) -> None:
        self.news = news
        self.answers: list[bool] = []
        self.waits = 0

    @property
    def live(self) -> bool:
        return self.news.live

    def start(self) -> None:
        self.news.start()

    async def wait(self, timeout: float) -> bool:
        self.waits += 1
        answer = await self.news.wait(timeout)
        self.answers.append(answer)
        return answer

    async def close(self) -> None:
        await self.news.close()


@contextlib.asynccontextmanager
async def listening(b: Broadcaster, spy: Spy) -> AsyncIterator[asyncio.Queue[tuple[str, Any]]]:
    """The messages of one subscriber, parsed, as they come; entered once the
    broadcaster read what was stored before (it waits for news then)."""
    messages: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()

    async def read() -> None:
        async for chunk in b.subscribe():
            if chunk.startswith(b"event: "):
                head, data = chunk.split(b"\n", 2)[:2]
                await messages.put((head[7:].decode(), orjson.loads(data[6:])))

    task = asyncio.create_task(read())
    try:
        await next_of(messages, "stats")
        await wait_until_async(lambda: spy.waits, DEADLINE, message="the first read")
        yield messages
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await b.close()


async def next_of(messages: asyncio.Queue[tuple[str, Any]], kind: str) -> Any:
    async with asyncio.timeout(DEADLINE):
        while True:
            got, data = await messages.get()
            if got == kind:
                return data
