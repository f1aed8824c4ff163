"""Injectable time and identity: services take a Clock, tests pass a fixed one."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Wall-clock time, monotonic time and new ids for one service."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, never going backwards."""

    def new_id(self) -> str:
        """A fresh random UUID as a string."""


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    def new_id(self) -> str:
        return str(uuid.uuid4())


@dataclass
class FixedClock:
    """A clock for tests: time moves only when told; ids come from a counter."""

    current: datetime = field(default_factory=lambda: datetime(2026, 1, 1, tzinfo=UTC))
    ticks: float = 0.0
    counter: int = 0

    def now(self) -> datetime:
        return self.current

    def monotonic(self) -> float:
        return self.ticks

    def new_id(self) -> str:
        self.counter += 1
        return str(uuid.UUID(int=self.counter, version=4))

    def advance(self, seconds: float) -> None:
        from datetime import timedelta

        self.current += timedelta(seconds=seconds)
        self.ticks += seconds


def iso(moment: datetime) -> str:
    """RFC 3339 with milliseconds and a Z, the form every contract uses."""
    if moment.tzinfo is not UTC:  # our clocks give UTC already: no conversion then
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds")[:-6] + "Z"


def parse_iso(text: str) -> datetime:
    """Parse an RFC 3339 date-time (Z or offset) into an aware datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
