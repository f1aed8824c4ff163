"""`GET /jobs` search: which query parameters are filters, and what they mean."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from observatory.core.contracts.validator import Violation
from observatory.core.errors import InvalidMessage

PAGING = frozenset({"limit", "cursor"})

SEARCH_HELP = """Every filter is optional; they combine (AND). `idPrefix`: the start of the
job id (hex digits and hyphens). `type`, `status`: exact. `from`/`to`: createdAt ≥ from,
< to (RFC 3339); `updatedFrom`/`updatedTo` likewise on updatedAt. `error`: a
case-insensitive substring of the last error. `meta.<key>=<value>` (up to 5): the job's
metadata[key], in its text form, equals value. Pages come newest first; pass `nextCursor`
back as `cursor`. A malformed filter is 400 with `details: [{path, message}]` naming it."""


FILTERS = (
    ("idPrefix", "Start of the job id"),
    ("type", "Job type, exact"),
    ("status", "Job status, exact"),
    ("from", "createdAt ≥ (RFC 3339)"),
    ("to", "createdAt < (RFC 3339)"),
    ("updatedFrom", "updatedAt ≥ (RFC 3339)"),
    ("updatedTo", "updatedAt < (RFC 3339)"),
    ("error", "Substring of the last error"),
)


def filter_parameters() -> dict[str, Any]:
    """The filters as the OpenAPI page lists them (a route's `openapi_extra`). They are not
    parameters of the route's function: `parse_filter` reads and checks them from the
    query as a whole, and FastAPI validating eight optional strings first cost about
    0.4 ms of CPU a request (benchmarks/README.md, read model at 1,000,000 jobs)."""
    return {
        "parameters": [
            {
                "name": name,
                "in": "query",
                "required": False,
                "description": description,
                "schema": {"type": "string"},
            }
            for name, description in FILTERS
        ]
    }


def search_params(pairs: Iterable[tuple[str, str]]) -> dict[str, str]:
    """The filter parameters of a query (paging left out); a filter given twice is 400,
    as its meaning would be a guess."""
    found: dict[str, str] = {}
    twice: list[Violation] = []
    for name, value in pairs:
        if name in PAGING:
            continue
        if name in found:
            twice.append(Violation(f"$.{name}", "given more than once"))
        found[name] = value
    if twice:
        raise InvalidMessage("Invalid filter", twice)
    return found
