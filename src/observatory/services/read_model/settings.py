"""Read-model settings."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import AnyHttpUrl, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from observatory.core.retention import parse_duration
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
    """Seconds between /stream polls when the event store announces nothing (MongoDB,
    SQLite written by another process, a PostgreSQL listener that dropped)."""

    stream_coalesce: float = Field(
        default=0.05, gt=0, le=5, validation_alias="READ_MODEL_STREAM_COALESCE"
    )
    """Seconds between two /stream flushes while news keeps coming (the first news after a
    quiet spell is pushed at once)."""

    stream_safety: float = Field(default=2.0, gt=0, validation_alias="READ_MODEL_STREAM_SAFETY")
    """Seconds between /stream checks when nothing was announced, with live news (stats
    that changed without an event, a lost notification)."""

    ui_registry: Path | None = Field(default=None, validation_alias="ODTO_UI_REGISTRY")
    """Optional override of the packaged UI registry."""

    retention: timedelta | None = Field(default=None, validation_alias="ODTO_RETENTION")
    """How long terminal jobs (with attempts and events), dead letters and alert history
    are kept, e.g. `30d`, `12h`, `90m`; `0` or unset keeps everything (the default)."""

    retention_interval: float = Field(
        default=600.0, gt=0, validation_alias="READ_MODEL_RETENTION_INTERVAL"
    )
    """Seconds between two background purges when ODTO_RETENTION is set."""

    trace_url: str | None = Field(default=None, validation_alias="ODTO_TRACE_URL")
    """Link template of a job's trace, with `{traceId}` where its id goes (Jaeger:
    `http://localhost:16686/trace/{traceId}`); /jobs/{id} answers the filled-in
    `traceUrl` of a traced job. Unset or empty = no links."""

    @field_validator("trace_url")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if not value:
            return None
        if "{traceId}" not in value or not value.startswith(("http://", "https://")):
            raise ValueError(
                "ODTO_TRACE_URL must be an http(s) URL with {traceId} where the trace id "
                "goes, e.g. http://localhost:16686/trace/{traceId}"
            )
        return value

    @field_validator("retention", mode="before")
    @classmethod
    def _duration(cls, value: object) -> timedelta | None:
        if value is None or isinstance(value, timedelta):
            return value
        return parse_duration(str(value))
