"""Metrics-engine settings."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from observatory.core.settings import port_setting


class MetricsEngineSettings(BaseSettings):
    """How the metrics engine consumes lifecycle events."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    port: int = Field(
        default=port_setting("metrics-engine"), validation_alias="METRICS_ENGINE_PORT"
    )
    """Port of /healthz, /readyz and /metrics."""

    prefetch: int = Field(default=1000, ge=1, validation_alias="METRICS_ENGINE_PREFETCH")
    """Unacknowledged events held at once, split evenly between the lifecycle queues."""

    batch_size: int = Field(default=200, ge=1, validation_alias="METRICS_ENGINE_BATCH_SIZE")
    """Events stored and counted together."""

    job_wait: float = Field(
        default=1.0, gt=0, le=600, validation_alias="METRICS_ENGINE_JOB_WAIT_SECONDS"
    )
    """A run's end whose job.created was not counted yet is checked again after this many
    seconds, then after twice as long each time: 7 more checks (127 times this, about two
    minutes by default), then it is dead-lettered ("no job.created seen for job <id>")."""
