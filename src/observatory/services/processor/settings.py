"""Processor settings."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from observatory.core.settings import port_setting


class ProcessorSettings(BaseSettings):
    """How the processor consumes and simulates work."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    port: int = Field(default=port_setting("processor"), validation_alias="PROCESSOR_PORT")
    """Port of /healthz, /readyz and /metrics."""

    work_ms: float = Field(default=0.0, ge=0, validation_alias="PROCESSOR_WORK_MS")
    """Simulated work per attempt when a job does not say (payload.simulate.durationMs)."""

    fail_rate: float = Field(default=0.0, ge=0, le=1, validation_alias="PROCESSOR_FAIL_RATE")
    """Probability that an attempt fails when a job does not say."""

    max_attempts: int = Field(default=3, ge=1, validation_alias="PROCESSOR_MAX_ATTEMPTS")
    """Attempts per run before a job is FAILED."""

    backoff_base: float = Field(default=1.0, gt=0, validation_alias="PROCESSOR_BACKOFF_SECONDS")
    """First retry delay in seconds; doubles per attempt, with jitter."""

    prefetch: int = Field(default=400, ge=1, validation_alias="PROCESSOR_PREFETCH")
    """Unacknowledged messages held at once."""

    batch_size: int = Field(default=100, ge=1, validation_alias="PROCESSOR_BATCH_SIZE")
    """Messages handled (and written) together."""
