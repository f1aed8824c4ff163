"""Where the bootstrap page (/launcher) may send the browser once the system answers.

`?dashboard=` is a redirect target taken from the query string, so it is checked like
one: a path on this very origin, a URL on this origin, or the launch URL of a UI registry
entry. Anything else is refused before the page is served (the page checks again itself,
for when it is opened from disk). Values a browser would read differently from Python's
URL parser (backslashes, control characters, blanks, `//host` paths) are refused outright.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from observatory.core.contracts.registry import Registry

# Browsers drop tabs/newlines from URLs and read "\" as "/": "/\evil.example" is off-site.
_AMBIGUOUS = re.compile(r"[\\\x00-\x20\x7f]")


def _origin(url: str) -> tuple[str, str] | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, f"{parts.hostname.lower()}:{port}"


def allowed_dashboard(target: str, *, own_url: str, registry: Registry) -> bool:
    """True when the launcher may redirect to `target`: a same-origin path, a URL on the
    origin of `own_url` (the page's own address), or a registry entry's launch URL."""
    if not target or _AMBIGUOUS.search(target):
        return False
    if target.startswith("/"):
        return not target.startswith("//")
    try:
        origin = _origin(target)
    except ValueError:  # a port out of range or a malformed host
        return False
    if origin is None:
        return False
    if origin == _origin(own_url):
        return True
    return target in {entry.url() for entry in registry.entries}
