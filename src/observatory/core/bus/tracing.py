"""The bus's tracing hooks: what an adapter calls when tracing is on, and the helpers a
consumer uses to join a message's trace.

A bus holds a `BusTracer` or None. None (tracing off, the default) costs an adapter one
attribute check per publish or batch and imports nothing of OpenTelemetry; the
implementation is `observatory.core.tracing.bus`, loaded only when tracing is asked for.

With a tracer, every publish carries the W3C `traceparent`/`tracestate` of a publish span
in its headers (a message that already carries a `traceparent`, such as a dead letter
that keeps its original's, keeps it), and every batch a consumer handles runs in a
process span linked to each message's producer. During a batch, `message_span` opens the
span of one message's work as a child of that message's producer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from contextvars import ContextVar
from typing import Any, Protocol, TypeVar

from observatory.core.bus.port import BatchHandler, Bus, Delivery, Outgoing

T = TypeVar("T")

TRACE_HEADERS = ("traceparent", "tracestate")
"""The W3C trace-context headers a message carries."""

Attributes = Mapping[str, str | int | float | bool]

JOB_ID = "observatory.job.id"
ATTEMPT = "observatory.job.attempt"
CORRELATION_ID = "messaging.message.conversation_id"  # the conventions' "correlation id"


def job_attributes(job_id: str, attempt: int, correlation_id: str | None) -> dict[str, str | int]:
    """The attributes of a job's span: its id, attempt and correlation id."""
    found: dict[str, str | int] = {JOB_ID: job_id, ATTEMPT: attempt}
    if correlation_id:
        found[CORRELATION_ID] = correlation_id
    return found


class BusTracer(Protocol):
    """Traces the publishes and batches of one bus adapter."""

    def publishing(
        self, destination: str, messages: Sequence[Outgoing]
    ) -> AbstractContextManager[Sequence[Outgoing]]:
        """A publish span around sending `messages` to `destination`; yields the messages
        with trace-context headers added (those that carry one keep theirs)."""

    def scheduling(
        self, queue: str, headers: Mapping[str, Any]
    ) -> AbstractContextManager[Mapping[str, Any]]:
        """A publish span around a delayed delivery to `queue`; yields its headers with the
        trace context added (unless they carry one)."""

    def consuming(self, queue: str, handler: BatchHandler) -> BatchHandler:
        """`handler` with each batch run in a process span linked to every message's
        producer (a batch of one trace's messages is also the first one's producer's child)."""

    def message(
        self, delivery: Delivery, *, message_id: str | None, attributes: Attributes
    ) -> AbstractContextManager[None]:
        """A span for the work of one delivery, child of its producer, linked to its batch."""


ACTIVE: ContextVar[BusTracer | None] = ContextVar("observatory_bus_tracer", default=None)
"""The tracer of the batch being handled (set by `consuming`; tasks inherit it)."""


def message_span(
    delivery: Delivery, *, message_id: str | None = None, attributes: Attributes | None = None
) -> AbstractContextManager[None]:
    """The span of one delivery's work (message id = the event's id, attributes such as
    the job id, attempt and correlation id), or nothing when tracing is off: what is
    published inside it joins the delivery's trace."""
    tracer = ACTIVE.get()
    if tracer is None:
        return nullcontext()
    return tracer.message(delivery, message_id=message_id, attributes=attributes or {})


def trace_headers(headers: Mapping[str, Any]) -> dict[str, Any]:
    """The trace-context headers of `headers`, to carry a message's trace on to another
    message (a dead letter, a retry)."""
    return {name: headers[name] for name in TRACE_HEADERS if name in headers}


async def within(delivery: Delivery, work: Awaitable[T]) -> T:
    """Await `work` in `delivery`'s own message span (nothing more when tracing is off):
    what it publishes (a dead letter, a delayed re-check) joins that message's trace."""
    with message_span(delivery):
        return await work


async def publish_each(bus: Bus, letters: Sequence[tuple[Delivery, Outgoing]]) -> None:
    """Publish messages about deliveries of one batch (dead letters): in one confirmed
    round when tracing is off; traced, each in the span of the delivery it is about,
    concurrently, so a dead letter from a batch of many stays in its message's trace."""
    if ACTIVE.get() is None or len(letters) == 1:
        if len(letters) == 1:
            delivery, letter = letters[0]
            await within(delivery, bus.publish_many([letter]))
        else:
            await bus.publish_many([letter for _, letter in letters])
        return
    await asyncio.gather(*(within(d, bus.publish_many([letter])) for d, letter in letters))
