"""Dead-letter filters from a query string (GET /dead-letters) or a request body
(POST /dead-letters/replay), checked the same way: a bad field is InvalidMessage naming
it (400 at the edge)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from observatory.core.bus.topology import ALL_QUEUES
from observatory.core.clock import parse_iso
from observatory.core.contracts.times import RANGE_TEXT, as_utc
from observatory.core.contracts.validator import Violation
from observatory.core.errors import InvalidMessage
from observatory.core.stores.records import DEAD_LETTER_STATES, DeadLetterQuery

MAX_REASON = 500


def dead_letter_query(fields: dict[str, Any], *, prefix: str = "$") -> DeadLetterQuery:
    """`fields` may hold state, reason, queue, from, to (strings); others are refused."""
    problems: list[Violation] = []
    for name in sorted(set(fields) - {"state", "reason", "queue", "from", "to"}):
        problems.append(Violation(f"{prefix}.{name}", "is not a dead-letter filter"))
    values: dict[str, Any] = {}
    for name, value in fields.items():
        if value is not None and not isinstance(value, str):
            problems.append(Violation(f"{prefix}.{name}", "must be a string"))
        elif value:
            values[name] = value
    state, queue, reason = values.get("state"), values.get("queue"), values.get("reason")
    if state is not None and state not in DEAD_LETTER_STATES:
        problems.append(
            Violation(f"{prefix}.state", f"must be one of {', '.join(DEAD_LETTER_STATES)}")
        )
    if queue is not None and queue not in ALL_QUEUES:
        problems.append(Violation(f"{prefix}.queue", f"must be one of {', '.join(ALL_QUEUES)}"))
    if reason is not None and len(reason) > MAX_REASON:
        problems.append(Violation(f"{prefix}.reason", f"longer than {MAX_REASON} characters"))
    since = _moment(values.get("from"), f"{prefix}.from", problems)
    until = _moment(values.get("to"), f"{prefix}.to", problems)
    if problems:
        raise InvalidMessage("Invalid filter", problems)
    return DeadLetterQuery(state=state, reason=reason, queue=queue, since=since, until=until)


def _moment(text: str | None, path: str, problems: list[Violation]) -> datetime | None:
    if text is None:
        return None
    try:
        moment = as_utc(parse_iso(text))
    except (ValueError, OverflowError):
        moment = None
    if moment is None:
        problems.append(Violation(path, f"must be an RFC 3339 time within {RANGE_TEXT}"))
    return moment
