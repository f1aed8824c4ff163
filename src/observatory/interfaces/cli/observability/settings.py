"""Settings of the local observability stack (`odto up --observability`), from the environment."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from observatory.core.settings import port_setting
from observatory.interfaces.cli.observability.configs import Timings


class ObservabilitySettings(BaseSettings):
    """Ports and timings of the local Prometheus and Alertmanager."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    prometheus_port: int = Field(
        default=port_setting("prometheus"), ge=0, le=65535, validation_alias="PROMETHEUS_PORT"
    )
    """Port of the local Prometheus (0 = any free port)."""

    alertmanager_port: int = Field(
        default=port_setting("alertmanager"), ge=0, le=65535, validation_alias="ALERTMANAGER_PORT"
    )
    """Port of the local Alertmanager (0 = any free port)."""

    scrape_interval: float = Field(default=5.0, gt=0, validation_alias="ODTO_SCRAPE_INTERVAL")
    """Seconds between scrapes of each service (the shipped config uses 15)."""

    evaluation_interval: float = Field(
        default=5.0, gt=0, validation_alias="ODTO_EVALUATION_INTERVAL"
    )
    """Seconds between evaluations of the alert rules."""

    rule_timescale: float = Field(default=1.0, gt=0, le=1, validation_alias="ODTO_RULE_TIMESCALE")
    """Factor on every rule's `for` and range window and on Alertmanager's grouping delays:
    1 keeps production timings; tests use e.g. 0.02 so a 2-minute `for` takes 2.4 s."""

    def timings(self) -> Timings:
        return Timings(self.scrape_interval, self.evaluation_interval, self.rule_timescale)
