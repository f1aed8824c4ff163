"""The WHERE clause of a job search (`JobStore.page`), for PostgreSQL and SQLite.

Both engines select the same rows for the same `JobFilter` (the port suite holds it):

- id prefix: a range between the lowest and highest canonical id with that prefix, so
  the primary key answers it;
- times: `from` inclusive, `to` exclusive; SQLite keeps milliseconds as text, so its
  bounds are rounded up to the next millisecond, which selects what PostgreSQL selects;
- error: case-insensitive substring (PostgreSQL `ILIKE`, a trigram index when pg_trgm
  is there; SQLite a Python function with the same `lower()` rule);
- meta: `metadata ->> key = value` on both (SQLite through a Python function giving the
  same text form); PostgreSQL answers the first pair from `job_meta`, the pairs in that
  text form, kept in keyset order (migration jobs_0003), or with a final status asked for
  from `job_meta_final`, the pairs of jobs that reached one, under it (jobs_0006).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from observatory.core.clock import iso
from observatory.core.contracts.vocabulary import TERMINAL
from observatory.core.job_filter import id_range
from observatory.core.stores.cursor import decode_cursor
from observatory.core.stores.records import JobFilter
from observatory.core.stores.values import ms_text

FINAL_TABLE = "job_meta_final"  # metadata pairs of jobs with a final status (jobs_0006)


def like_pattern(text: str) -> str:
    """`%text%` with LIKE's own characters escaped (backslash is the escape)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class Where:
    """Clauses and their parameters, numbered for the engine's placeholders."""

    def __init__(self, mark: Callable[[int], str]) -> None:
        self.clauses: list[str] = []
        self.args: list[Any] = []
        # PostgreSQL: clauses on job_meta (`m`) that drive a metadata search, or (probe)
        # the metadata pairs checked on rows the other clauses selected
        self.meta: list[str] = []
        self.late: list[str] = []
        self.meta_table = "job_meta"  # or FINAL_TABLE: the pairs under a final status
        self._mark = mark

    def arg(self, value: Any) -> str:
        self.args.append(value)
        return self._mark(len(self.args))

    def add(self, clause: str) -> None:
        self.clauses.append(clause)

    def sql(self) -> str:
        every = self.meta + self.clauses + self.late
        return f"WHERE {' AND '.join(every)}" if every else ""

    def early_sql(self) -> str:
        """The WHERE clause without the late (metadata) clauses."""
        return f"WHERE {' AND '.join(self.clauses)}" if self.clauses else ""

    def late_sql(self) -> str:
        return f"WHERE {' AND '.join(self.late)}" if self.late else ""

    def meta_sql(self) -> str:
        """The WHERE clause on `job_meta` alone (the metadata pair that drives)."""
        return f"WHERE {' AND '.join(self.meta)}" if self.meta else ""

    def rows_sql(self) -> str:
        """The clauses on `jobs` alone, each after an AND (checked per row met)."""
        return "".join(f" AND {clause}" for clause in self.clauses)


