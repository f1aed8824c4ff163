"""Sign-in on the dashboard: the token lives in an HttpOnly, SameSite=Strict cookie, and the
proxy turns it into the `Authorization` header towards the gateway and the read model.

- `GET /signin` serves the form (signin.html); `POST /signin` checks the token against the
  same table the APIs use (core/access.py) and sets the cookie, or shows the form again
  with "unknown token" (401); `POST /signout` clears it.
- Cookie-authenticated writes (the sign-in/out forms and every non-GET through the
  proxies) must come from this origin: `Sec-Fetch-Site: same-origin` or an `Origin` equal
  to the page's own (SameSite=Strict already keeps the cookie off cross-site requests;
  this is the second lock). A request that brings its own `Authorization` header is left
  alone: it holds no cookie, so there is nothing to forge.
- Behind a single sign-on proxy (docs/operating.md, "Single sign-on"), the groups header
  `ODTO_SSO_GROUPS_HEADER` is trusted only from `ODTO_SSO_TRUSTED_PROXIES`; the groups map
  to a role through `ODTO_SSO_GROUP_ROLES`, and the web service calls the APIs with a
  configured token of that role.
- With no token configured none of this applies: the dashboard is open as it always was.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from html import escape
from importlib import resources
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from observatory.core.access import ANONYMOUS, Access, Identity, Role
from observatory.core.actor import safe_user
from observatory.core.http import bearer_token, json_error
from observatory.services.web.settings import WebSettings

COOKIE = "odto_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_FORM = 4096
PACKAGE = "observatory.services.web"

# Paths the browser may load before signing in: the form and what it is drawn with.
OPEN_PREFIXES = ("/css/", "/js/", "/vendor/")
PROXIED = ("/api/", "/gateway/")
SIGNIN_FROM_ROOT = "signin"  # relative: every gated page sits at the root
OPEN_PATHS = frozenset(
    {"/healthz", "/readyz", "/metrics", "/signin", "/signout", "/favicon.svg", "/auth/whoami"}
)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a browser request acts for, and the token the proxy forwards for it."""

    identity: Identity
    token: str | None
    via: str  # "open" | "cookie" | "sso" | "header"


def parse_group_roles(text: str) -> dict[str, Role]:
    """`group=role,...` (ODTO_SSO_GROUP_ROLES); ValueError naming a bad entry."""
    mapping: dict[str, Role] = {}
    for number, item in enumerate(text.split(","), start=1):
        if not item.strip():
            continue
        group, sep, role_text = item.strip().rpartition("=")
        role = Role.parse(role_text)
        if not sep or not group.strip() or role is None:
            raise ValueError(
                f"ODTO_SSO_GROUP_ROLES entry {number}: expected group=viewer|operator|admin"
            )
        mapping[group.strip()] = role
    return mapping


