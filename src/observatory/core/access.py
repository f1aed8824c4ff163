"""Who may do what: named tokens with a role (SPEC §13 "Access").

Roles are ordered: `viewer` reads, `operator` also submits, retries, cancels and replays,
`admin` also purges. Tokens come from `ODTO_TOKENS` (`name:role:token,...`), from the
file `ODTO_TOKENS_FILE` (one `name:role:token` a line; blank lines and lines starting
with `#` are skipped) and from `ODTO_API_TOKEN` (one token of role `admin`, named
"api-token"). With no token at all, access is open: every request acts as `anonymous`
with every role, exactly as before roles existed.

A presented token is compared with every configured token in constant time
(`hmac.compare_digest`), whatever matches, so the answer's timing says nothing about
which token (or which prefix) was close. Tokens are never logged nor echoed: a malformed
entry is refused naming its source and entry number only.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum

from observatory.core.errors import ConfigurationError
from observatory.core.settings import HttpSettings

API_TOKEN_NAME = "api-token"  # noqa: S105 — the name ODTO_API_TOKEN goes by, not a secret
NAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}\Z")
DELEGATE_PREFIX = "sso-"
"""Tokens named sso-viewer, sso-operator, sso-admin act for the users a sign-on proxy
vouches for (services/web/signin.py); requests with them may name that user."""
TOKEN = re.compile(r"^[\x21-\x7e]{1,512}\Z")  # printable ASCII without spaces


class Role(IntEnum):
    """What a token may do; each role includes the ones below it."""

    VIEWER = 1
    OPERATOR = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Role | None:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            return None


ROLE_NAMES = ", ".join(role.label for role in Role)


class AccessConfigError(ValueError):
    """A token entry that cannot be used; the message names the entry, never its token."""


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a request acts for: a token's name and role (or anonymous, when access is open)."""

    name: str
    role: Role

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "role": self.role.label}


ANONYMOUS = Identity("anonymous", Role.ADMIN)
"""Every request when no token is configured: access is open, as it was before roles."""


@dataclass(frozen=True, slots=True)
class TokenEntry:
    name: str
    role: Role
    secret: bytes


def parse_entries(entries: Iterable[tuple[int, str]], source: str) -> list[TokenEntry]:
    """`(number, "name:role:token")` pairs → entries; AccessConfigError naming the first bad
    one. The token may itself contain `:` (only the first two separate fields)."""
    parsed: list[TokenEntry] = []
    for number, raw in entries:
        where = f"{source} entry {number}"
        parts = raw.strip().split(":", 2)
        if len(parts) != 3:
            raise AccessConfigError(f"{where}: expected name:role:token")
        name, role_text, token = (part.strip() for part in parts)
        if not NAME.match(name):
            raise AccessConfigError(
                f"{where}: the name must be 1-64 of A-Z a-z 0-9 . _ @ - (got {name[:64]!r})"
            )
        role = Role.parse(role_text)
        if role is None:
            raise AccessConfigError(f"{where} ({name}): the role must be one of {ROLE_NAMES}")
        if not TOKEN.match(token):
            raise AccessConfigError(
                f"{where} ({name}): the token must be 1-512 printable characters without spaces"
            )
        parsed.append(TokenEntry(name, role, token.encode()))
    return parsed


def entries_of_list(text: str) -> list[tuple[int, str]]:
    """ODTO_TOKENS: comma-separated entries, numbered from 1 (empty entries skipped)."""
    return [(n, item) for n, item in enumerate(text.split(","), start=1) if item.strip()]


