"""Who a request acts for, as audit entries name it:

- the name of the token the request presented, when tokens are configured (core/access.py;
  ODTO_API_TOKEN is the token named "api-token");
- "sso:<user> via sso-<role>" when the web service acts, with one of its single sign-on
  tokens (named sso-<role>), for a user the sign-on proxy vouched for;
- "cli:<user>" when access is open and an interface of ours says so in `X-Odto-Actor`
  (the `odto` command and the TUI send it; it is a label, not a proof: nothing is granted
  by it, and a token's name always wins over it);
- "anonymous" otherwise.
"""

from __future__ import annotations

import getpass
import re
from collections.abc import Mapping

from observatory.core.access import ANONYMOUS, DELEGATE_PREFIX, Identity

ACTOR_HEADER = "x-odto-actor"
DECLARED = re.compile(r"^cli:[A-Za-z0-9._@-]{1,64}\Z")
DELEGATED = re.compile(r"^sso:[A-Za-z0-9._@-]{1,64}\Z")


def actor_of(headers: Mapping[str, str], identity: Identity = ANONYMOUS) -> str:
    """The actor of a request with these (lower-case) headers made as `identity`."""
    if identity is not ANONYMOUS:
        declared = headers.get(ACTOR_HEADER, "")
        if identity.name.startswith(DELEGATE_PREFIX) and DELEGATED.match(declared):
            return f"{declared} via {identity.name}"
        return identity.name
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


def safe_user(name: str) -> str:
    """A user name as an actor label may carry it (other characters become `_`)."""
    return re.sub(r"[^A-Za-z0-9._@-]", "_", name)[:64] or "unknown"