def parse_networks(text: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """`ODTO_SSO_TRUSTED_PROXIES`: addresses or CIDR blocks, comma-separated."""
    return tuple(
        ipaddress.ip_network(item.strip(), strict=False) for item in text.split(",") if item.strip()
    )


class SignIn:
    """The web service's view of access: who a request is, the cookie, the CSRF check."""

    def __init__(self, access: Access, settings: WebSettings) -> None:
        self.access = access
        self.settings = settings
        self.sso_header = (settings.sso_groups_header or "").lower() or None
        self.sso_user_header = settings.sso_user_header.lower()
        self.group_roles = parse_group_roles(settings.sso_group_roles)
        self.proxies = parse_networks(settings.sso_trusted_proxies)
        page = resources.files(PACKAGE).joinpath("static", "signin.html")
        self.page = page.read_text(encoding="utf-8")

    @property
    def enabled(self) -> bool:
        return self.access.enabled

    def _from_trusted_proxy(self, request: Request) -> bool:
        host = request.client.host if request.client else ""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.proxies)

    def _sso(self, request: Request) -> Caller | None:
        if self.sso_header is None or not self._from_trusted_proxy(request):
            return None
        groups = request.headers.get(self.sso_header)
        if groups is None:
            return None
        roles = [
            self.group_roles[g.strip()] for g in groups.split(",") if g.strip() in self.group_roles
        ]
        if not roles:
            return None
        role = max(roles)
        token = self.access.delegate_token(role)
        if token is None:
            return None
        user = safe_user(request.headers.get(self.sso_user_header, "").strip() or "unknown")
        return Caller(Identity(f"sso:{user}", role), token, "sso")

    def caller(self, request: Request) -> Caller | None:
        """Who the request acts for; None when access is on and it shows no valid token."""
        if not self.enabled:
            return Caller(ANONYMOUS, None, "open")
        sso = self._sso(request)
        if sso is not None:
            return sso
        header = bearer_token(request.headers.get("authorization", ""))
        if header is not None:
            identity = self.access.identify(header)
            return Caller(identity, header, "header") if identity else None
        cookie = request.cookies.get(COOKIE)
        if cookie:
            identity = self.access.identify(cookie)
            return Caller(identity, cookie, "cookie") if identity else None
        return None

    @staticmethod
    def same_origin(request: Request) -> bool:
        """True when the browser says the request comes from this site's own pages."""
        fetch_site = request.headers.get("sec-fetch-site")
        if fetch_site is not None:
            return fetch_site in ("same-origin", "none")
        origin = request.headers.get("origin")
        if origin is None or origin == "null":
            return False  # a browser always sends one of the two with a POST
        # The host only: behind a TLS-terminating proxy the page is https, this side http.
        return urlsplit(origin).netloc == request.headers.get("host", "")

    def _secure(self, request: Request) -> bool:
        if self.settings.cookie_secure is not None:
            return self.settings.cookie_secure
        return request.url.scheme == "https"

    def form(self, message: str = "", status: int = 200) -> HTMLResponse:
        return HTMLResponse(
            self.page.replace("{{message}}", escape(message)),
            status_code=status,
            headers={"Cache-Control": "no-store"},
        )

    async def show(self, request: Request) -> Response:
        if not self.enabled:
            return RedirectResponse("./", status_code=303)
        return self.form()

    async def submit(self, request: Request) -> Response:
        if not self.same_origin(request):
            return json_error(403, "Cross-site sign-in refused")
        if not self.enabled:
            return RedirectResponse("./", status_code=303)
        body = await request.body()
        if len(body) > MAX_FORM:
            return self.form("The form is too large.", 413)
        fields = parse_qs(body.decode("utf-8", "replace"), max_num_fields=4)
        token = (fields.get("token") or [""])[0].strip()
        if not token or self.access.identify(token) is None:
            return self.form("Unknown token: check it and try again.", 401)
        response = RedirectResponse("./", status_code=303)
        response.set_cookie(
            COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=self._secure(request),
            path="/",
            max_age=self.settings.session_seconds,
        )
        return response

    async def sign_out(self, request: Request) -> Response:
        if not self.same_origin(request):
            return json_error(403, "Cross-site sign-out refused")
        response = RedirectResponse("signin", status_code=303)
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
        return response

    async def whoami(self, request: Request) -> Response:
        caller = self.caller(request)
        if caller is None:
            return json_error(401, "Not signed in", headers={"Cache-Control": "no-store"})
        return JSONResponse(
            {
                **caller.identity.as_dict(),
                "access": "tokens" if self.enabled else "open",
                "via": caller.via,
            },
            headers={"Cache-Control": "no-store"},
        )


class SignInGate:
    """ASGI middleware: with tokens configured, the dashboard's pages need a signed-in
    caller (else 303 to the sign-in form); the form, its styles and scripts, the probes and
    the proxies (whose upstreams answer 401 themselves) pass."""

    def __init__(self, app: ASGIApp, *, signin: SignIn) -> None:
        self.app = app
        self.signin = signin

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if (
            scope["type"] != "http"
            or not self.signin.enabled
            or path in OPEN_PATHS
            or path.startswith(OPEN_PREFIXES)
            or path.startswith(PROXIED)
        ):
            await self.app(scope, receive, send)
            return
        if self.signin.caller(Request(scope)) is not None:
            await self.app(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD"):
            response: Response = RedirectResponse(SIGNIN_FROM_ROOT, status_code=303)
        else:
            response = json_error(401, "Sign in first")
        await response(scope, receive, send)
