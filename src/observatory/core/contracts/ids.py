"""Job, event and correlation ids as they enter from outside: one canonical spelling.

A UUID may arrive in any of the spellings RFC 4122 and Python's `uuid.UUID` use for it:
upper or lower case, with or without hyphens, in braces `{...}`, or as `urn:uuid:...`.
Every store and every comparison uses the lower-case hyphenated form, so each edge turns
an incoming id into that form first (README, "HTTP API in brief"); what is not a UUID is no id
of ours. Where only the hyphenated spelling is taken (the schemas' `uuid` format, the
X-Correlation-Id header), `is_hyphenated_uuid` is the same rule narrowed to it.

`uuid.UUID()` alone is not the test: it parses with `int(..., 16)`, which also takes "+",
"_", surrounding blanks and non-ASCII digits, and it drops hyphens wherever they stand.
"""

from __future__ import annotations

import re
import uuid

_SPELLINGS = re.compile(
    r"(?:urn:uuid:)?"
    r"(?P<open>\{)?"
    r"(?P<hex>[0-9a-f]{8}(?P<dash>-?)[0-9a-f]{4}(?P=dash)[0-9a-f]{4}(?P=dash)[0-9a-f]{4}"
    r"(?P=dash)[0-9a-f]{12})"
    r"(?(open)\})",
    re.ASCII | re.IGNORECASE,
)
_CANONICAL = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.ASCII
)  # what every id of ours already is: answered as it is, without building a UUID
# The longest spelling, `urn:uuid:{...}`: anything longer is refused before the regex.
LONGEST = len("urn:uuid:{}") + 36
HYPHENATED = 36


def canonical_uuid(text: object) -> str | None:
    """`text` as a lower-case hyphenated UUID, or None when it is not a UUID spelling."""
    if not isinstance(text, str) or len(text) > LONGEST:
        return None
    if len(text) == HYPHENATED and _CANONICAL.fullmatch(text) is not None:
        return text
    match = _SPELLINGS.fullmatch(text)
    if match is None:
        return None
    return str(uuid.UUID(hex=match["hex"].replace("-", "")))


def is_hyphenated_uuid(text: str) -> bool:
    """True for the 36-character hyphenated spelling of a UUID, in any case."""
    return len(text) == HYPHENATED and _SPELLINGS.fullmatch(text) is not None
