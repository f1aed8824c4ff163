"""Metrics-engine metrics (names in docs/observability.md)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from observatory.core.telemetry import ServiceMetrics


class MetricsEngineMetrics(ServiceMetrics):
    def __init__(self) -> None:
        super().__init__("metrics-engine")
        r = self.registry
        self.processed = Counter(
            "metrics_engine_events_processed_total",
            "Lifecycle events stored and counted",
            ["event_type"],
            registry=r,
        )
        self.duplicates = Counter(
            "metrics_engine_events_duplicate_total",
            "Redelivered events that changed nothing",
            registry=r,
        )
        self.validation_failed = Counter(
            "metrics_engine_validation_failed_total", "Events dead-lettered as invalid", registry=r
        )
        self.deferred = Counter(
            "metrics_engine_events_deferred_total",
            "Events of a job not seen yet, put back to be checked again later",
            registry=r,
        )
        self.dead_letters = Counter(
            "metrics_engine_dead_letters_total", "Dead letters stored (first time seen)", registry=r
        )
        self.cancelled = Counter(
            "metrics_engine_jobs_cancelled_total",
            "Jobs cancelled (first job.cancelled seen for a run)",
            registry=r,
        )
        self.lag = Histogram(
            "metrics_engine_event_lag_seconds",
            "Now minus occurredAt when an event is stored",
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
