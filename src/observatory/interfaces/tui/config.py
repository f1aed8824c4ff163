"""What the TUI connects to and how it starts the system, from flags and the environment.

A plain dataclass rather than pydantic-settings: the values come from argparse (which
already applies the environment as defaults) and tests build it directly.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from observatory.core.settings import local_url

DEFAULT_GATEWAY_URL = local_url("gateway")
DEFAULT_READ_MODEL_URL = local_url("read-model")

ENVIRONMENT = {
    "ODTO_GATEWAY_URL": f"gateway base URL (default {DEFAULT_GATEWAY_URL})",
    "ODTO_READ_MODEL_URL": f"read-model base URL (default {DEFAULT_READ_MODEL_URL})",
    "ODTO_UI_REGISTRY": "a UI registry JSON file to use instead of the packaged one",
    "ODTO_TOKEN": "your token, when the system has tokens (ODTO_API_TOKEN works too)",
    "ODD_DASHBOARD_LAUNCH_CMD": "command run by L instead of `odto up --json`",
    "ODD_DASHBOARD_CLUSTER_LAUNCH_CMD": "command run by K instead of `odto cluster up --json`",
}


@dataclass(frozen=True, slots=True)
class TuiConfig:
    """Everything the app needs to know before it starts."""

    gateway_url: str = DEFAULT_GATEWAY_URL
    read_model_url: str = DEFAULT_READ_MODEL_URL
    registry_path: Path | None = None
    """A UI registry file; None means the one shipped in the package."""
    api_token: str | None = None
    launch_command: tuple[str, ...] | None = None
    """The local launch command; None means `odto up --json`."""
    cluster_command: tuple[str, ...] | None = None
    """The cluster launch command; None means `odto cluster up --json`."""
    refresh_seconds: float = 2.0
    stream: bool = True
    """Also follow the read model's /stream for instant updates (polling continues)."""
    read_timeout: float = 3.0
    """Seconds a read-model request may take."""
    submit_timeout: float = 5.0
    """Seconds a gateway submission or retry may take."""
    job_rows: int = 30
    """How many jobs the dashboard asks for."""

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: object) -> TuiConfig:
        """Settings from `env`; keyword arguments that are not None win."""

        def command(name: str) -> tuple[str, ...] | None:
            raw = env.get(name, "").strip()
            return tuple(shlex.split(raw)) if raw else None

        registry = env.get("ODTO_UI_REGISTRY", "").strip()
        values: dict[str, object] = {
            "gateway_url": env.get("ODTO_GATEWAY_URL") or DEFAULT_GATEWAY_URL,
            "read_model_url": env.get("ODTO_READ_MODEL_URL") or DEFAULT_READ_MODEL_URL,
            "registry_path": Path(registry) if registry else None,
            "api_token": env.get("ODTO_TOKEN") or env.get("ODTO_API_TOKEN") or None,
            "launch_command": command("ODD_DASHBOARD_LAUNCH_CMD"),
            "cluster_command": command("ODD_DASHBOARD_CLUSTER_LAUNCH_CMD"),
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]  # each key holds its field's type; a mixed dict cannot say so
