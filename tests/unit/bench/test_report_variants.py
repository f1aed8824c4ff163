"""The benchmark's same-invocation variants: what a change costs is measured against the
right side (the variant when it is the "before", else the e2e runs), and the PENDING-rows
bar judges that cost against PERFORMANCE.md (<= 10 %, goal <= 3 %)."""

from __future__ import annotations

from typing import Any

from benchmarks import report


def test_a_variant_that_is_the_before_measures_the_e2e_runs_cost() -> None:
    # without PENDING rows 1000 jobs/s, with them 950: the rows cost 5 %
    cost = report.variant_cost(950.0, [1000.0, 990.0, 1010.0], about="x", before=True)
    assert cost["jobsPerS"] == 1000.0
    assert cost["costPct"] == 5.0


def test_a_variant_that_is_the_after_measures_its_own_cost() -> None:
    # with metadata 900 jobs/s against 1000 without: 10 % slower
    cost = report.variant_cost(1000.0, [900.0], about="x", before=False)
    assert cost["costPct"] == 10.0


def test_no_figure_no_cost() -> None:
    assert report.variant_cost(None, [900.0], about="x", before=True)["costPct"] is None
    assert report.variant_cost(900.0, [], about="x", before=True)["costPct"] is None


def _pending_bar(summary: dict[str, Any]) -> dict[str, Any]:
    return next(b for b in report.bars(summary) if b["figure"].startswith("Cost of PENDING"))


def test_the_pending_bar_judges_the_cost_against_performance_md() -> None:
    def with_cost(pct: float) -> dict[str, Any]:
        return {"variants": {"e2eNoPendingRows": {"costPct": pct}}, "latencyRate": 200.0}

    assert (_pending_bar(with_cost(2.0))["first"], _pending_bar(with_cost(2.0))["goalMet"]) == (
        "PASS",
        "PASS",
    )
    assert (_pending_bar(with_cost(7.5))["first"], _pending_bar(with_cost(7.5))["goalMet"]) == (
        "PASS",
        "MISS",
    )
    assert _pending_bar(with_cost(12.0))["first"] == "MISS"
    assert _pending_bar({"latencyRate": 200.0})["first"] == "n/a"
