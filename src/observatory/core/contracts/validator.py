"""The one validator: JSON Schema with formats (uuid, date-time) enforced everywhere.

Valid documents take a compiled fast path (fastjsonschema); a document that fails is
re-checked by `jsonschema` to list every violation with its path, so callers can show
them (explain.py, imported on the first invalid document: `jsonschema` and what it
brings weigh about 10 MB, which a process that only sees valid documents never pays).
Both paths use the same format functions, so they never disagree.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import fastjsonschema

from observatory.core.contracts.ids import is_hyphenated_uuid

SCHEMA_NAMES = ("event-envelope", "job", "job-accepted", "dead-letter", "ui-registry")

_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})\Z", re.ASCII
)
# JSON Schema patterns are ECMA 262: `$` ends the string. Python's `$` also matches before a
# final newline, so both validators rewrite an unescaped `$` to `\Z` (fastjsonschema does it
# itself; explain.py does it for jsonschema), otherwise "abc\n" would split them.
DOLLAR = re.compile(r"(?<!\\)\$")


def is_uuid(value: object) -> bool:
    """True for a hyphenated UUID string, in any case (ids.py holds the rule)."""
    if not isinstance(value, str):
        return True  # the schema's "type" keyword reports non-strings
    return is_hyphenated_uuid(value)


def is_datetime(value: object) -> bool:
    """True for an RFC 3339 date-time with a time zone."""
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


FORMATS: dict[str, Callable[[object], bool]] = {"uuid": is_uuid, "date-time": is_datetime}


@dataclass(frozen=True, slots=True)
class Violation:
    """One way a document breaks its schema: where (`$.a.b`) and what."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The packaged schema called `name` (see SCHEMA_NAMES)."""
    if name not in SCHEMA_NAMES:
        raise KeyError(f"unknown schema {name!r}")
    text = resources.files(__package__).joinpath("schemas", f"{name}.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _fast(name: str) -> Callable[[Any], Any]:
    schema = {k: v for k, v in load_schema(name).items() if k != "$version"}
    compiled: Callable[[Any], Any] = fastjsonschema.compile(schema, formats=FORMATS)
    return compiled


def validate(name: str, document: Any, *, prefix: str = "$") -> list[Violation]:
    """Every violation of schema `name` by `document`; empty when it is valid."""
    try:
        _fast(name)(document)
    except fastjsonschema.JsonSchemaException:
        pass
    else:
        return []
    from observatory.core.contracts.explain import violations  # the slow path, on demand

    return violations(name, document, prefix)


def validate_event(envelope: Any) -> list[Violation]:
    """Check an envelope, and its payload as a Job when it is a `job.*` event."""
    problems = validate("event-envelope", envelope)
    if problems:
        return problems
    if isinstance(envelope, Mapping) and str(envelope.get("eventType", "")).startswith("job."):
        return validate("job", envelope["payload"], prefix="$.payload")
    return []
