"""The values every store adapter accepts, checked the same way before any write.

Each engine refuses different things on its own (PostgreSQL: a non-UUID in a uuid column,
NUL in text or jsonb, an int beyond int32; SQLite: almost nothing; MongoDB: ints beyond
64 bits), so the SQL adapters and the MongoDB one run these checks first: a value one
engine would refuse is refused by all of them, as `InvalidMessage` naming the field,
before anything is written (README, "When things go wrong"). Engine refusals that still
get through are mapped by each adapter's error guard to the same class.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import orjson

from observatory.core.clock import iso
from observatory.core.contracts.ids import canonical_uuid
from observatory.core.contracts.times import RANGE_TEXT, as_utc
from observatory.core.errors import InvalidMessage

INT32 = range(-(2**31), 2**31)
# A JSON `\u0000` escape: one preceded by an even number of backslashes (an odd number
# would make it the text "\u0000" after an escaped backslash).
_NUL_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u0000")


def refused(field: str, problem: str) -> InvalidMessage:
    return InvalidMessage(f"{field} {problem}")


def uuid_value(value: object, field: str) -> str:
    """The canonical form of a UUID; anything else is refused (a uuid column would)."""
    canonical = canonical_uuid(value)
    if canonical is None:
        raise refused(field, "is not a UUID")
    return canonical


def time_value(moment: object, field: str) -> datetime:
    """The time in UTC, refused outside 1970-9999 UTC (one answer on every engine)."""
    utc = as_utc(moment) if isinstance(moment, datetime) else None
    if utc is None:
        raise refused(field, f"is not a time within {RANGE_TEXT}")
    return utc


def int32_value(value: object, field: str) -> int:
    """An integer column's value (PostgreSQL `integer`; SQLite holds the same range)."""
    if not isinstance(value, int) or isinstance(value, bool) or value not in INT32:
        raise refused(field, "is not a 32-bit integer")
    return value


def text_value(value: object, field: str) -> str:
    """A text column's value: PostgreSQL text holds neither NUL nor lone surrogates."""
    if not isinstance(value, str):
        raise refused(field, "is not text")
    if "\x00" in value:
        raise refused(field, "contains a NUL character")
    if not value.isascii():
        try:
            value.encode()
        except UnicodeEncodeError as exc:
            raise refused(field, "is not valid UTF-8 text") from exc
    return value


def optional_text(value: object, field: str) -> str | None:
    return None if value is None else text_value(value, field)


def json_text(value: Any, field: str, *, nul: bool) -> str:
    """`value` as JSON text, or refused: orjson, the codec of every service and of the
    PostgreSQL adapters, refuses ints beyond 64 bits, lone surrogates and nesting past
    255. `nul=False` also refuses NUL anywhere in it, as PostgreSQL jsonb does."""
    try:
        text = orjson.dumps(value).decode()
    except orjson.JSONEncodeError as exc:
        raise refused(field, f"is not storable JSON ({exc})") from exc
    if not nul and "\\u0000" in text and _NUL_ESCAPE.search(text):
        raise refused(field, "contains a NUL character")
    return text


def ms_text(moment: datetime) -> str:
    """The stored text (RFC 3339 UTC, milliseconds) of the first millisecond at or after
    `moment`: as a bound on millisecond text it selects what PostgreSQL's microseconds do
    (`>=` and `<` alike)."""
    if moment.microsecond % 1000:
        moment += timedelta(microseconds=1000 - moment.microsecond % 1000)
    return iso(moment)
