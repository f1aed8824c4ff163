"""The instants the system accepts: those with a UTC form between 1970 and 9999.

Every contract carries times as RFC 3339 with an offset, and every store keeps them in UTC.
An offset can push a time that Python parses (`0001-01-01T00:00:00+23:59`) outside the
range `datetime` has in UTC, and each engine fails differently on it; so the edge and the
stores hold all times to one range, checked here.
"""

from __future__ import annotations

from datetime import UTC, datetime

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
# The latest is `datetime`'s own limit: `astimezone` overflows past it.
RANGE_TEXT = "1970-01-01T00:00:00Z..9999-12-31T23:59:59.999999Z"


def as_utc(moment: datetime) -> datetime | None:
    """`moment` in UTC, or None when it has no UTC form within the range.

    A time without an offset is taken as UTC, as PostgreSQL takes it for timestamptz
    (SQLite would otherwise read it as the machine's local time)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        utc = moment.astimezone(UTC)
    except OverflowError:
        return None
    return utc if utc >= EARLIEST else None