def postgres_where(
    job_filter: JobFilter, cursor: str | None, *, probe: bool = False, ranged: bool = False
) -> Where:
    """Raises ValueError on a cursor the store did not make. With metadata pairs the
    first one is answered by `job_meta` (joined as `m`, see `PostgresJobStore.page`;
    `job_meta_final` with a final status, `Where.meta_table`),
    whose order and bounds repeat those on `jobs` so its index range is all that is read;
    the other pairs are checked on the row (`->>`). With `probe` every pair is a late
    clause, checked on the rows the others selected. With `ranged` (no metadata) only the
    update range and the cursor are clauses, every other filter a late one: checked on the
    rows of the update range (`PostgresJobStore._updated_page`)."""
    w = Where(lambda n: f"${n}")
    f = job_filter
    narrow = w.late.append if ranged else w.add
    if f.id_prefix:
        low, high = id_range(f.id_prefix)
        narrow(f"id BETWEEN {w.arg(low)}::uuid AND {w.arg(high)}::uuid")
    if f.status:
        narrow(f"status = {w.arg(f.status)}")
    if f.type:
        narrow(f"type = {w.arg(f.type)}")
    first, last = f.created_from, f.created_to
    for column, low_at, high_at, add in (
        ("created_at", first, last, narrow),
        ("updated_at", f.updated_from, f.updated_to, w.add),
    ):
        if low_at is not None:
            add(f"{column} >= {w.arg(low_at)}::timestamptz")
        if high_at is not None:
            add(f"{column} < {w.arg(high_at)}::timestamptz")
    if f.error:
        narrow(f"last_error ILIKE {w.arg(like_pattern(f.error))}")
    for key, value in f.meta if probe else f.meta[1:]:
        check = f"metadata ->> {w.arg(key)} = {w.arg(value)}"
        (w.late if probe else w.clauses).append(check)
    if f.meta and not probe:
        key, value = f.meta[0]
        w.meta.append(f"m.meta_key = {w.arg(key)} AND m.meta_value = {w.arg(value)}")
        if f.status in TERMINAL:  # the row's own status is checked too (a rerun's rows)
            w.meta_table = FINAL_TABLE
            w.meta.append(f"m.meta_status = {w.arg(f.status)}")
        if first is not None:
            w.meta.append(f"m.meta_created_at >= {w.arg(first)}::timestamptz")
        if last is not None:
            w.meta.append(f"m.meta_created_at < {w.arg(last)}::timestamptz")
    if cursor:
        created_at, job_id = decode_cursor(cursor)
        at, job = w.arg(created_at), w.arg(job_id)
        w.add(f"(created_at, id) < ({at}, {job}::uuid)")
        if f.meta and not probe:
            w.meta.append(f"(m.meta_created_at, m.meta_job_id) < ({at}, {job}::uuid)")
    return w


def meta_text(document: str | None, key: str) -> str | None:
    """SQLite function: the text form of `metadata[key]`, as PostgreSQL's `->>` gives it."""
    if document is None:
        return None
    try:
        value = json.loads(document).get(key)
    except (ValueError, AttributeError):
        return None
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def contains_folded(text: str | None, needle: str) -> bool:
    """SQLite function: `needle` in `text`, ignoring case (ILIKE's rule)."""
    return text is not None and needle.lower() in text.lower()


def sqlite_functions(conn: sqlite3.Connection) -> None:
    """Register what `sqlite_where` calls, on the connection that runs it."""
    conn.create_function("odto_meta_text", 2, meta_text, deterministic=True)
    conn.create_function("odto_contains", 2, contains_folded, deterministic=True)


def sqlite_where(job_filter: JobFilter, cursor: str | None) -> Where:
    """Raises ValueError on a cursor the store did not make."""
    w = Where(lambda _n: "?")
    f = job_filter
    if f.id_prefix:
        low, high = id_range(f.id_prefix)
        w.add(f"id BETWEEN {w.arg(low)} AND {w.arg(high)}")
    if f.status:
        w.add(f"status = {w.arg(f.status)}")
    if f.type:
        w.add(f"type = {w.arg(f.type)}")
    for column, first, last in (
        ("created_at", f.created_from, f.created_to),
        ("updated_at", f.updated_from, f.updated_to),
    ):
        if first is not None:
            w.add(f"{column} >= {w.arg(ms_text(first))}")
        if last is not None:
            w.add(f"{column} < {w.arg(ms_text(last))}")
    if f.error:
        w.add(f"odto_contains(last_error, {w.arg(f.error)})")
    for key, value in f.meta:
        w.add(f"odto_meta_text(metadata, {w.arg(key)}) = {w.arg(value)}")
    if cursor:
        created_at, job_id = decode_cursor(cursor)
        # the stored form: UTC text, milliseconds
        w.add(f"(created_at, id) < ({w.arg(iso(created_at))}, {w.arg(job_id)})")
    return w
