"""Where the CLI finds a running system: options whose defaults come from `CliSettings`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from observatory.interfaces.cli.settings import CliSettings


def add_url_options(parser: argparse.ArgumentParser) -> None:
    settings = CliSettings()
    parser.add_argument("--gateway-url", default=settings.gateway_url)
    parser.add_argument("--read-model-url", default=settings.read_model_url)
    add_token_options(parser, settings.api_token)


def read_token_file(path: str) -> str:
    """--token-file: the file's first line (a trailing newline is not part of the token)."""
    try:
        token = Path(path).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {path}: {exc.strerror}") from None
    if not token:
        raise argparse.ArgumentTypeError(f"{path} is empty")
    return token


def add_token_options(parser: argparse.ArgumentParser, default: str | None) -> None:
    """--token and --token-file (both set `args.token`; the default is $ODTO_TOKEN)."""
    tokens = parser.add_mutually_exclusive_group()
    tokens.add_argument("--token", default=default, help="your bearer token (default $ODTO_TOKEN)")
    tokens.add_argument(
        "--token-file",
        dest="token",
        type=read_token_file,
        metavar="FILE",
        help="read the bearer token from FILE (keeps it out of the process list)",
    )


def access_hint(status: int, body: Any) -> str | None:
    """What to do about a 401 or 403, for the message the user sees."""
    if status == 401:
        return "the system needs a token: set ODTO_TOKEN or pass --token-file FILE"
    if status == 403:
        needed = body.get("requiredRole") if isinstance(body, dict) else None
        return (
            f"your token's role is too low: this needs a token with the {needed or 'higher'} role"
        )
    return None


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
