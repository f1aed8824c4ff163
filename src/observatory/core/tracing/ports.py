"""Store ports with a span around each call made inside a trace (tracing on only).

`traced_port(port, "job_store")` wraps every coroutine method of a job store, counter
store or event store in a span named `job_store.begin`, `counters.apply`,
`event_store.insert`, ... with the `db.system` of its engine. The composition root
(core.backends.Adapters) wraps its ports only when tracing is on, so tracing off costs
nothing here. A call made outside any trace (a readiness ping, a background writer with
no request behind it) opens no span (spans.span records children only).

Imports nothing of OpenTelemetry.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

from observatory.core.tracing.spans import span

T = TypeVar("T")

UNTRACED = frozenset({"open", "close", "ping"})
"""Calls about the connection, not the data."""


class _Traced:
    def __init__(self, port: object, name: str, system: str) -> None:
        self._port = port
        self._name = name
        self._system = system

    def __getattr__(self, attribute: str) -> Any:
        value = getattr(self._port, attribute)
        if attribute in UNTRACED or not inspect.iscoroutinefunction(value):
            return value
        traced = self._wrap(attribute, value)
        setattr(self, attribute, traced)  # made once per method
        return traced

    def _wrap(
        self, method: str, call: Callable[..., Awaitable[Any]]
    ) -> Callable[..., Awaitable[Any]]:
        name = f"{self._name}.{method}"
        attributes = {"db.system": self._system, "db.operation": method}

        @functools.wraps(call)
        async def traced(*args: Any, **kwargs: Any) -> Any:
            with span(name, attributes):
                return await call(*args, **kwargs)

        return traced


def traced_port(port: T, name: str) -> T:
    """`port` with its coroutine methods traced (see module docstring); the same
    methods, so it stands in for the port anywhere."""
    system = type(port).__name__.lower()
    for engine in ("postgres", "sqlite", "mongo", "redis", "embedded", "memory"):
        if engine in system:
            system = engine
            break
    return cast(T, _Traced(port, name, system))
