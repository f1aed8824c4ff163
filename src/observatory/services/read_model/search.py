"""`GET /jobs` search: which query parameters are filters, and what they mean."""

from __future__ import annotations

from collections.abc import Iterable

from observatory.core.contracts.validator import Violation
from observatory.core.errors import InvalidMessage

PAGING = frozenset({"limit", "cursor"})

SEARCH_HELP = """Every filter is optional; they combine (AND). `idPrefix`: the start of the
job id (hex digits and hyphens). `type`, `status`: exact. `from`/`to`: createdAt ≥ from,
< to (RFC 3339); `updatedFrom`/`updatedTo` likewise on updatedAt. `error`: a
case-insensitive substring of the last error. `meta.<key>=<value>` (up to 5): the job's
metadata[key], in its text form, equals value. Pages come newest first; pass `nextCursor`
back as `cursor`. A malformed filter is 400 with `details: [{path, message}]` naming it."""


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
