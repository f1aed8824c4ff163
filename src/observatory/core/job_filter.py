"""Job search filters from what a request carries, checked once for every edge.

The read model's `GET /jobs` query and the gateway's `POST /jobs/retry` body both end
here; a malformed value is an `InvalidMessage` whose violations name each field, which
the HTTP edges answer with 400 (never a database error, never 500).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

from observatory.core.clock import parse_iso
from observatory.core.contracts.job_request import JOB_TYPE
from observatory.core.contracts.times import RANGE_TEXT, as_utc
from observatory.core.contracts.validator import Violation
from observatory.core.contracts.vocabulary import JobStatus
from observatory.core.errors import InvalidMessage
from observatory.core.stores.records import JobFilter

UUID_SHAPE = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
HEX = frozenset("0123456789abcdef")
MAX_META_PAIRS = 5
MAX_META_KEY = 64
MAX_META_VALUE = 200
MAX_ERROR_TEXT = 200
META_PREFIX = "meta."
# Keys land in a SQLite JSON path between double quotes: those two characters (and
# control characters) can never be part of one.
META_KEY = re.compile(r'^[^"\\\x00-\x1f]+$')


def id_prefix_problem(prefix: str) -> str | None:
    """Why `prefix` cannot start a canonical id, or None when it can."""
    if len(prefix) > len(UUID_SHAPE):
        return f"must be at most {len(UUID_SHAPE)} characters"
    for char, shape in zip(prefix.lower(), UUID_SHAPE, strict=False):
        if (shape == "-" and char != "-") or (shape == "x" and char not in HEX):
            return "must be the start of a UUID: hex digits, hyphens after 8, 13, 18, 23"
    return None


def id_range(prefix: str) -> tuple[str, str]:
    """The lowest and highest canonical id that start with `prefix` (checked before)."""
    prefix = prefix.lower()
    low = prefix + "".join("-" if c == "-" else "0" for c in UUID_SHAPE[len(prefix) :])
    high = prefix + "".join("-" if c == "-" else "f" for c in UUID_SHAPE[len(prefix) :])
    return low, high


def _time(value: str, field: str, problems: list[Violation]) -> datetime | None:
    try:
        parsed = parse_iso(value)
    except ValueError:
        problems.append(Violation(f"$.{field}", "must be an RFC 3339 date-time"))
        return None
    utc = as_utc(parsed)
    if utc is None:
        problems.append(Violation(f"$.{field}", f"must have a UTC form in {RANGE_TEXT}"))
    return utc


def _order(
    first: datetime | None, last: datetime | None, names: tuple[str, str]
) -> list[Violation]:
    if first is not None and last is not None and first > last:
        return [Violation(f"$.{names[0]}", f"must not be after {names[1]}")]
    return []


def parse_filter(params: Mapping[str, str], *, allowed: frozenset[str] | None = None) -> JobFilter:
    """A JobFilter from request fields (`idPrefix, type, status, from, to, updatedFrom,
    updatedTo, error, meta.<key>`); `allowed` limits the names a route takes. Unknown
    names are refused too, so a misspelt filter never silently matches everything."""
    problems: list[Violation] = []
    meta: list[tuple[str, str]] = []
    plain: dict[str, str] = {}
    for name, value in params.items():
        if name.startswith(META_PREFIX) and (allowed is None or "meta" in allowed):
            key = name[len(META_PREFIX) :]
            if not key or len(key) > MAX_META_KEY or not META_KEY.match(key):
                problems.append(
                    Violation(
                        f"$.{name}", f"meta key must be 1-{MAX_META_KEY} characters, no quotes"
                    )
                )
            elif len(value) > MAX_META_VALUE:
                problems.append(Violation(f"$.{name}", f"at most {MAX_META_VALUE} characters"))
            else:
                meta.append((key, value))
        elif name in FIELDS and (allowed is None or name in allowed):
            plain[name] = value
        else:
            problems.append(Violation(f"$.{name}", "is not a filter"))
    if len(meta) > MAX_META_PAIRS:
        problems.append(Violation("$.meta", f"at most {MAX_META_PAIRS} meta.<key> filters"))

    prefix = plain.get("idPrefix") or None
    if prefix is not None and (why := id_prefix_problem(prefix)):
        problems.append(Violation("$.idPrefix", why))
    status = plain.get("status") or None
    if status is not None and status not in tuple(JobStatus):
        problems.append(Violation("$.status", f"must be one of {', '.join(JobStatus)}"))
    job_type = plain.get("type") or None
    if job_type is not None and not JOB_TYPE.match(job_type):
        problems.append(Violation("$.type", f"must match {JOB_TYPE.pattern}"))
    error = plain.get("error") or None
    if error is not None and (len(error) > MAX_ERROR_TEXT or "\x00" in error):
        problems.append(Violation("$.error", f"at most {MAX_ERROR_TEXT} characters, no NUL"))
    times = {
        name: _time(plain[name], name, problems) if plain.get(name) else None
        for name in ("from", "to", "updatedFrom", "updatedTo")
    }
    problems += _order(times["from"], times["to"], ("from", "to"))
    problems += _order(times["updatedFrom"], times["updatedTo"], ("updatedFrom", "updatedTo"))
    if problems:
        raise InvalidMessage("Invalid filter", problems)
    return JobFilter(
        id_prefix=prefix.lower() if prefix else None,
        type=job_type,
        status=status,
        created_from=times["from"],
        created_to=times["to"],
        updated_from=times["updatedFrom"],
        updated_to=times["updatedTo"],
        error=error,
        meta=tuple(meta),
    )


FIELDS = frozenset(
    {"idPrefix", "type", "status", "from", "to", "updatedFrom", "updatedTo", "error"}
)
