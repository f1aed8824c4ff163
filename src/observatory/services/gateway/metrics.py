"""Gateway metrics (names in docs/observability.md); the `type` label is bounded."""

from __future__ import annotations

from prometheus_client import Counter

from observatory.core.telemetry import ServiceMetrics


class GatewayMetrics(ServiceMetrics):
    def __init__(self, max_type_labels: int) -> None:
        super().__init__("gateway")
        self.submitted = Counter(
            "gateway_jobs_submitted_total",
            "POST /jobs requests by job type (accepted type, 'invalid', or 'other' past the cap)",
            ["type"],
            registry=self.registry,
        )
        self.accepted = Counter(
            "gateway_jobs_accepted_total", "Jobs durably published", registry=self.registry
        )
        self._types: set[str] = set()
        self._cap = max_type_labels

    def type_label(self, job_type: str | None) -> str:
        if job_type is None:
            return "invalid"
        if job_type in self._types:
            return job_type
        if len(self._types) < self._cap:
            self._types.add(job_type)
            return job_type
        return "other"
