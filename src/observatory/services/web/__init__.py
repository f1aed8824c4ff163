"""Web service (:8081): serves the dashboard and proxies `/api` and `/gateway`.

    create_app(settings, *, http_client=None)  the ASGI app (app.py)
    WebSettings                                 WEB_PORT, GATEWAY_URL, READ_MODEL_URL, ODTO_HOST

`odto serve web` (or `odto up`) runs it.

The dashboard itself is package data under `static/` (no CDN, no build step).
"""

from observatory.services.web.app import create_app
from observatory.services.web.settings import WebSettings

__all__ = ["WebSettings", "create_app"]
