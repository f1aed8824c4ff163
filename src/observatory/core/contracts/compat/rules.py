"""The compatibility rules: walk two JSON Schemas side by side and classify every difference.

A change that can make a document valid under the old schema invalid under the new one
(or take away a field a consumer reads) is **major**; one that only lets more documents
through is **minor**; one that changes nothing a validator looks at (title, description,
examples) is **patch**. Keywords the walker does not analyse count as major when they
change: an unknown change is treated as breaking, never waved through.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from observatory.core.contracts.compat.report import Bump, Change, Report

Schema = Mapping[str, Any]

ANNOTATIONS = frozenset(
    ("title", "description", "$comment", "examples", "default", "deprecated", "readOnly")
)
LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
VERSION_KEY = "$version"  # compared by check_bump, not here
# Keywords the walker analyses; a change to any other non-annotation keyword is major.
ANALYSED = frozenset(
    {VERSION_KEY, "type", "enum", "const", "format", "pattern", "multipleOf", "uniqueItems"}
    | {"properties", "required", "additionalProperties", "items", "definitions", "$defs"}
    | {"anyOf", "allOf", "oneOf", *LOWER_BOUNDS, *UPPER_BOUNDS}
)

_QUANTIFIER = re.compile(r"(?<!\\)\{(\d+)(,(\d*))?\}")


def compare(old: Schema, new: Schema) -> Report:
    """Classify every difference between schema `old` and schema `new`."""
    changes: list[Change] = []
    _Walker(changes.append).schema(old, new, "$")
    return Report(tuple(changes))


def _as_schema(value: Any) -> Schema:
    """Boolean subschemas as objects: true accepts anything, false nothing."""
    if value is True:
        return {}
    if value is False:
        return {"not": {}}
    return value if isinstance(value, Mapping) else {}


def _show(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _key(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


def _types(schema: Schema) -> frozenset[str] | None:
    declared = schema.get("type")
    if declared is None:
        return None
    return frozenset([declared] if isinstance(declared, str) else declared)


def _allowed(schema: Schema) -> dict[str, Any] | None:
    """The closed set of values enum/const allow, keyed canonically; None when open."""
    allowed: dict[str, Any] | None = None
    if "enum" in schema:
        allowed = {_key(v): v for v in schema["enum"]}
    if "const" in schema:
        const = {_key(schema["const"]): schema["const"]}
        allowed = const if allowed is None else {k: allowed[k] for k in allowed if k in const}
    return allowed


def _bounds(match: re.Match[str]) -> tuple[int, float]:
    low = int(match.group(1))
    if match.group(2) is None:
        return low, low
    return low, float(match.group(3)) if match.group(3) else float("inf")


def pattern_loosened(old: str, new: str) -> bool:
    """True when `new` is `old` with some {m,n} quantifiers widened and nothing else changed."""
    if _QUANTIFIER.sub("{}", old) != _QUANTIFIER.sub("{}", new):
        return False
    for was, now in zip(_QUANTIFIER.finditer(old), _QUANTIFIER.finditer(new), strict=True):
        (old_low, old_high), (new_low, new_high) = _bounds(was), _bounds(now)
        if new_low > old_low or new_high < old_high:
            return False
    return True


class _Walker:
    def __init__(self, emit: Callable[[Change], None]) -> None:
        self.emit = emit

    def note(self, path: str, bump: Bump, message: str) -> None:
        self.emit(Change(path, bump, message))

    def schema(self, old: Schema, new: Schema, path: str) -> None:
        self.types(old, new, path)
        self.values(old, new, path)
        self.text(old, new, path, "format")
        self.pattern(old, new, path)
        self.multiple_of(old, new, path)
        for key in LOWER_BOUNDS:
            self.bound(old, new, path, key, tighter=lambda was, now: now > was)
        for key in UPPER_BOUNDS:
            self.bound(old, new, path, key, tighter=lambda was, now: now < was)
        if old.get("uniqueItems", False) != new.get("uniqueItems", False):
            if new.get("uniqueItems"):
                self.note(path, "major", "items must now be unique")
            else:
                self.note(path, "minor", "items no longer need to be unique")
        self.properties(old, new, path)
        self.additional(old, new, path)
        self.items(old, new, path)
        self.definitions(old, new, path)
        self.branches(old, new, path)
        for key in sorted(set(old) | set(new)):
            if key in ANALYSED or old.get(key) == new.get(key):
                continue
            if key in ANNOTATIONS:
                self.note(path, "patch", f"{key} changed")
            else:
                was, now = _show(old.get(key)), _show(new.get(key))
                self.note(path, "major", f"{key} changed ({was} -> {now}); treated as breaking")

    def types(self, old: Schema, new: Schema, path: str) -> None:
        was, now = _types(old), _types(new)
        if was == now:
            return
        if now is None:
            self.note(path, "minor", f"type constraint {sorted(was or ())} removed")
            return
        if was is None:
            self.note(path, "major", f"type restricted to {sorted(now)}")
            return
        lost = [t for t in was if t not in now and not (t == "integer" and "number" in now)]
        if not lost:
            self.note(path, "minor", f"type widened from {sorted(was)} to {sorted(now)}")
            return
        verb = "narrowed" if now < was else "changed"
        self.note(path, "major", f"type {verb} from {sorted(was)} to {sorted(now)}")

    def values(self, old: Schema, new: Schema, path: str) -> None:
        was, now = _allowed(old), _allowed(new)
        if was == now or (was is not None and now is not None and was.keys() == now.keys()):
            return
        if now is None:
            self.note(path, "minor", "enum/const restriction removed")
        elif was is None:
            self.note(path, "major", f"values restricted to {_show(list(now.values()))}")
        else:
            removed = [v for k, v in was.items() if k not in now]
            added = [v for k, v in now.items() if k not in was]
            if removed:
                self.note(path, "major", f"enum narrowed: removed {_show(removed)}")
            if added:
                self.note(path, "minor", f"enum widened: added {_show(added)}")

    def text(self, old: Schema, new: Schema, path: str, key: str) -> None:
        was, now = old.get(key), new.get(key)
        if was == now:
            return
        if now is None:
            self.note(path, "minor", f"{key} {was!r} removed")
        elif was is None:
            self.note(path, "major", f"{key} {now!r} added")
        else:
            self.note(path, "major", f"{key} changed from {was!r} to {now!r}")

    def pattern(self, old: Schema, new: Schema, path: str) -> None:
        was, now = old.get("pattern"), new.get("pattern")
        loosened = isinstance(was, str) and isinstance(now, str) and pattern_loosened(was, now)
        if loosened and was != now:
            self.note(path, "minor", f"pattern loosened from {was!r} to {now!r}")
            return
        self.text(old, new, path, "pattern")

    def multiple_of(self, old: Schema, new: Schema, path: str) -> None:
        was, now = old.get("multipleOf"), new.get("multipleOf")
        if was != now and was is not None and now is not None and (was / now).is_integer():
            self.note(path, "minor", f"multipleOf loosened from {was} to {now}")
            return
        self.text(old, new, path, "multipleOf")

    def bound(
        self, old: Schema, new: Schema, path: str, key: str, tighter: Callable[[Any, Any], bool]
    ) -> None:
        was, now = old.get(key), new.get(key)
        if was == now:
            return
        if now is None:
            self.note(path, "minor", f"{key} {was} removed")
        elif was is None:
            self.note(path, "major", f"{key} {now} added")
        elif isinstance(was, bool) or isinstance(now, bool):  # draft-04 exclusive flags
            self.note(path, "major", f"{key} changed from {was} to {now}; treated as breaking")
        elif tighter(was, now):
            self.note(path, "major", f"{key} tightened from {was} to {now}")
        else:
            self.note(path, "minor", f"{key} loosened from {was} to {now}")

    def properties(self, old: Schema, new: Schema, path: str) -> None:
        was, now = old.get("properties", {}), new.get("properties", {})
        req_was, req_now = set(old.get("required", ())), set(new.get("required", ()))
        for name in sorted(set(was) | set(now) | req_was | req_now):
            child = f"{path}.{name}"
            if name in was and name not in now:
                kind = "required" if name in req_was else "optional"
                self.note(child, "major", f"{kind} property removed")
                continue
            if name in now and name not in was:
                if name in req_now:
                    self.note(child, "major", "required property added")
                else:
                    self.note(child, "minor", "optional property added")
                continue
            if name in was:
                self.schema(_as_schema(was[name]), _as_schema(now[name]), child)
            if name in req_now and name not in req_was:
                self.note(child, "major", "optional property became required")
            elif name in req_was and name not in req_now:
                self.note(child, "minor", "required property became optional")

    def additional(self, old: Schema, new: Schema, path: str) -> None:
        was = old.get("additionalProperties", True)
        now = new.get("additionalProperties", True)
        if was == now or (was in (True, {}) and now in (True, {})):
            return
        if now is False:
            self.note(path, "major", "additional properties no longer allowed")
        elif was is False:
            self.note(path, "minor", "additional properties now allowed")
        else:
            self.schema(_as_schema(was), _as_schema(now), f"{path}.*")

    def items(self, old: Schema, new: Schema, path: str) -> None:
        was, now = old.get("items", {}), new.get("items", {})
        if was == now:
            return
        if isinstance(was, list) and isinstance(now, list):
            for index, (a, b) in enumerate(zip(was, now, strict=False)):
                self.schema(_as_schema(a), _as_schema(b), f"{path}[{index}]")
            if len(now) != len(was):
                bump: Bump = "major" if len(now) > len(was) else "minor"
                self.note(path, bump, f"tuple items went from {len(was)} to {len(now)}")
        elif isinstance(was, list) or isinstance(now, list):
            self.note(path, "major", "items changed between list and tuple form")
        else:
            self.schema(_as_schema(was), _as_schema(now), f"{path}[]")

    def definitions(self, old: Schema, new: Schema, path: str) -> None:
        for key in ("definitions", "$defs"):
            was, now = old.get(key, {}), new.get(key, {})
            for name in sorted(set(was) | set(now)):
                child = f"{path}#{key}/{name}"
                if name not in now:
                    self.note(child, "major", "definition removed")
                elif name not in was:
                    self.note(child, "patch", "definition added")
                else:
                    self.schema(_as_schema(was[name]), _as_schema(now[name]), child)

    def branches(self, old: Schema, new: Schema, path: str) -> None:
        for key in ("anyOf", "allOf", "oneOf"):
            was, now = old.get(key), new.get(key)
            if was == now:
                continue
            if was is not None and now is not None and len(was) == len(now):
                for index, (a, b) in enumerate(zip(was, now, strict=True)):
                    self.schema(_as_schema(a), _as_schema(b), f"{path}<{key}[{index}]>")
                continue
            if now is None:
                self.note(path, "minor", f"{key} removed")
            elif was is None:
                self.note(path, "major", f"{key} added")
            elif key == "anyOf" and {_key(b) for b in was} <= {_key(b) for b in now}:
                self.note(path, "minor", "anyOf gained alternatives")
            elif key == "allOf" and {_key(b) for b in now} <= {_key(b) for b in was}:
                self.note(path, "minor", "allOf lost constraints")
            else:
                self.note(path, "major", f"{key} changed; treated as breaking")
