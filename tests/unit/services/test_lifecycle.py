"""The processor's idempotency decisions and simulation rules, without I/O."""

from __future__ import annotations

import random
import uuid

import pytest

from observatory.core.stores.records import JobState
from observatory.services.processor.lifecycle import (
    EVENT_NAMESPACE,
    Action,
    Work,
    attempt_fails,
    backoff,
    decide,
    event_id,
    simulation,
    work_from,
)

JOB_ID = "6f1c2f1e-7f2b-4a59-9b1e-2f0d5d6f1a11"


def work(event: str = "e1", attempt: int = 1, run: int = 1, attempts_before: int = 0) -> Work:
    job = {
        "id": JOB_ID,
        "type": "T",
        "status": "PENDING",
        "createdAt": "2026-01-01T00:00:00Z",
        "run": run,
        "attempts": attempts_before,
    }
    return work_from({"eventId": event, "payload": job}, {"x-attempt": attempt})


def state(status: str, attempts: int = 1, run: int = 1, event: str = "e1") -> JobState:
    return JobState(JOB_ID, status, attempts, run, event)


@pytest.mark.parametrize(
    ("message", "row", "expected"),
    [
        (work(), None, Action.RUN),  # a new job
        (work(), state("EXECUTING"), Action.RUN),  # redelivered after a crash mid-attempt
        (work(attempt=2), state("EXECUTING", attempts=1), Action.RUN),  # the scheduled retry
        (work(attempt=1), state("EXECUTING", attempts=2), Action.SKIP),  # a stale first attempt
        (work(event="e2"), state("EXECUTING"), Action.SKIP),  # same id submitted again, in flight
        (work(), state("COMPLETED"), Action.REANNOUNCE),  # finished: say so again, change nothing
        (work(event="e2"), state("FAILED"), Action.REANNOUNCE),
        (work(run=2, attempts_before=3), state("FAILED", attempts=3), Action.RUN),  # a retry run
        (work(run=2), state("COMPLETED", run=1), Action.SKIP),  # rerun of a job that is not FAILED
        (work(run=1), state("EXECUTING", run=2), Action.SKIP),  # an old run's message
        (work(), state("PENDING", attempts=0), Action.RUN),  # accepted, not started yet
        (work(event="e2"), state("PENDING", attempts=0), Action.RUN),  # any copy may start it
        (work(run=2, attempts_before=3), state("PENDING", 3, run=2), Action.RUN),  # rerun waits
        (work(run=3), state("PENDING", attempts=0, run=2), Action.RUN),  # a rerun over PENDING
        (work(run=1), state("PENDING", attempts=0, run=2), Action.SKIP),  # an old run's message
        (work(), state("CANCELLED", attempts=0), Action.SKIP),  # cancelled while PENDING
        (work(attempt=2), state("CANCELLED"), Action.SKIP),  # the delayed retry of a cancelled job
        (work(run=2), state("CANCELLED"), Action.SKIP),  # a cancelled job is not rerun
    ],
)
def test_decide_runs_each_attempt_once(
    message: Work, row: JobState | None, expected: Action
) -> None:
    """Only new work runs; repeats of finished work are re-announced, the rest skipped."""
    assert decide(message, row) is expected


def test_attempt_numbers_continue_across_runs() -> None:
    """A retry run's attempts follow the earlier run's (4, 5, 6 after 3)."""
    assert work(run=2, attempts_before=3, attempt=1).attempt == 4
    assert work(attempt=3).attempt == 3


def test_event_ids_are_deterministic_per_step() -> None:
    """Re-announcing a step yields the same event id, which consumers deduplicate."""
    assert event_id(JOB_ID, 1, "completed") == event_id(JOB_ID, 1, "completed")
    assert event_id(JOB_ID, 1, "completed") != event_id(JOB_ID, 2, "completed")
    assert event_id(JOB_ID, 1, "executed:1") != event_id(JOB_ID, 1, "executed:2")


def test_simulation_reads_the_job_or_defaults() -> None:
    """payload.simulate wins over the processor's defaults; nonsense falls back to them."""
    job = {"payload": {"simulate": {"durationMs": 250, "failProbability": 2, "failAttempts": 1}}}
    sim = simulation(job, default_ms=10, default_fail=0.1)
    assert (sim.duration_s, sim.fail_probability, sim.fail_attempts) == (0.25, 1.0, 1)
    plain = simulation({"payload": {"simulate": {"durationMs": "slow"}}}, 10, 0.1)
    assert (plain.duration_s, plain.fail_probability) == (0.01, 0.1)


def test_fail_attempts_fail_exactly_the_first_attempts() -> None:
    """failAttempts=2 fails attempts 1 and 2 and lets attempt 3 through."""
    sim = simulation({"payload": {"simulate": {"failAttempts": 2}}}, 0, 0)
    rng = random.Random(1)
    assert [attempt_fails(sim, n, rng) for n in (1, 2, 3)] == [True, True, False]


def test_backoff_doubles_with_jitter() -> None:
    """Each retry waits about twice as long as the one before, within ±50 %."""
    rng = random.Random(7)
    for attempt in (1, 2, 3, 4):
        delay = backoff(1.0, attempt, rng)
        assert 0.5 * 2 ** (attempt - 1) <= delay <= 1.5 * 2 ** (attempt - 1)


@pytest.mark.parametrize(
    ("job_id", "run", "step"),
    [
        (JOB_ID, 1, "validated"),
        (JOB_ID, 3, "executed:2"),
        ("6F1C2F1E-7F2B-4A59-9B1E-2F0D5D6F1A11", 12, "completed"),
        ("not-a-uuid ünïcode", 1, "failed"),
    ],
)
def test_event_ids_are_the_uuid5_of_job_run_and_step(job_id: str, run: int, step: str) -> None:
    """Ids stay what they were (uuid5 in the processor's namespace): an event announced
    again after a crash, by this version or an older one, keeps its id."""
    name = f"{job_id}:{run}:{step}"
    assert event_id(job_id, run, step) == str(uuid.uuid5(EVENT_NAMESPACE, name))
