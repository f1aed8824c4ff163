"""What each lifecycle event does to the counters."""

from __future__ import annotations

from typing import Any

from observatory.services.metrics_engine.aggregate import dead_letter_effect, effect_of

JOB = "6f1c2f1e-7f2b-4a59-9b1e-2f0d5d6f1a11"


def envelope(event_type: str, run: int = 1, event_id: str = "e") -> dict[str, Any]:
    return {
        "eventType": event_type,
        "eventId": event_id,
        "occurredAt": "2026-01-01T00:00:00+00:00",
        "payload": {"id": JOB, "run": run},
    }


def test_a_job_is_counted_once_per_id() -> None:
    """Two job.created events of one job id share an effect key, so the job counts once."""
    first, second = (
        effect_of(envelope("job.created", event_id="a")),
        effect_of(envelope("job.created", event_id="b")),
    )
    assert first.key == second.key
    assert first.deltas == {"total": 1}
    assert first.event_time == "2026-01-01T00:00:00.000Z"


def test_a_retry_run_counts_as_retried_not_as_a_new_job() -> None:
    assert effect_of(envelope("job.created", run=2)).deltas == {"retried": 1}


def test_terminal_events_end_a_run_once() -> None:
    """COMPLETED and FAILED of one run share a key: a run ends once."""
    done, failed = effect_of(envelope("job.completed")), effect_of(envelope("job.failed"))
    assert done.key == failed.key
    assert (done.deltas, failed.deltas) == ({"completed": 1}, {"failed": 1})


def test_a_retried_job_that_completes_moves_from_failed_to_completed() -> None:
    assert effect_of(envelope("job.completed", run=2)).deltas == {"completed": 1, "failed": -1}
    assert effect_of(envelope("job.failed", run=2)).deltas == {}


def test_intermediate_events_only_move_the_clock() -> None:
    assert effect_of(envelope("job.executed")).deltas == {}
    assert dead_letter_effect("k").deltas == {"dead_letters": 1}


def test_a_cancelled_run_ends_once_and_counts_as_cancelled() -> None:
    """job.cancelled shares the run's terminal key: a run is completed, failed or cancelled."""
    cancelled = effect_of(envelope("job.cancelled"))
    assert cancelled.key == effect_of(envelope("job.completed")).key
    assert cancelled.deltas == {"cancelled": 1}
    assert cancelled.requires == effect_of(envelope("job.completed")).requires


def test_a_cancelled_rerun_moves_the_job_from_failed_to_cancelled() -> None:
    assert effect_of(envelope("job.cancelled", run=2)).deltas == {"cancelled": 1, "failed": -1}
