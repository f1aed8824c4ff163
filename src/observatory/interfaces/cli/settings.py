"""Settings of the `odto` commands themselves: where a running system is, the token for
writes, the log level of `odto up`. The services' own settings live in their packages."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from observatory.core.settings import local_url


class CliSettings(BaseSettings):
    """Read from the environment when a command runs; flags override these."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    gateway_url: str = Field(default=local_url("gateway"), validation_alias="GATEWAY_URL")
    """Base URL of the gateway."""

    read_model_url: str = Field(default=local_url("read-model"), validation_alias="READ_MODEL_URL")
    """Base URL of the read model."""

    processor_url: str = Field(default=local_url("processor"), validation_alias="PROCESSOR_URL")
    """Base URL of the processor's health and metrics (odto status)."""

    metrics_engine_url: str = Field(
        default=local_url("metrics-engine"), validation_alias="METRICS_ENGINE_URL"
    )
    """Base URL of the metrics engine's health and metrics (odto status)."""

    web_url: str = Field(default=local_url("web"), validation_alias="WEB_URL")
    """Base URL of the web service (odto status)."""

    prometheus_url: str = Field(default=local_url("prometheus"), validation_alias="PROMETHEUS_URL")
    """Prometheus checked by `odto gate --observability`."""

    alertmanager_url: str = Field(
        default=local_url("alertmanager"), validation_alias="ALERTMANAGER_URL"
    )
    """Alertmanager checked by `odto gate --observability`."""

    api_token: str | None = Field(
        default=None, validation_alias=AliasChoices("ODTO_TOKEN", "ODTO_API_TOKEN")
    )
    """Your bearer token (ODTO_TOKEN; ODTO_API_TOKEN is read too), sent with every request."""

    log_level: str | None = Field(default=None, validation_alias="ODTO_LOG_LEVEL")
    """Log level of `odto up` (unset = warning; `odto serve` uses the service's setting)."""

    ui_registry: str | None = Field(default=None, validation_alias="ODTO_UI_REGISTRY")
    """UI registry file for `odto cluster` (unset or empty = the packaged one)."""

    data_dir: str | None = Field(default=None, validation_alias="ODTO_DATA_DIR")
    """Data directory for `odto cluster` (unset or empty = .odto)."""
