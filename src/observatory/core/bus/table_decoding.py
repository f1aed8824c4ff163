"""A lone trace context's field table, decoded on a short way.

aiormq reads every delivery's content header with pamqp, whose field-table decoder is
general Python: a dispatch, two slices and a struct call for every entry. With tracing
on nearly every message carries one header, its W3C `traceparent`, so each delivery paid
~1.2 µs for that table (`python -m benchmarks.header_cost`). `text_table` reads such a
table from the prefix our publishers write (frames.TRACEPARENT_TABLE) in one step; any
other table (a `tracestate` too, numbers, nested tables, anything malformed) goes to
pamqp's own decoder, so the answer, or the error, is always pamqp's. `install()` puts it
in pamqp's decoder table for the process (the bus does at import, as amqp_wire.py sets
aiormq's frame buffer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pamqp import decode

from observatory.core.bus.frames import TRACEPARENT_LENGTH, TRACEPARENT_TABLE

Decoder = Callable[[bytes], tuple[int, Any]]
PAMQP_TABLE: Decoder = decode.METHODS["table"]
"""pamqp's own field-table decoder: what every other table goes to."""

_LONE_END = len(TRACEPARENT_TABLE) + TRACEPARENT_LENGTH


def text_table(value: bytes) -> tuple[int, Any]:
    """(bytes consumed, the table) of the field table at the start of `value`, as pamqp's
    decoder answers it."""
    if value.startswith(TRACEPARENT_TABLE) and len(value) >= _LONE_END:
        parent = value[len(TRACEPARENT_TABLE) : _LONE_END]
        if parent.isascii():  # pamqp would answer other bytes its own way
            return _LONE_END, {"traceparent": parent.decode("ascii")}
    return PAMQP_TABLE(value)


def install() -> None:
    """Decode field tables with `text_table` in this process (idempotent)."""
    decode.METHODS["table"] = text_table
