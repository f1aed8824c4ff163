"""Edge limits: what every HTTP intake refuses before a value is stored or sent
(README, "HTTP API in brief").

- Nesting: at most `MAX_DEPTH` levels of objects/arrays in each field of a job
  (`payload`, `metadata`, any other), and in a whole webhook body. Deeper documents
  break things far from the edge (orjson refuses to write more than 254 levels,
  Python's recursion limit stops FastAPI's encoder), so they are refused at the edge
  with the path of the first place that is too deep. Both checkers here are iterative:
  any depth is safe to inspect.
- Simulated work: `payload.simulate.durationMs` at most `MAX_DURATION_MS` (one minute):
  enough to watch a job run, short enough that a few such jobs never hold a processor
  for long.
- Timestamps: a date-time must convert to UTC within years 1970-9999 (the range is
  `times.py`'s, which the stores apply too). An offset can push a valid local time out of
  `datetime`'s range ("0001-01-01T00:00:00+23:59"), which every store would fail on.

A value counts its own level: `{}` and `[]` are depth 1, `{"a": {}}` depth 2, a scalar 0.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson

from observatory.core.contracts.times import RANGE_TEXT, as_utc
from observatory.core.contracts.validator import Violation

MAX_DEPTH = 32
MAX_DURATION_MS = 60_000

# A step from a container to one of its values: (the parent step, ".key" or "[index]").
# Linked this way a path costs nothing until a violation needs it spelt out.
_Step = tuple[Any, str] | None


def _spell(path: str, step: _Step) -> str:
    parts: list[str] = []
    while step is not None:
        step, part = step
        parts.append(part)
    return path + "".join(reversed(parts))


def _children(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        return ((f".{key}", child) for key, child in value.items())
    return ((f"[{index}]", child) for index, child in enumerate(value))


def too_deep(value: Any, path: str = "$", *, limit: int = MAX_DEPTH) -> Violation | None:
    """The first container (in document order) nested deeper than `limit` inside `value`,
    named by its path under `path`; None when `value` stays within the limit."""
    if not isinstance(value, dict | list):
        return None
    # Depth-first with an explicit stack of iterators: no recursion, document order.
    stack: list[tuple[Iterator[tuple[str, Any]], _Step]] = [(_children(value), None)]
    while stack:
        children, step = stack[-1]
        for part, child in children:
            if isinstance(child, dict | list):
                inner: _Step = (step, part)
                if len(stack) + 1 > limit:
                    return Violation(_spell(path, inner), _message(limit))
                stack.append((_children(child), inner))
                break
        else:
            stack.pop()
    return None


def nul_in_text(value: Any, path: str = "$") -> Violation | None:
    """The first string or key inside `value` holding a NUL character ("\\u0000"), which no
    job store keeps (PostgreSQL's jsonb refuses it); None when there is none. Called after
    `too_deep`, so the walk is shallow."""
    stack: list[tuple[Any, _Step]] = [(value, None)]
    while stack:
        current, step = stack.pop()
        if isinstance(current, str):
            if "\x00" in current:
                return Violation(_spell(path, step), "must not contain NUL characters")
        elif isinstance(current, dict | list):
            for part, child in reversed(list(_children(current))):
                if "\x00" in part:
                    return Violation(_spell(path, step), "keys must not contain NUL characters")
                stack.append((child, (step, part)))
    return None


# In JSON text: the next brace, bracket, comma or string start.
_STRUCTURE = re.compile(rb'[{}\[\]",]')
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


def too_deep_in_text(
    raw: bytes, path: str = "$", *, limit: int = MAX_DEPTH, outer: int = 0
) -> Violation | None:
    """`too_deep` for JSON text no parser will take (orjson stops at 1024 levels): scans the
    text up to the first container deeper than `limit` + `outer`, where `outer` is how many
    levels around the limited values do not count (1 for a job, whose payload and metadata
    are limited, not the body). None when there is none, including for text too broken to
    follow; the caller then reports the syntax error."""
    # One entry per open container: the label of the value being read in it (".key" in an
    # object once its key is read, "[i]" in an array), and whether it is an object.
    labels: list[str] = []
    objects: list[bool] = []
    indexes: list[int] = []
    expect_key = False
    position = 0
    while (found := _STRUCTURE.search(raw, position)) is not None:
        char, position = found.group(), found.end()
        if char == b'"':
            string = _STRING.match(raw, found.start())
            if string is None:
                return None
            position = string.end()
            if expect_key:
                labels[-1] = "." + _decode_key(string.group())
                expect_key = False
        elif char in b"{[":
            if len(labels) + 1 > limit + outer:
                return Violation(path + "".join(labels), _message(limit))
            is_object = char == b"{"
            labels.append("" if is_object else "[0]")
            objects.append(is_object)
            indexes.append(0)
            expect_key = is_object
        elif char in b"}]":
            if not labels:
                return None
            labels.pop()
            objects.pop()
            indexes.pop()
            expect_key = False
        elif labels:  # a comma: the next key of an object, the next item of an array
            if objects[-1]:
                expect_key = True
            else:
                indexes[-1] += 1
                labels[-1] = f"[{indexes[-1]}]"
    return None


def _decode_key(quoted: bytes) -> str:
    try:
        key = orjson.loads(quoted)
    except orjson.JSONDecodeError:
        return quoted[1:-1].decode("utf-8", "replace")
    return str(key)


def _message(limit: int) -> str:
    return f"nested deeper than {limit} levels"


def timestamp_problem(value: str, path: str) -> Violation | None:
    """None when the RFC 3339 date-time `value` converts to UTC within the accepted range
    (times.py, which the stores hold to as well)."""
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        return Violation(path, "must be an RFC 3339 date-time")
    if as_utc(moment) is None:
        return Violation(path, f"must be a date-time within {RANGE_TEXT} once in UTC")
    return None
