"""Shared settings: which backends to use, where the embedded data lives, how to bind,
and the one table of default ports.

This module and the pydantic-settings classes (`*/settings.py`) are the only code that
reads the environment. Each service has its own settings class that nests these. Nothing
here is read at import time: `Backends()` reads the environment when a service is being
composed, `environment()` when a caller needs the whole mapping (the TUI's checks, the
environment of a child process).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from observatory.core.bus.declarations import DEFAULT_DELIVERY_LIMIT
from observatory.core.errors import ConfigurationError

DEFAULT_PORTS = {
    "gateway": 3000,
    "processor": 8000,
    "metrics-engine": 8090,
    "read-model": 8080,
    "web": 8081,
}
"""The port each service listens on unless its `<NAME>_PORT` says otherwise."""

OBSERVABILITY_PORTS = {
    "prometheus": 9090,
    "alertmanager": 9093,
}
"""The ports of a local Prometheus and Alertmanager unless PROMETHEUS_PORT or
ALERTMANAGER_PORT say otherwise."""


def port_setting(service: str) -> int:
    """The default port of `service` (one of DEFAULT_PORTS or OBSERVABILITY_PORTS)."""
    return DEFAULT_PORTS.get(service) or OBSERVABILITY_PORTS[service]


def local_url(service: str) -> str:
    """Where `service` listens on this machine by default, e.g. http://127.0.0.1:3000."""
    return f"http://127.0.0.1:{port_setting(service)}"


class Backends(BaseSettings):
    """Backend URLs. An unset URL means the embedded engine for that port."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    rabbitmq_url: SecretStr | None = Field(default=None, validation_alias="RABBITMQ_URL")
    """AMQP URL of RabbitMQ; unset = embedded durable bus in the data directory. Several
    nodes of one cluster: their URLs separated by commas (core.bus.amqp_wire)."""

    queue_type: Literal["classic", "quorum"] = Field(
        default="classic", validation_alias="ODTO_QUEUE_TYPE"
    )
    """RabbitMQ's queue type for every queue (core.bus.declarations); quorum for clusters."""

    queue_delivery_limit: int = Field(
        default=DEFAULT_DELIVERY_LIMIT,
        ge=1,
        le=100_000,
        validation_alias="ODTO_QUEUE_DELIVERY_LIMIT",
    )
    """With quorum queues: deliveries of one message before RabbitMQ dead-letters it."""

    event_bundles: bool = Field(default=False, validation_alias="ODTO_EVENT_BUNDLES")
    """RabbitMQ: the lifecycle events of one publish travel to their queue as one message
    (core.bus.bundles; a proposal, off by default: docs/bundles.md)."""

    postgres_url: SecretStr | None = Field(default=None, validation_alias="POSTGRES_URL")
    """PostgreSQL URL of the job store; unset = SQLite in the data directory."""

    postgres_pool_min: int = Field(default=1, ge=1, le=10, validation_alias="ODTO_PG_POOL_MIN")
    """Connections each PostgreSQL store keeps open (of at most 10). A query API serving
    concurrent readers (the read model) wants a few warm ones: a connection opened on
    demand costs its first requests tens of milliseconds."""

    redis_url: SecretStr | None = Field(default=None, validation_alias="REDIS_URL")
    """Redis URL of the live counters; unset = embedded counters (SQLite)."""

    event_store_url: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("EVENT_STORE_URL", "MONGO_URL")
    )
    """mongodb://, postgresql:// or sqlite:// URL; unset = the job store's engine."""

    data_dir: Path = Field(default=Path(".odto"), validation_alias="ODTO_DATA_DIR")
    """Directory of the embedded profile's SQLite files."""

    namespace: str = Field(default="", validation_alias="ODTO_NAMESPACE")
    """Prefix for queue names, Redis keys and tables; tests use it to stay apart."""

    @property
    def embedded(self) -> bool:
        """True when no backend URL at all is configured."""
        return not any((self.rabbitmq_url, self.postgres_url, self.redis_url, self.event_store_url))

    def describe(self) -> dict[str, str]:
        """Which engine each port uses, without credentials (for logs and /healthz)."""

        def scheme(url: SecretStr | None, fallback: str) -> str:
            return url.get_secret_value().split(":", 1)[0] if url else fallback

        job_store = scheme(self.postgres_url, "sqlite")
        return {
            "bus": "rabbitmq" if self.rabbitmq_url else "embedded",
            "jobStore": "postgresql" if job_store.startswith("postgres") else "sqlite",
            "counters": "redis" if self.redis_url else "embedded",
            "eventStore": scheme(self.event_store_url, job_store)
            .replace("postgres", "postgresql")
            .replace("postgresqlql", "postgresql"),
        }