def entries_of_file(text: str) -> list[tuple[int, str]]:
    """ODTO_TOKENS_FILE: one entry a line, numbered by line; blanks and `#` lines skipped."""
    return [
        (n, line)
        for n, line in enumerate(text.splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]


class Access:
    """The configured tokens, and the checks every service makes with them."""

    def __init__(self, entries: Sequence[TokenEntry] = ()) -> None:
        names: set[str] = set()
        secrets: set[bytes] = set()
        for entry in entries:
            if entry.name in names:
                raise AccessConfigError(f"token name {entry.name!r} is configured twice")
            if entry.secret in secrets:
                raise AccessConfigError(f"token {entry.name!r} has the same token as another one")
            names.add(entry.name)
            secrets.add(entry.secret)
        self._entries = tuple(entries)
        self.enabled = bool(self._entries)
        """False when no token is configured: everything stays open."""

    @classmethod
    def configure(
        cls,
        *,
        tokens: str | None = None,
        tokens_file_text: str | None = None,
        tokens_file_name: str = "ODTO_TOKENS_FILE",
        api_token: str | None = None,
    ) -> Access:
        """The access table from the three settings (any may be absent)."""
        entries: list[TokenEntry] = []
        if api_token:
            entries += parse_entries([(1, f"{API_TOKEN_NAME}:admin:{api_token}")], "ODTO_API_TOKEN")
        if tokens:
            entries += parse_entries(entries_of_list(tokens), "ODTO_TOKENS")
        if tokens_file_text is not None:
            entries += parse_entries(entries_of_file(tokens_file_text), tokens_file_name)
        return cls(entries)

    def identify(self, token: str | None) -> Identity | None:
        """The identity of a presented token: ANONYMOUS when access is open, None when the
        token is missing, malformed or unknown (one answer for all three)."""
        if not self.enabled:
            return ANONYMOUS
        if token is None:
            return None
        presented = token.encode("utf-8", "replace")
        found: TokenEntry | None = None
        for entry in self._entries:  # every entry, whatever matched: constant time
            if hmac.compare_digest(presented, entry.secret):
                found = entry
        return Identity(found.name, found.role) if found else None

    def delegate_token(self, role: Role) -> str | None:
        """The token named `sso-<role>` (the web service acts with it for a user its trusted
        sign-on proxy vouches for), None when there is none."""
        for entry in self._entries:
            if entry.name == f"{DELEGATE_PREFIX}{role.label}":
                return entry.secret.decode()
        return None


@dataclass(frozen=True, slots=True)
class Denial:
    """Why a request is refused: 401 (no valid token) or 403 (role too low)."""

    status: int
    error: str
    required: Role | None = None

    def body(self) -> dict[str, str]:
        if self.required is None:
            return {"error": self.error}
        return {"error": self.error, "requiredRole": self.required.label}

    def headers(self) -> Mapping[str, str]:
        return {"WWW-Authenticate": "Bearer"} if self.status == 401 else {}


UNAUTHENTICATED = Denial(401, "A valid bearer token is required (set ODTO_TOKEN or sign in)")


def denial(identity: Identity | None, required: Role) -> Denial | None:
    """None when `identity` may do what needs `required`; else the 401 or 403 answer."""
    if identity is None:
        return UNAUTHENTICATED
    if identity.role >= required:
        return None
    return Denial(
        403,
        f"This needs the {required.label} role; token {identity.name!r} has {identity.role.label}",
        required,
    )


def load_access(http: HttpSettings) -> Access:
    """The access table of the shared HTTP settings; ConfigurationError (naming the bad
    entry, never its token) when an entry or the tokens file cannot be used."""
    file_text: str | None = None
    file_name = "ODTO_TOKENS_FILE"
    if http.tokens_file is not None:
        file_name = f"ODTO_TOKENS_FILE ({http.tokens_file})"
        try:
            file_text = http.tokens_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"{file_name} cannot be read: {type(exc).__name__}") from None
    try:
        return Access.configure(
            tokens=http.tokens.get_secret_value() if http.tokens else None,
            tokens_file_text=file_text,
            tokens_file_name=file_name,
            api_token=http.api_token.get_secret_value() if http.api_token else None,
        )
    except AccessConfigError as exc:
        raise ConfigurationError(str(exc)) from None
