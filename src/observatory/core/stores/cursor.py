"""Opaque keyset cursors: (created_at, id) of the last row of a page."""

from __future__ import annotations

import base64
import uuid

from observatory.core.clock import parse_iso


def encode_cursor(created_at: str, job_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at}|{job_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """Raises ValueError for anything that is not a cursor we made.

    Both halves are checked: SQLite would otherwise compare a garbled time as text and
    answer a wrong page, and PostgreSQL would fail on a garbled id as a database error.
    """
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, job_id = raw.split("|", 1)
        parse_iso(created_at)
        uuid.UUID(job_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("invalid cursor") from exc
    return created_at, job_id
