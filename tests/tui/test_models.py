"""The read model's answers as the TUI reads them: tolerant of gaps, strict about shapes."""

from __future__ import annotations

import pytest

from observatory.interfaces.tui.models import (
    Alerts,
    BadResponse,
    JobDetail,
    JobFilter,
    JobSummary,
    Series,
    Stats,
)


def test_stats_read_every_counter_and_default_missing_ones_to_zero() -> None:
    stats = Stats.parse({"totalJobs": 5, "completedJobs": 3, "failedJobs": 1, "lastEventTime": ""})
    assert stats == Stats(
        total=5, completed=3, failed=1, in_flight=0, dead_letters=0, last_event=""
    )
    assert Stats.parse({"totalJobs": "lots"}).total == 0  # a wrong type never crashes the screen


def test_a_series_reads_its_columns_and_refuses_a_wrong_shape() -> None:
    body = {
        "window": "15m",
        "step": "10s",
        "points": [
            {"t": "x", "created": 2, "completed": 1, "failed": 0, "cancelled": 1},
            {"t": "y", "created": None, "completed": 3, "failed": "many"},
        ],
    }
    series = Series.parse(body)
    assert (series.window, series.step) == ("15m", "10s")
    assert (series.created, series.completed, series.failed) == ((2, 0), (1, 3), (0, 0))
    assert series.cancelled == (1, 0)
    bad_bodies: list[object] = [[], {"points": {}}, {"points": [3]}]
    for bad in bad_bodies:
        with pytest.raises(BadResponse):
            Series.parse(bad)


def test_a_job_summary_tolerates_nulls_and_normalises_the_status() -> None:
    job = JobSummary.parse({"id": "x", "type": "T", "status": "completed", "error": None})
    assert (job.status, job.error, job.attempts, job.created_at) == ("COMPLETED", "", 0, "")


def test_job_lists_come_bare_or_paged() -> None:
    bare = JobSummary.parse_list([{"id": "a", "type": "T", "status": "PENDING"}])
    paged = JobSummary.parse_list({"items": [{"id": "a", "type": "T", "status": "PENDING"}]})
    assert bare == paged
    with pytest.raises(BadResponse):
        JobSummary.parse_list({"jobs": []})
    with pytest.raises(BadResponse):
        JobSummary.parse_list(None)


def test_job_detail_reads_attempts_and_the_event_timeline() -> None:
    detail = JobDetail.parse(
        {
            "id": "a",
            "type": "T",
            "status": "EXECUTING",
            "run": 2,
            "payload": {"simulate": {}},
            "attemptHistory": [
                {"attempt": 1, "startedAt": "s", "finishedAt": None, "outcome": None}
            ],
            "events": [
                {
                    "eventType": "job.created",
                    "occurredAt": "t",
                    "eventId": "e",
                    "producer": {"service": "gateway"},
                    "payload": {"status": "PENDING"},
                }
            ],
        }
    )
    assert detail.run == 2
    assert detail.attempts[0].outcome == "running"
    assert (detail.events[0].service, detail.events[0].status) == ("gateway", "PENDING")
    assert detail.payload == {"simulate": {}}


def test_alerts_read_labels_when_top_level_fields_are_missing() -> None:
    alerts = Alerts.parse(
        {
            "status": "ok",
            "alerts": [
                {
                    "labels": {
                        "alertname": "ServiceDown",
                        "severity": "CRITICAL",
                        "service": "gateway",
                    }
                },
                {},
            ],
        }
    )
    assert alerts.available
    assert [(a.name, a.severity, a.service) for a in alerts.alerts] == [
        ("ServiceDown", "critical", "gateway"),
        ("Unknown", "", ""),
    ]
    unavailable = Alerts.parse({"status": "unavailable", "reason": "no Alertmanager", "alerts": []})
    assert (unavailable.available, unavailable.reason) == (False, "no Alertmanager")
    with pytest.raises(BadResponse):
        Alerts.parse([])  # the seed's bare list is not this contract


def test_a_filter_describes_itself() -> None:
    assert not JobFilter().active
    assert JobFilter("FAILED", "EMAIL").describe() == "status=FAILED type=EMAIL"
    assert JobFilter(job_type="EMAIL").describe() == "type=EMAIL"
