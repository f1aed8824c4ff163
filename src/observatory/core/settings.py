"""Shared settings: which backends to use, where the embedded data lives, how to bind.

Each service has its own pydantic-settings class that nests these. Nothing here is read
at import time: `Backends()` reads the environment when a service is being composed.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PORTS = {
    "gateway": 3000,
    "processor": 8000,
    "metrics-engine": 8090,
    "read-model": 8080,
    "web": 8081,
}


class Backends(BaseSettings):
    """Backend URLs. An unset URL means the embedded engine for that port."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    rabbitmq_url: SecretStr | None = Field(default=None, validation_alias="RABBITMQ_URL")
    """AMQP URL of RabbitMQ; unset = embedded durable bus in the data directory."""

    postgres_url: SecretStr | None = Field(default=None, validation_alias="POSTGRES_URL")
    """PostgreSQL URL of the job store; unset = SQLite in the data directory."""

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


class HttpSettings(BaseSettings):
    """Where a service listens. Local default binds loopback; containers set 0.0.0.0."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    host: str = Field(default="127.0.0.1", validation_alias="ODTO_HOST")
    """Address to bind."""

    api_token: SecretStr | None = Field(default=None, validation_alias="ODTO_API_TOKEN")
    """When set, write routes require `Authorization: Bearer <token>`."""

    cors_origins: str = Field(
        default="http://localhost:8081,http://127.0.0.1:8081", validation_alias="ODTO_CORS_ORIGINS"
    )
    """Comma-separated origins allowed to call the APIs from a browser."""

    log_level: str = Field(default="info", validation_alias="ODTO_LOG_LEVEL")
    """Log level of the service."""


def port_setting(service: str) -> int:
    """The default port of `service`."""
    return DEFAULT_PORTS[service]
