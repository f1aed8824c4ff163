"""Security and caching headers for everything the web service serves itself.

The dashboard loads only its own scripts and styles, so its Content-Security-Policy
forbids inline script: even a string that slipped into markup could not run. The
stand-alone launcher page must work from file://, so it carries inline CSS/JS and gets
its own, still closed, policy. Proxied responses keep the upstream's headers.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
# The launcher polls the read model on another port (or wherever ?readModel= says).
LAUNCHER_CSP = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data:; connect-src *; base-uri 'none'; frame-ancestors 'none'"
)
PROXIED = ("/api/", "/gateway/")


class SecurityHeaders:
    """ASGI middleware adding CSP, nosniff and revalidation to the service's own responses."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(PROXIED):
            await self.app(scope, receive, send)
            return
        policy = LAUNCHER_CSP if path in {"/launcher", "/launcher.html"} else DASHBOARD_CSP

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("content-security-policy", policy)
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("referrer-policy", "same-origin")
                # No build step hashes the file names, so browsers must revalidate (ETag).
                headers.setdefault("cache-control", "no-cache")
            await send(message)

        await self.app(scope, receive, send_wrapper)
