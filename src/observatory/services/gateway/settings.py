"""Gateway settings."""

from __future__ import annotations

from pydantic import AnyHttpUrl, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from observatory.core.settings import port_setting


class GatewaySettings(BaseSettings):
    """Where the gateway listens and which upstreams its proxies use."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    port: int = Field(default=port_setting("gateway"), validation_alias="GATEWAY_PORT")
    """HTTP port."""

    alertmanager_url: AnyHttpUrl | None = Field(default=None, validation_alias="ALERTMANAGER_URL")
    """Alertmanager base URL for /proxy/alerts; unset = answers 502 "not configured"."""

    prometheus_url: AnyHttpUrl | None = Field(default=None, validation_alias="PROMETHEUS_URL")
    """Prometheus base URL for /proxy/targets."""

    proxy_timeout: float = Field(default=5.0, validation_alias="GATEWAY_PROXY_TIMEOUT")
    """Seconds before a proxied call answers 504."""

    pending_rows: bool = Field(default=True, validation_alias="GATEWAY_PENDING_ROWS")
    """Write a PENDING row for each accepted job (SPEC §13). `false` is for measuring
    what the rows cost (benchmarks/README.md): queued jobs are then not listed, and a job
    not yet started cannot be cancelled, until the processor writes its row."""

    max_type_labels: int = 100
    """Distinct job types given their own metric label; the rest count as "other"."""
