"""Where the CLI finds a running system: options with environment defaults."""

from __future__ import annotations

import argparse
import os


def add_url_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--gateway-url", default=os.environ.get("GATEWAY_URL", "http://127.0.0.1:3000")
    )
    parser.add_argument(
        "--read-model-url", default=os.environ.get("READ_MODEL_URL", "http://127.0.0.1:8080")
    )
    parser.add_argument(
        "--token", default=os.environ.get("ODTO_API_TOKEN"), help="bearer token for writes"
    )


def auth_headers(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


def service_health_urls() -> dict[str, str]:
    def url(env: str, port: int) -> str:
        return os.environ.get(env, f"http://127.0.0.1:{port}")

    return {
        "gateway": url("GATEWAY_URL", 3000),
        "processor": url("PROCESSOR_URL", 8000),
        "metrics-engine": url("METRICS_ENGINE_URL", 8090),
        "read-model": url("READ_MODEL_URL", 8080),
        "web": url("WEB_URL", 8081),
    }
