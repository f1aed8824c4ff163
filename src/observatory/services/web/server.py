"""Running the web service: what `odto serve web` and `odto up` call.

`await serve(settings)` runs until cancelled (or until uvicorn receives SIGINT/SIGTERM).
`build_server(settings)` returns the uvicorn server without starting it, for callers that
run several services in one event loop and manage their lifetimes themselves.
"""

from __future__ import annotations

import httpx
import uvicorn
from starlette.applications import Starlette

from observatory.services.web.app import create_app
from observatory.services.web.settings import WebSettings


def build_app_from_env() -> Starlette:
    """The app configured from the environment (for `uvicorn --factory`)."""
    return create_app(WebSettings())


def build_server(
    settings: WebSettings, *, http_client: httpx.AsyncClient | None = None
) -> uvicorn.Server:
    """A uvicorn server for the web service, not yet started."""
    config = uvicorn.Config(
        create_app(settings, http_client=http_client),
        host=settings.host,
        port=settings.port,
        log_config=None,  # the canonical request line comes from our middleware
        access_log=False,
        log_level=settings.http.log_level.lower(),
        lifespan="on",
        timeout_graceful_shutdown=3,  # open event streams would otherwise hold shutdown
    )
    return uvicorn.Server(config)


async def serve(settings: WebSettings, *, http_client: httpx.AsyncClient | None = None) -> None:
    """Serve the dashboard and proxies until the server is stopped."""
    await build_server(settings, http_client=http_client).serve()
