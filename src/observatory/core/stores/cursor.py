"""Opaque keyset cursors: (created_at, id) of the last row of a page."""

from __future__ import annotations

import base64
from datetime import datetime

from observatory.core.clock import parse_iso
from observatory.core.contracts.ids import canonical_uuid
from observatory.core.contracts.times import as_utc


def encode_cursor(created_at: str, job_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at}|{job_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """The (created_at in UTC, canonical job id) a cursor holds.

    Raises ValueError for anything that is not a cursor we made, the same on every engine:
    SQLite would otherwise compare a garbled time as text and answer a wrong page, and
    PostgreSQL would fail on a garbled id, or on a time beyond its range, as a database
    error. Times must have an offset and a UTC form within 1970-9999, as stored times do.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_text, id_text = raw.split("|", 1)
        created = parse_iso(created_text)
    except ValueError as exc:  # binascii.Error and UnicodeDecodeError are ValueErrors
        raise ValueError("invalid cursor") from exc
    created_at = as_utc(created) if created.tzinfo is not None else None
    job_id = canonical_uuid(id_text)
    if created_at is None or job_id is None:
        raise ValueError("invalid cursor")
    return created_at, job_id
