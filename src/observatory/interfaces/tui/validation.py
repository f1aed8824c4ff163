"""Checks of what the user types, mirroring the gateway so errors show before a request.

The job-type rule is the contract's (`^[A-Za-z0-9_-]{1,50}$`, ASCII only); the simulation
fields follow the gateway's `payload.simulate` object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from observatory.core.contracts.limits import MAX_DURATION_MS  # the gateway's own cap

JOB_TYPE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,50}$")
MAX_JOB_TYPE_LENGTH = 50


class InvalidInput(ValueError):
    """A field the user typed breaks a rule; the message says which and how to fix it."""


def validate_job_type(raw: str) -> str:
    """The job type with surrounding blanks removed, or InvalidInput."""
    value = raw.strip()
    if not value:
        raise InvalidInput("Job type cannot be empty")
    if len(value) > MAX_JOB_TYPE_LENGTH:
        raise InvalidInput(f"Job type too long ({len(value)} > {MAX_JOB_TYPE_LENGTH} characters)")
    if not JOB_TYPE_PATTERN.match(value):
        raise InvalidInput("Job type may contain only letters A-Z, digits, '_' and '-'")
    return value


@dataclass(frozen=True, slots=True)
class Simulation:
    """What the processor should pretend: how long the work takes and how it fails."""

    duration_ms: int | None = None
    fail_probability: float | None = None
    fail_attempts: int | None = None

    def as_payload(self) -> dict[str, Any]:
        """The `simulate` object for the job payload; empty when nothing is set."""
        out: dict[str, Any] = {}
        if self.duration_ms is not None:
            out["durationMs"] = self.duration_ms
        if self.fail_probability is not None:
            out["failProbability"] = self.fail_probability
        if self.fail_attempts is not None:
            out["failAttempts"] = self.fail_attempts
        return out


def parse_simulation(duration: str, fail_probability: str, fail_attempts: str) -> Simulation:
    """Parse the optional simulation fields (blank means "not set"), or InvalidInput."""
    duration_ms = _int_field(duration, "Duration", 0, MAX_DURATION_MS)
    attempts = _int_field(fail_attempts, "Fail attempts", 0, 100)
    probability: float | None = None
    if fail_probability.strip():
        try:
            probability = float(fail_probability.strip())
        except ValueError:
            raise InvalidInput("Failure probability must be a number from 0 to 1") from None
        if not 0.0 <= probability <= 1.0:
            raise InvalidInput("Failure probability must be a number from 0 to 1")
    return Simulation(duration_ms, probability, attempts)


def _int_field(raw: str, label: str, low: int, high: int) -> int | None:
    text = raw.strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise InvalidInput(f"{label} must be a whole number from {low} to {high}") from None
    if not low <= value <= high:
        raise InvalidInput(f"{label} must be a whole number from {low} to {high}")
    return value
