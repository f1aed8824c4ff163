"""Named tokens with a role (core/access.py): parsing ODTO_TOKENS / ODTO_TOKENS_FILE /
ODTO_API_TOKEN, refusals that name the entry and never the token, constant-time compare
over every token, and the role order."""

from __future__ import annotations

import hmac
from pathlib import Path

import pytest
from pydantic import SecretStr

from observatory.core.access import (
    ANONYMOUS,
    Access,
    AccessConfigError,
    Identity,
    Role,
    denial,
    load_access,
)
from observatory.core.errors import ConfigurationError
from observatory.core.settings import HttpSettings

TOKENS = "ann:viewer:view-token-1,otto:operator:op:token:2,ada:admin:admin-token-3"


def test_tokens_map_to_their_name_and_role() -> None:
    access = Access.configure(tokens=TOKENS)
    assert access.enabled
    assert access.identify("view-token-1") == Identity("ann", Role.VIEWER)
    assert access.identify("op:token:2") == Identity("otto", Role.OPERATOR)  # ':' in a token
    assert access.identify("admin-token-3") == Identity("ada", Role.ADMIN)
    assert access.identify("view-token") is None  # a prefix is no token
    assert access.identify("") is None
    assert access.identify(None) is None


def test_the_api_token_is_one_admin_token_named_api_token() -> None:
    access = Access.configure(api_token="legacy", tokens="ann:viewer:view-token-1")
    assert access.identify("legacy") == Identity("api-token", Role.ADMIN)
    assert access.identify("view-token-1") == Identity("ann", Role.VIEWER)


def test_without_any_token_everything_is_open() -> None:
    access = Access.configure()
    assert not access.enabled
    assert access.identify(None) is ANONYMOUS
    assert denial(access.identify(None), Role.ADMIN) is None


def test_roles_are_ordered_and_a_low_role_gets_403_naming_the_role_needed() -> None:
    viewer = Identity("ann", Role.VIEWER)
    assert denial(viewer, Role.VIEWER) is None
    refused = denial(viewer, Role.OPERATOR)
    assert refused is not None
    assert refused.status == 403
    assert refused.body()["requiredRole"] == "operator"
    assert "operator" in refused.body()["error"]
    assert denial(Identity("ada", Role.ADMIN), Role.OPERATOR) is None
    missing = denial(None, Role.VIEWER)
    assert missing is not None
    assert missing.status == 401


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ("ann:viewer:tok-1,bob:boss:SECRET-VALUE", "ODTO_TOKENS entry 2 (bob): the role"),
        ("ann:viewer", "ODTO_TOKENS entry 1: expected name:role:token"),
        ("a n:viewer:SECRET-VALUE", "ODTO_TOKENS entry 1: the name"),
        ("ann:viewer:SECRET VALUE", "ODTO_TOKENS entry 1 (ann): the token"),
        ("ann:viewer:SECRET-VALUE,ann:admin:other-tok", "configured twice"),
        ("ann:viewer:SECRET-VALUE,bob:admin:SECRET-VALUE", "the same token"),
    ],
)
def test_a_malformed_entry_is_refused_naming_it_never_its_token(entries: str, message: str) -> None:
    with pytest.raises(AccessConfigError) as caught:
        Access.configure(tokens=entries)
    assert message in str(caught.value)
    assert "SECRET" not in str(caught.value)


def test_the_tokens_file_has_one_entry_a_line_with_comments(tmp_path: Path) -> None:
    path = tmp_path / "tokens"
    path.write_text("# team tokens\n\nann:viewer:view-token-1\n  otto:operator:op-token-2\n")
    access = load_access(HttpSettings(tokens_file=path))
    assert access.identify("op-token-2") == Identity("otto", Role.OPERATOR)
    path.write_text("ann:viewer:view-token-1\n# x\nbob:chief:SECRET-VALUE\n")
    with pytest.raises(ConfigurationError) as caught:
        load_access(HttpSettings(tokens_file=path))
    assert f"ODTO_TOKENS_FILE ({path}) entry 3 (bob)" in str(caught.value)
    assert "SECRET" not in str(caught.value)


def test_a_missing_tokens_file_stops_start_up(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="cannot be read"):
        load_access(HttpSettings(tokens_file=tmp_path / "absent"))


def test_settings_hold_the_tokens_as_secrets() -> None:
    http = HttpSettings(tokens=SecretStr(TOKENS))
    assert "view-token-1" not in repr(http)
    assert load_access(http).identify("view-token-1") == Identity("ann", Role.VIEWER)


def test_every_token_is_compared_in_constant_time_whatever_matches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """hmac.compare_digest runs against every configured token, also after a match."""
    calls: list[bytes] = []
    compare = hmac.compare_digest

    def recording(a: bytes, b: bytes) -> bool:
        calls.append(b)
        return compare(a, b)

    access = Access.configure(tokens=TOKENS)
    monkeypatch.setattr(hmac, "compare_digest", recording)  # the module access.py calls
    assert access.identify("view-token-1") == Identity("ann", Role.VIEWER)  # the first one
    assert len(calls) == 3
    calls.clear()
    assert access.identify("nothing-like-it") is None
    assert len(calls) == 3


def test_the_actor_is_the_token_s_name_and_a_sign_on_user_only_through_an_sso_token() -> None:
    from observatory.core.actor import actor_of

    declared = {"x-odto-actor": "sso:kim"}
    assert actor_of(declared, Identity("sso-operator", Role.OPERATOR)) == "sso:kim via sso-operator"
    assert actor_of(declared, Identity("otto", Role.OPERATOR)) == "otto"
    assert actor_of({"x-odto-actor": "cli:eve"}, Identity("otto", Role.OPERATOR)) == "otto"
    assert actor_of({"x-odto-actor": "cli:eve"}) == "cli:eve"  # open access: a label
    assert actor_of(declared) == "anonymous"
