"""Bearer tokens, checked the same way by every service (core/http.py): the scheme in any
case, the token compared whole, a 401 with `WWW-Authenticate: Bearer` otherwise."""

from __future__ import annotations

import pytest

from observatory.core.http import bearer_token, is_json, token_denied


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer s3cret", "s3cret"),
        ("bearer s3cret", "s3cret"),
        ("BEARER s3cret", "s3cret"),
        ("  Bearer   s3cret  ", "s3cret"),
        ("Basic s3cret", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("s3cret", None),
        ("", None),
    ],
)
def test_bearer_scheme_is_case_insensitive(header: str, token: str | None) -> None:
    assert bearer_token(header) == token


def test_with_a_token_configured_only_that_token_passes() -> None:
    assert token_denied("s3cret", "bearer s3cret") is None
    assert token_denied("s3cret", "BEARER s3cret") is None
    for header in ("", "Bearer nope", "Bearer s3cret2", "Bearer s3cre", "Basic s3cret"):
        denied = token_denied("s3cret", header)
        assert denied is not None, header
        assert denied.status == 401
        assert denied.body == {"error": "A valid bearer token is required"}
        assert denied.headers["WWW-Authenticate"] == "Bearer"


def test_without_a_token_configured_everything_passes() -> None:
    assert token_denied(None, "") is None
    assert token_denied("", "Bearer whatever") is None


def test_json_media_types() -> None:
    assert is_json("application/json")
    assert is_json("Application/JSON; charset=utf-8")
    assert is_json("application/problem+json")
    assert not is_json("text/plain")
    assert not is_json("application/x-www-form-urlencoded")
    assert not is_json("")
