"""Where the CLI finds a running system: options whose defaults come from `CliSettings`."""

from __future__ import annotations

import argparse

from observatory.interfaces.cli.settings import CliSettings


def add_url_options(parser: argparse.ArgumentParser) -> None:
    settings = CliSettings()
    parser.add_argument("--gateway-url", default=settings.gateway_url)
    parser.add_argument("--read-model-url", default=settings.read_model_url)
    parser.add_argument("--token", default=settings.api_token, help="bearer token for writes")


def auth_headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def service_health_urls() -> dict[str, str]:
    settings = CliSettings()
    return {
        "gateway": settings.gateway_url,
        "processor": settings.processor_url,
        "metrics-engine": settings.metrics_engine_url,
        "read-model": settings.read_model_url,
        "web": settings.web_url,
    }
