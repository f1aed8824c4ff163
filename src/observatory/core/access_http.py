"""Access at the HTTP edge: every request of an API service but /healthz, /readyz and
/metrics needs a token of the role its route's rule names (core/access.py).

`AccessMiddleware` authenticates (401 for a missing, malformed or unknown token: one
answer) and authorises from the service's route→role table, keyed by method and route
template (403 naming the role needed). The identity is left in `scope["state"]` for the
routes (audit entries name it). A route of the service with no rule is refused (fail
closed); the tests walk each app's routes so that a new route without a rule fails.
With no token configured the middleware is not installed at all.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Match, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from observatory.core.access import ANONYMOUS, Access, Denial, Identity, Role, denial
from observatory.core.http import Reply, bearer_token

OPEN_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
"""Never need a token (probes and scrapers); protect /metrics at the proxy if needed."""

RouteRoles = Mapping[tuple[str, str], Role | None]
"""(method, route template) → the role it needs; None = the route checks its own token."""

COMMON_RULES: dict[tuple[str, str], Role | None] = {
    ("GET", "/auth/whoami"): Role.VIEWER,
    ("GET", "/docs"): Role.VIEWER,
}
"""The routes every API service has besides its own (api_app.py, core/http.py add_docs);
/openapi.json and the docs' assets are not API routes and need a viewer too."""

NO_RULE = Denial(403, "This route has no access rule; it is refused until it gets one")


def identity_of(scope: Scope) -> Identity:
    """Who the request acts for (ANONYMOUS when access is open)."""
    state: dict[str, Any] = scope.get("state", {})
    identity = state.get("identity")
    return identity if isinstance(identity, Identity) else ANONYMOUS


def authorization_of(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"authorization":
            return str(value.decode("latin-1"))
    return ""


def routes_of(app: FastAPI, router: APIRouter) -> list[BaseRoute]:
    """The routes a request can reach, in the order they are tried: the service's router
    first, then the app's own (health, docs, whoami). (FastAPI keeps an included router as
    one opaque entry in `app.routes`; the router's list holds its real routes.)"""
    own = [route for route in app.router.routes if isinstance(route, Route | Mount)]
    return [*router.routes, *own]


def denial_reply(refused: Denial) -> Reply:
    return Reply(refused.status, refused.body(), refused.headers())


class AccessMiddleware:
    """401/403 before the app sees a request its token may not make."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        access: Access,
        rules: RouteRoles,
        routes: Callable[[], Sequence[BaseRoute]],
        open_paths: frozenset[str] = OPEN_PATHS,
    ) -> None:
        self.app = app
        self.access = access
        self.rules = rules
        self.routes_now = routes  # read at the first request, when every route is added
        self._routes: Sequence[BaseRoute] | None = None
        self.open_paths = open_paths

    def required(self, scope: Scope) -> Role | Denial | None:
        """The role the request's route needs, None for none, NO_RULE for a route of ours
        without a rule. Requests that match no route need a viewer (the app answers 404)."""
        method = "GET" if scope["method"] == "HEAD" else scope["method"]
        if self._routes is None:
            self._routes = self.routes_now()
        for route in self._routes:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                path = getattr(route, "path", "")
                if (method, path) in self.rules:
                    return self.rules[(method, path)]
                # Our own API routes need a rule; the docs pages and assets are reads.
                return NO_RULE if isinstance(route, APIRoute) else Role.VIEWER
        return Role.VIEWER

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.open_paths:
            await self.app(scope, receive, send)
            return
        required = self.required(scope)
        if required is None:
            await self.app(scope, receive, send)
            return
        identity = self.access.identify(bearer_token(authorization_of(scope)))
        if isinstance(required, Denial):
            refused: Denial | None = denial(identity, Role.VIEWER) or required
        else:
            refused = denial(identity, required)
        if refused is not None:
            await denial_reply(refused).response()(scope, receive, send)
            return
        scope.setdefault("state", {})["identity"] = identity
        await self.app(scope, receive, send)
