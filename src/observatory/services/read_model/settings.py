"""Read-model settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import AnyHttpUrl, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from observatory.core.settings import port_setting


class ReadModelSettings(BaseSettings):
    """Where the read model listens and where alerts come from."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    port: int = Field(default=port_setting("read-model"), validation_alias="READ_MODEL_PORT")
    """HTTP port."""

    alertmanager_url: AnyHttpUrl | None = Field(default=None, validation_alias="ALERTMANAGER_URL")
    """Alertmanager base URL for GET /alerts; unset = alerts are "unavailable"."""

    alert_timeout: float = Field(default=3.0, validation_alias="READ_MODEL_ALERT_TIMEOUT")
    """Seconds to wait for Alertmanager before answering "unavailable"."""

    alert_history: int = Field(default=200, ge=1, validation_alias="READ_MODEL_ALERT_HISTORY")
    """Webhook notifications kept for GET /alerts/history."""

    stream_interval: float = Field(
        default=0.25, gt=0, validation_alias="READ_MODEL_STREAM_INTERVAL"
    )
    """Seconds between /stream checks for news (updates are coalesced to this pace)."""

    ui_registry: Path | None = Field(default=None, validation_alias="ODTO_UI_REGISTRY")
    """Optional override of the packaged UI registry."""
