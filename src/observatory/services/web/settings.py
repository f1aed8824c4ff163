"""Settings of the web service: where it listens and which upstreams it proxies to."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from observatory.core.settings import HttpSettings, local_url, port_setting


class WebSettings(BaseSettings):
    """The web service's configuration, read from the environment when composed."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", populate_by_name=True)

    http: HttpSettings = Field(default_factory=HttpSettings)
    """Bind address (ODTO_HOST), log level and the other settings every HTTP service shares."""

    port: int = Field(default=port_setting("web"), validation_alias="WEB_PORT", ge=0, le=65535)
    """Port of the dashboard and its proxies (0 = any free port)."""

    gateway_url: str = Field(default=local_url("gateway"), validation_alias="GATEWAY_URL")
    """Base URL of the gateway; `/gateway/*` is forwarded there."""

    read_model_url: str = Field(default=local_url("read-model"), validation_alias="READ_MODEL_URL")
    """Base URL of the read model; `/api/*` is forwarded there."""

    upstream_timeout: float = Field(default=10.0, validation_alias="WEB_UPSTREAM_TIMEOUT", gt=0)
    """Seconds to wait for an upstream's answer before replying 504."""

    connect_timeout: float = Field(default=3.0, validation_alias="WEB_CONNECT_TIMEOUT", gt=0)
    """Seconds to wait for a connection to an upstream."""

    max_body_bytes: int = Field(default=1024 * 1024, validation_alias="WEB_MAX_BODY_BYTES", gt=0)
    """Largest request body forwarded upstream; larger bodies get 413 here."""

    ui_registry: Path | None = Field(default=None, validation_alias="ODTO_UI_REGISTRY")
    """Optional override of the packaged UI registry (the launcher may redirect to its URLs)."""

    cookie_secure: bool | None = Field(default=None, validation_alias="ODTO_COOKIE_SECURE")
    """The sign-in cookie's Secure flag; unset = Secure when the page was served over https."""

    session_seconds: int = Field(default=12 * 3600, validation_alias="ODTO_SESSION_SECONDS", gt=0)
    """How long the sign-in cookie lasts before the dashboard asks to sign in again."""

    sso_groups_header: str | None = Field(default=None, validation_alias="ODTO_SSO_GROUPS_HEADER")
    """Single sign-on (off by default): the header the proxy sets with the user's groups,
    e.g. X-Forwarded-Groups; trusted only from ODTO_SSO_TRUSTED_PROXIES."""

    sso_user_header: str = Field(
        default="X-Forwarded-Preferred-Username", validation_alias="ODTO_SSO_USER_HEADER"
    )
    """The header naming the signed-in user (shown and sent as the actor label)."""

    sso_trusted_proxies: str = Field(default="", validation_alias="ODTO_SSO_TRUSTED_PROXIES")
    """Addresses or CIDR blocks of the sign-on proxy; the groups header from anyone else is
    ignored."""

    sso_group_roles: str = Field(default="", validation_alias="ODTO_SSO_GROUP_ROLES")
    """`group=role,...`: which group gets which role (the highest role wins)."""

    @property
    def host(self) -> str:
        """Address to bind."""
        return self.http.host
