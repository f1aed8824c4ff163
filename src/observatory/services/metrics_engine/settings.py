"""Metrics-engine settings."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class MetricsEngineSettings(BaseSettings):
    """How the metrics engine consumes lifecycle events."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    port: int = Field(default=8090, validation_alias="METRICS_ENGINE_PORT")
    """Port of /healthz, /readyz and /metrics."""

    prefetch: int = Field(default=1000, ge=1, validation_alias="METRICS_ENGINE_PREFETCH")
    """Unacknowledged events held at once, split evenly between the lifecycle queues."""

    batch_size: int = Field(default=200, ge=1, validation_alias="METRICS_ENGINE_BATCH_SIZE")
    """Events stored and counted together."""
