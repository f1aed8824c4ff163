"""The UI registry: the user interfaces the dashboards can open, and where they live.

The registry ships as package data (`ui-registry.json` beside this module), so an
installed UI never needs a source checkout. A deployment may point at its own file
instead; choosing that file (a flag, `ODTO_UI_REGISTRY`) is the caller's job, which keeps
`load_registry` free of environment lookups.

A registry is checked against the `ui-registry` schema and the rules every UI relies on
(base URL starts with http, at least one entry, unique ids, 0 < port <= 65535); anything
else raises `RegistryError` naming the file and every problem found.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from observatory.core.contracts.validator import validate

DEFAULT_BASE_URL = "http://localhost"
PACKAGED = "ui-registry.json"


class RegistryError(ValueError):
    """The registry file is missing, is not JSON, or breaks the registry rules."""


@dataclass(frozen=True, slots=True)
class RegistryEntry:
    """One user interface: launched at `baseUrl:port` + `path`."""

    id: str
    name: str
    port: int
    path: str
    emoji: str
    description: str
    base_url: str = field(default=DEFAULT_BASE_URL, kw_only=True, repr=False)
    """The registry's base URL, used when `url()` is given none."""

    def url(self, base_url: str | None = None) -> str:
        """The launch URL, on `base_url` when given (e.g. a remote host), else the registry's."""
        base = (base_url or self.base_url).rstrip("/")
        return f"{base}:{self.port}{self.path}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "port": self.port,
            "path": self.path,
            "emoji": self.emoji,
            "description": self.description,
        }


@dataclass(frozen=True, slots=True)
class Registry:
    """A validated registry: its version, base URL and entries in file order."""

    version: str
    base_url: str
    entries: tuple[RegistryEntry, ...]

    def get(self, entry_id: str) -> RegistryEntry:
        """The entry called `entry_id`; KeyError when there is none."""
        for entry in self.entries:
            if entry.id == entry_id:
                return entry
        raise KeyError(entry_id)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape of `ui-registry.json` (what GET /registry answers)."""
        return {
            "registryVersion": self.version,
            "baseUrl": self.base_url,
            "entries": [entry.as_dict() for entry in self.entries],
        }


def load_registry(override: Path | None = None) -> Registry:
    """The registry in `override` when given, else the packaged one."""
    if override is None:
        source = f"packaged {PACKAGED}"
        text = resources.files(__package__).joinpath(PACKAGED).read_text("utf-8")
    else:
        source = str(override)
        try:
            text = override.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RegistryError(f"UI registry {source}: cannot read it: {exc}") from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RegistryError(f"UI registry {source}: not valid JSON: {exc}") from exc
    return parse_registry(document, source=source)


def parse_registry(document: Any, *, source: str = "document") -> Registry:
    """Check a parsed registry document and build the `Registry`; RegistryError if invalid."""
    problems = [str(v) for v in validate("ui-registry", document)]
    if not problems:
        counts = Counter(entry["id"] for entry in document["entries"])
        problems = [
            f"$.entries: duplicate entry id {entry_id!r} ({count} entries)"
            for entry_id, count in counts.items()
            if count > 1
        ]
    if problems:
        raise RegistryError(f"UI registry {source} is invalid: " + "; ".join(problems))
    base_url: str = document["baseUrl"]
    entries = tuple(
        RegistryEntry(
            id=raw["id"],
            name=raw["name"],
            port=int(raw["port"]),  # JSON Schema counts 8081.0 as an integer
            path=raw["path"],
            emoji=raw["emoji"],
            description=raw["description"],
            base_url=base_url,
        )
        for raw in document["entries"]
    )
    return Registry(version=document["registryVersion"], base_url=base_url, entries=entries)
