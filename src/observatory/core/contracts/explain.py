"""Why a document fails its schema: every violation with its path, by `jsonschema`.

The slow path of validator.py, imported on the first document that fails the compiled
check. Same schemas, same format functions, the same ECMA 262 reading of `$`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

import jsonschema

from observatory.core.contracts.validator import DOLLAR, FORMATS, Violation, load_schema

_checker = jsonschema.FormatChecker(formats=())
for _name, _fn in FORMATS.items():
    _checker.checks(_name)(_fn)


def _pattern(
    validator: Any, pattern: str, instance: Any, schema: Mapping[str, Any]
) -> Iterator[jsonschema.ValidationError]:
    ecma = DOLLAR.sub(r"\\Z", pattern)
    if validator.is_type(instance, "string") and not re.search(ecma, instance):
        yield jsonschema.ValidationError(f"{instance!r} does not match {pattern!r}")


_Draft7 = jsonschema.validators.extend(  # type: ignore[no-untyped-call]  # unannotated in jsonschema
    jsonschema.Draft7Validator, {"pattern": _pattern}
)


@cache
def _validator(name: str) -> Any:
    return _Draft7(load_schema(name), format_checker=_checker)


def _path(error: jsonschema.ValidationError, prefix: str) -> str:
    parts = [prefix]
    for part in error.absolute_path:
        parts.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(parts)


def violations(name: str, document: Any, prefix: str) -> list[Violation]:
    """Every violation of schema `name` by `document` (known to fail), sorted by path."""
    errors = sorted(_validator(name).iter_errors(document), key=lambda e: list(e.absolute_path))
    found = [Violation(_path(e, prefix), e.message) for e in errors]
    return found or [Violation(prefix, "document does not match the schema")]
