"""Field tables of text, decoded on a short way.

aiormq reads every delivery's content header with pamqp, whose field-table decoder is
general Python: a dispatch, two slices and a struct call for every entry. Our headers
are nearly always text only (a trace context: `traceparent`, `tracestate`), and with
tracing on every message carries them, so each delivery paid ~1.4 µs for its table
(`python -m benchmarks.header_cost`). `text_table` reads a table whose every value is a
long string of UTF-8 text in one pass; any other table (numbers, nested tables, bytes,
anything malformed) goes to pamqp's own decoder, so the answer, or the error, is always
pamqp's. `install()` puts it in pamqp's decoder table for the process (the bus does at
import, as amqp_wire.py sets aiormq's frame buffer).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pamqp import decode

_LONG_STRING = 0x53  # "S"

Decoder = Callable[[bytes], tuple[int, Any]]
PAMQP_TABLE: Decoder = decode.METHODS["table"]
"""pamqp's own field-table decoder: what every table not of text alone goes to."""


_LONE_TRACEPARENT = b"\x00\x00\x00\x48\x0btraceparentS\x00\x00\x00\x37"
"""A table of one W3C `traceparent` (55 characters) up to its value: most tables."""
_LONE_END = len(_LONE_TRACEPARENT) + 55


def text_table(value: bytes) -> tuple[int, Any]:
    """(bytes consumed, the table) of the field table at the start of `value`, as pamqp's
    decoder answers it."""
    if value.startswith(_LONE_TRACEPARENT) and len(value) >= _LONE_END:
        parent = value[len(_LONE_TRACEPARENT) : _LONE_END]
        if parent.isascii():
            return _LONE_END, {"traceparent": parent.decode("ascii")}
    size = len(value)
    if size < 4:
        return PAMQP_TABLE(value)
    end = 4 + int.from_bytes(value[:4], "big")
    if end > size:
        return PAMQP_TABLE(value)
    table: dict[str, str] = {}
    offset = 4
    try:
        while offset < end:
            key_end = offset + 1 + value[offset]
            value_start = key_end + 5
            if value_start > end or value[key_end] != _LONG_STRING:
                return PAMQP_TABLE(value)
            # a value running past the table's end is read as pamqp reads it: to its
            # length, or to the end of `value`, and the table ends there
            value_end = value_start + int.from_bytes(value[key_end + 1 : value_start], "big")
            key = value[offset + 1 : key_end].decode("utf-8")
            table[key] = value[value_start:value_end].decode("utf-8")
            offset = value_end
    except UnicodeDecodeError:  # pamqp answers these its own way (bytes, or an error)
        return PAMQP_TABLE(value)
    return end, table


def install() -> None:
    """Decode field tables with `text_table` in this process (idempotent)."""
    decode.METHODS["table"] = text_table
