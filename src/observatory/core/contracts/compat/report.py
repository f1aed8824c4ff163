"""What a schema comparison found: each difference, and the version bump it needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Bump = Literal["none", "patch", "minor", "major"]
BUMP_ORDER: tuple[Bump, ...] = ("none", "patch", "minor", "major")


def bump_rank(bump: Bump) -> int:
    """0 for none up to 3 for major, so bumps can be compared."""
    return BUMP_ORDER.index(bump)


@dataclass(frozen=True, slots=True)
class Change:
    """One difference between two schemas at `path` (`$.producer.service`, `$.entries[]`)."""

    path: str
    bump: Bump
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.bump}]"

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "bump": self.bump, "message": self.message}


@dataclass(frozen=True, slots=True)
class Report:
    """Every classified difference between an old and a new schema."""

    changes: tuple[Change, ...]

    @property
    def required_bump(self) -> Bump:
        """The smallest version bump that covers every change ('none' when identical)."""
        return max((c.bump for c in self.changes), key=bump_rank, default="none")

    @property
    def breaking(self) -> tuple[Change, ...]:
        """The changes that need a major bump."""
        return tuple(c for c in self.changes if c.bump == "major")

    def as_dict(self) -> dict[str, Any]:
        return {
            "requiredBump": self.required_bump,
            "changes": [c.as_dict() for c in self.changes],
        }
