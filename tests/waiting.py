"""The one way tests wait: poll a condition until it holds or a deadline passes.

Tests never sleep a fixed time to let something happen. `wait_until` blocks the calling
thread (for tests that poll a subprocess or an HTTP service); `wait_until_async` yields to
the event loop between checks (for tests whose condition is advanced by tasks on that
loop, or by a Textual Pilot when `pause=pilot.pause`). Both return the first truthy value
of the predicate and fail the test with `message` when the deadline passes.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar, overload

T = TypeVar("T")
Falsy = None | Literal[False]  # what a predicate returns while the condition does not hold

SYNC_INTERVAL = 0.1  # pause between checks that cross a process or the network
ASYNC_INTERVAL = 0.02  # pause between checks of in-process state on the event loop


def wait_until(
    predicate: Callable[[], T | Falsy],
    timeout: float = 20,
    interval: float = SYNC_INTERVAL,
    message: str = "condition",
) -> T:
    """Call `predicate` until it returns something truthy and return that value; raise
    AssertionError after `timeout` seconds, naming `message` and the last value seen."""
    deadline = time.monotonic() + timeout
    last: T | Falsy = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {message}; last value: {last!r}")


@overload
async def wait_until_async(
    predicate: Callable[[], Awaitable[T | Falsy]],
    timeout: float = ...,
    interval: float = ...,
    message: str = ...,
    *,
    pause: Callable[[float], Awaitable[object]] = ...,
) -> T: ...


@overload
async def wait_until_async(
    predicate: Callable[[], T | Falsy],
    timeout: float = ...,
    interval: float = ...,
    message: str = ...,
    *,
    pause: Callable[[float], Awaitable[object]] = ...,
) -> T: ...


async def wait_until_async(
    predicate: Callable[[], Any],
    timeout: float = 20,
    interval: float = ASYNC_INTERVAL,
    message: str = "condition",
    *,
    pause: Callable[[float], Awaitable[object]] = asyncio.sleep,
) -> Any:
    """Like `wait_until`, but `predicate` may be async and the loop runs between checks:
    `pause(interval)` is awaited after each falsy result (`asyncio.sleep` by default)."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        result = predicate()
        last = await result if inspect.isawaitable(result) else result
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout}s waiting for {message}; last value: {last!r}"
            )
        await pause(interval)
