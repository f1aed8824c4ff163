"""GET /stats/series (SPEC §13) on both profiles: after jobs complete, fail and are
cancelled, the window's points add up to exactly those jobs, with latency percentiles
and the queue depth. (The 400s for a bad window/step are proved over the embedded stores
in tests/unit/services/test_read_model_series.py.)"""

from __future__ import annotations

from typing import Any

import httpx
from tests.e2e.test_operate_jobs import Services, cancel, services, submit
from tests.system import wait_until

__all__ = ["services"]  # the fixture, imported to be found


def series(client: httpx.Client, services: Services, **params: str) -> dict[str, Any]:
    answer = client.get(f"{services.read_model}/stats/series", params=params)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def totals(body: dict[str, Any]) -> dict[str, int]:
    names = ("created", "completed", "failed", "cancelled")
    return {name: sum(point[name] for point in body["points"]) for name in names}


def test_series_counts_the_jobs_that_ran(services: Services) -> None:
    """3 jobs complete, 2 fail (every attempt), 1 is cancelled while it waits: the 15-min
    window at 10 s has 90 points whose sums are 6 created, 3 completed, 2 failed, 1
    cancelled; the steps with ends carry latency percentiles (p50 ≤ p95 ≤ p99); the queue
    depth ends at 0. The 1 h and 24 h windows count the same jobs."""
    with httpx.Client(timeout=10) as client:
        victim = submit(client, services, "SERIES-CANCEL")
        assert cancel(client, services, victim).status_code == 200
        for _ in range(3):
            submit(client, services, "SERIES-OK", simulate={"durationMs": 5})
        for _ in range(2):
            submit(client, services, "SERIES-FAIL", simulate={"failProbability": 1.0})

        def waiting() -> bool:
            body = series(client, services)
            counted = totals(body)
            return (counted["created"], counted["cancelled"]) == (6, 1) and body["points"][-1][
                "queueDepth"
            ] == 5

        wait_until(waiting, message="5 jobs waiting, 1 cancelled")
        services.start("processor")
        expected = {"created": 6, "completed": 3, "failed": 2, "cancelled": 1}
        wait_until(
            lambda: totals(series(client, services)) == expected,
            timeout=60,
            message=f"the series to count {expected}",
        )
        body = series(client, services, window="15m", step="10s")
        assert (body["window"], body["step"], len(body["points"])) == ("15m", "10s", 90)
        assert set(body["points"][0]) == {
            "t",
            "created",
            "completed",
            "failed",
            "cancelled",
            "p50Ms",
            "p95Ms",
            "p99Ms",
            "queueDepth",
        }
        times = [point["t"] for point in body["points"]]
        assert times == sorted(times)
        assert all(t.endswith("Z") for t in times)
        ended = [p for p in body["points"] if p["completed"] + p["failed"]]
        assert ended
        assert all(0 <= p["p50Ms"] <= p["p95Ms"] <= p["p99Ms"] for p in ended)
        quiet = [p for p in body["points"] if not p["completed"] + p["failed"]]
        assert all(p["p99Ms"] is None for p in quiet)
        wait_until(
            lambda: series(client, services)["points"][-1]["queueDepth"] == 0,
            message="the queue depth to fall to 0",
        )
        for window, step, points in (("1h", "30s", 120), ("24h", "10m", 144)):
            longer = series(client, services, window=window)
            assert (longer["step"], len(longer["points"])) == (step, points)
            assert totals(longer) == expected
