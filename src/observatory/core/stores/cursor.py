"""Opaque keyset cursors: (created_at, id) of the last row of a page."""

from __future__ import annotations

import base64


def encode_cursor(created_at: str, job_id: str) -> str:
    return base64.urlsafe_b64encode(f"{created_at}|{job_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, str]:
    """Raises ValueError for anything that is not a cursor we made."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        created_at, job_id = raw.split("|", 1)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValueError("invalid cursor") from exc
    if not created_at or not job_id:
        raise ValueError("invalid cursor")
    return created_at, job_id
