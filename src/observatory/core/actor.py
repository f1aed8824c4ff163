"""Who a request acts for, as audit entries name it (until roles come with issue 13).

- "api-token" when ODTO_API_TOKEN is configured and the request presents it;
- "cli:<user>" when an interface of ours says so in `X-Odto-Actor` (the `odto` command
  and the TUI send it; it is a label, not a proof: nothing is granted by it);
- "anonymous" otherwise.
"""

from __future__ import annotations

import getpass
import re
from collections.abc import Mapping

from observatory.core.http import bearer_token

ACTOR_HEADER = "x-odto-actor"
DECLARED = re.compile(r"^cli:[A-Za-z0-9._@-]{1,64}\Z")


def actor_of(headers: Mapping[str, str], *, token: str | None = None) -> str:
    """The actor of a request with these (lower-case) headers; `token` is the configured
    API token, if any."""
    if token and bearer_token(headers.get("authorization", "")) == token:
        return "api-token"
    declared = headers.get(ACTOR_HEADER, "")
    return declared if DECLARED.match(declared) else "anonymous"


def cli_actor() -> str:
    """The actor our interfaces declare: cli:<login name>."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    clean = re.sub(r"[^A-Za-z0-9._@-]", "_", user)[:64] or "unknown"
    return f"cli:{clean}"
