"""Processor metrics (names in docs/observability.md)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from observatory.core.telemetry import ServiceMetrics

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


class ProcessorMetrics(ServiceMetrics):
    def __init__(self) -> None:
        super().__init__("processor")
        r = self.registry
        self.processed = Counter("processor_jobs_processed_total", "Messages handled", registry=r)
        self.completed = Counter("processor_jobs_completed_total", "Jobs COMPLETED", registry=r)
        self.failed = Counter(
            "processor_jobs_failed_total", "Jobs FAILED after the last attempt", registry=r
        )
        self.validation_failed = Counter(
            "processor_jobs_validation_failed_total",
            "Messages dead-lettered as invalid",
            registry=r,
        )
        self.retried = Counter(
            "processor_jobs_retried_total", "Attempts scheduled for retry", registry=r
        )
        self.in_progress = Gauge("processor_jobs_in_progress", "Attempts running now", registry=r)
        self.processing = Histogram(
            "processor_job_processing_seconds",
            "Duration of one attempt",
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.latency = Histogram(
            "processor_job_latency_seconds",
            "Job createdAt to COMPLETED/FAILED",
            registry=r,
            buckets=LATENCY_BUCKETS,
        )
        self.queue_depth = Gauge(
            "processor_queue_depth", "Ready messages in jobs.created", registry=r
        )