def load_backends() -> Backends:
    """`Backends()` from the environment; a value it refuses is a ConfigurationError that
    names the variable and what it accepts (a start-up error, not a traceback)."""
    try:
        return Backends()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']} "
            f"(got {error.get('input')!r})"
            for error in exc.errors()
        )
        raise ConfigurationError(f"invalid settings: {problems}") from exc


class HttpSettings(BaseSettings):
    """Where a service listens. Local default binds loopback; containers set 0.0.0.0."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    host: str = Field(default="127.0.0.1", validation_alias="ODTO_HOST")
    """Address to bind."""

    api_token: SecretStr | None = Field(default=None, validation_alias="ODTO_API_TOKEN")
    """One token of role `admin`, named "api-token" (core/access.py); also the bearer
    token of the read model's Alertmanager webhook."""

    tokens: SecretStr | None = Field(default=None, validation_alias="ODTO_TOKENS")
    """Named tokens with a role: `name:role:token,...` (roles viewer, operator, admin)."""

    tokens_file: Path | None = Field(default=None, validation_alias="ODTO_TOKENS_FILE")
    """A file of named tokens, one `name:role:token` a line (`#` comments, blank lines)."""

    cors_origins: str = Field(
        default=f"http://localhost:{DEFAULT_PORTS['web']},{local_url('web')}",
        validation_alias="ODTO_CORS_ORIGINS",
    )
    """Comma-separated origins allowed to call the APIs from a browser."""

    log_level: str = Field(default="info", validation_alias="ODTO_LOG_LEVEL")
    """Log level of the service."""


def environment() -> dict[str, str]:
    """A copy of the process environment, for code that takes an environment mapping
    (the TUI's configuration and checks, the environment of a child process)."""
    return dict(os.environ)


class TracingSettings(BaseSettings):
    """Whether to trace, from the standard OpenTelemetry variables (docs/tracing.md).

    Only whether tracing is asked for and the service name are read here; the
    OpenTelemetry SDK reads the details of what it was asked for itself (the endpoint,
    headers, OTEL_TRACES_SAMPLER and its argument, resource attributes).
    """

    # A variable set empty (OTEL_EXPORTER_OTLP_ENDPOINT= in a compose file) asks for nothing.
    model_config = SettingsConfigDict(
        env_prefix="", extra="ignore", populate_by_name=True, env_ignore_empty=True
    )

    otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"
        ),
    )
    """Where to send spans over OTLP/HTTP; set = tracing on."""

    exporters: str | None = Field(default=None, validation_alias="OTEL_TRACES_EXPORTER")
    """Comma-separated exporters (`otlp`, `console`, `none`); set and not `none` = on."""

    service_name: str | None = Field(default=None, validation_alias="OTEL_SERVICE_NAME")
    """`service.name` of the spans; unset = the name of the service that runs."""

    sdk_disabled: bool = Field(default=False, validation_alias="OTEL_SDK_DISABLED")
    """The standard switch that turns tracing off whatever else is set."""

    trace_file: Path | None = Field(default=None, validation_alias="ODTO_TRACE_FILE")
    """Append spans to this file as OTLP JSON lines (one ResourceSpans per line)."""

    def exporter_names(self) -> tuple[str, ...]:
        """The exporters asked for: OTEL_TRACES_EXPORTER's, else `otlp` when an endpoint is
        set; `none` asks for none."""
        if self.exporters is not None:
            names = (n.strip().lower() for n in self.exporters.split(","))
            return tuple(n for n in names if n and n != "none")
        return ("otlp",) if self.otlp_endpoint else ()

    @property
    def requested(self) -> bool:
        """True when anything asks for traces (and OTEL_SDK_DISABLED does not forbid it)."""
        if self.sdk_disabled:
            return False
        return bool(self.exporter_names() or self.trace_file)
