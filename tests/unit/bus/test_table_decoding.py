"""Field tables decoded on the short way answer exactly as pamqp's decoder, for a lone
traceparent and for every other table, well formed or not (table_decoding.py)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from pamqp import decode, encode
from pamqp.frame import unmarshal
from pamqp.header import ContentHeader

from observatory.core.bus import amqp_wire, frames
from observatory.core.bus.port import Outgoing
from observatory.core.bus.table_decoding import PAMQP_TABLE, text_table

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def outcome(decoder: Any, raw: bytes) -> tuple[str, Any]:
    """What `decoder` answers for `raw`: its result, or its error's type."""
    try:
        return "ok", decoder(raw)
    except Exception as exc:  # the error's kind is part of the answer
        return "error", type(exc)


def agree(raw: bytes) -> tuple[str, Any]:
    fast, slow = outcome(text_table, raw), outcome(PAMQP_TABLE, raw)
    assert fast == slow, raw
    return fast


def test_a_trace_context_reads_as_text() -> None:
    raw = encode.field_table({"traceparent": TRACEPARENT, "tracestate": "vendor=a,b=c"})
    assert agree(raw + b"rest") == (
        "ok",
        (len(raw), {"traceparent": TRACEPARENT, "tracestate": "vendor=a,b=c"}),
    )


@pytest.mark.parametrize(
    "table",
    [
        {},
        {"k": ""},
        {"ключ": "значение ✓", "": "empty key"},
        {"x-attempt": 3, "traceparent": TRACEPARENT},  # a number among text
        {"nested": {"traceparent": TRACEPARENT}},
        {"list": ["a", 1]},
        {"flag": True, "none": None},
        {"when": datetime(2026, 12, 5, tzinfo=UTC)},
        {"price": Decimal("1.25")},
        {"big": "v" * 70_000},
    ],
)
def test_any_table_reads_as_pamqp_reads_it(table: dict[str, Any]) -> None:
    agree(encode.field_table(table))


LONE = encode.field_table({"traceparent": TRACEPARENT})


@pytest.mark.parametrize(
    "raw",
    [
        LONE,
        LONE + b"\x00rest of the header",
        LONE[:-1],  # cut short by one byte
        LONE[:-20] + b"\xff" * 20,  # not UTF-8: pamqp answers with bytes
        LONE[:-20] + "é".encode() * 10,  # UTF-8, not ASCII
        LONE[:-55] + b"\x00" * 55,
    ],
    ids=["whole", "followed", "short", "not-utf8", "not-ascii", "zeros"],
)
def test_a_lone_traceparent_reads_as_pamqp_reads_it(raw: bytes) -> None:
    agree(raw)


def random_table(rng: random.Random) -> dict[str, Any]:
    values: list[Any] = [
        lambda: "".join(rng.choice("ab\u00e9\u4e2d-=,") for _ in range(rng.randrange(60))),
        lambda: rng.randrange(-(2**40), 2**40),
        lambda: rng.random() < 0.5,
        lambda: {"inner": "x"},
    ]
    if rng.random() < 0.3:  # the short way's table: a lone traceparent of 55 characters
        return {"traceparent": "".join(rng.choice("0123456789abcdef-\u00e9") for _ in range(55))}
    text_only = rng.random() < 0.7
    return {
        "".join(rng.choice("kéy_") for _ in range(rng.randrange(1, 12))): (
            values[0] if text_only else rng.choice(values)
        )()
        for _ in range(rng.randrange(4))
    }


def test_random_and_damaged_tables_read_as_pamqp_reads_them() -> None:
    """Tables of text and of anything else, then the same bytes cut short, with a byte
    changed, or with a length field lying: the same answer or the same kind of error."""
    rng = random.Random(20261205)
    answered = errors = 0
    for _ in range(3000):
        raw = encode.field_table(random_table(rng)) + bytes(rng.randrange(3))
        damaged = [raw, raw[: rng.randrange(len(raw) + 1)]]
        changed = bytearray(raw)
        changed[rng.randrange(len(changed))] = rng.randrange(256)
        damaged.append(bytes(changed))
        if len(raw) > 8:  # a value's length (or a key's) claiming more than there is
            lying = bytearray(raw)
            lying[rng.randrange(4, len(raw) - 4)] = 0xFF
            damaged.append(bytes(lying))
        for case in damaged:
            kind, _ = agree(case)
            answered += kind == "ok"
            errors += kind == "error"
    assert answered > 3000  # both kinds of answer were compared
    assert errors > 100


def test_the_bus_decodes_delivered_headers_on_the_short_way() -> None:
    """Importing the bus installs it: pamqp hands the content header's table to it, and a
    trace context written by our encoder comes back whole."""
    assert amqp_wire.WRITE_QUEUE_FRAMES  # imported above, as every bus process does
    assert decode.METHODS["table"] is text_table
    message = Outgoing("job.completed", b"{}", {"traceparent": TRACEPARENT}, "id-1")
    _, _, header = unmarshal(frames.header_frame(1, 2, message, "id-1"))
    assert isinstance(header, ContentHeader)
    assert header.properties.headers == {"traceparent": TRACEPARENT}
    assert header.properties.message_id == "id-1"
