"""Web service (:8081): serves the dashboard and proxies `/api` and `/gateway`.

    create_app(settings, *, http_client=None)  the ASGI app (app.py)
    serve(settings) / build_server(settings)    running it (server.py)
    WebSettings                                 WEB_PORT, GATEWAY_URL, READ_MODEL_URL, ODTO_HOST

The dashboard itself is package data under `static/` (no CDN, no build step).
"""

from observatory.services.web.app import create_app
from observatory.services.web.server import build_app_from_env, build_server, serve
from observatory.services.web.settings import WebSettings

__all__ = ["WebSettings", "build_app_from_env", "build_server", "create_app", "serve"]
