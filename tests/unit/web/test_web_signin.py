"""Sign-in on the web service (services/web/signin.py): the form, the HttpOnly
SameSite=Strict cookie, the proxy turning it into `Authorization`, the CSRF check on
cookie writes, sign-out, the gate in front of the dashboard, and the single sign-on
header trusted only from the configured proxy."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from tests.unit.web.upstreams import GATEWAY, READ_MODEL, Upstreams

from observatory.core.settings import HttpSettings
from observatory.services.web import WebSettings, create_app
from observatory.services.web.signin import COOKIE

TOKENS = "vera:viewer:viewer-token-1,otto:operator:operator-token-2,sso-operator:operator:sso-3"
SAME_SITE = {"Sec-Fetch-Site": "same-origin"}
BASE = "http://dashboard.test"


def web_settings(**extra: object) -> WebSettings:
    return WebSettings(
        http=HttpSettings(tokens=SecretStr(TOKENS)),
        read_model_url=READ_MODEL,
        gateway_url=GATEWAY,
        **extra,  # type: ignore[arg-type]  # pydantic settings fields by name
    )


async def client_for(
    settings: WebSettings, upstream_client: httpx.AsyncClient, peer: str = "203.0.113.7"
) -> httpx.AsyncClient:
    app = create_app(settings, http_client=upstream_client)
    transport = httpx.ASGITransport(app=app, client=(peer, 5555))
    return httpx.AsyncClient(transport=transport, base_url=BASE)


@pytest.fixture
async def signed(
    upstreams: Upstreams, upstream_client: httpx.AsyncClient
) -> AsyncIterator[httpx.AsyncClient]:
    upstreams.handlers["read-model.test"] = lambda r: httpx.Response(200, json={"ok": True})
    upstreams.handlers["gateway.test"] = lambda r: httpx.Response(202, json={"jobId": "j"})
    async with await client_for(web_settings(), upstream_client) as client:
        yield client


async def sign_in(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        "/signin",
        content=f"token={token}",
        headers={"Content-Type": "application/x-www-form-urlencoded", **SAME_SITE},
    )


async def test_the_dashboard_sends_a_stranger_to_the_sign_in_form(
    signed: httpx.AsyncClient,
) -> None:
    answer = await signed.get("/")
    assert answer.status_code == 303
    assert answer.headers["location"] == "signin"
    form = await signed.get("/signin")
    assert form.status_code == 200
    assert 'name="token"' in form.text
    assert (await signed.get("/css/dashboard.css")).status_code == 200  # the form's style
    assert (await signed.get("/auth/whoami")).status_code == 401


async def test_signing_in_sets_an_httponly_strict_cookie_and_opens_the_dashboard(
    signed: httpx.AsyncClient,
) -> None:
    answer = await sign_in(signed, "operator-token-2")
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=operator-token-2;")
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    assert "Secure" not in cookie  # served over http here
    assert (await signed.get("/")).status_code == 200
    who = await signed.get("/auth/whoami")
    assert who.json() == {"name": "otto", "role": "operator", "access": "tokens", "via": "cookie"}


async def test_an_unknown_token_stays_on_the_form_with_a_message(
    signed: httpx.AsyncClient,
) -> None:
    answer = await sign_in(signed, "guessed-token")
    assert answer.status_code == 401
    assert "Unknown token" in answer.text
    assert "set-cookie" not in answer.headers
    assert "guessed-token" not in answer.text


async def test_the_proxy_turns_the_cookie_into_the_authorization_header(
    signed: httpx.AsyncClient, upstreams: Upstreams
) -> None:
    await sign_in(signed, "viewer-token-1")
    await signed.get("/api/stats")
    sent = upstreams.seen[-1]
    assert sent.headers["authorization"] == "Bearer viewer-token-1"
    assert "cookie" not in sent.headers  # the token goes up once, as the header


async def test_a_cross_site_cookie_write_is_refused_and_a_same_site_one_passes(
    signed: httpx.AsyncClient, upstreams: Upstreams
) -> None:
    await sign_in(signed, "operator-token-2")
    seen = len(upstreams.seen)
    for headers in (
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "https://evil.example"},
        {},
    ):
        refused = await signed.post("/gateway/jobs", json={"type": "X"}, headers=headers)
        assert refused.status_code == 403, headers
    assert len(upstreams.seen) == seen  # nothing reached the gateway
    same = await signed.post("/gateway/jobs", json={"type": "X"}, headers={"Origin": BASE})
    assert same.status_code == 202
    assert upstreams.seen[-1].headers["authorization"] == "Bearer operator-token-2"


async def test_cross_site_sign_in_and_sign_out_are_refused(signed: httpx.AsyncClient) -> None:
    forged = await signed.post(
        "/signin",
        content="token=operator-token-2",
        headers={"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://x.test"},
    )
    assert forged.status_code == 403
    assert "set-cookie" not in forged.headers
    await sign_in(signed, "operator-token-2")
    assert (
        await signed.post("/signout", headers={"Sec-Fetch-Site": "cross-site"})
    ).status_code == 403
    assert (await signed.get("/")).status_code == 200


async def test_signing_out_clears_the_cookie(signed: httpx.AsyncClient) -> None:
    await sign_in(signed, "viewer-token-1")
    answer = await signed.post("/signout", headers=SAME_SITE)
    assert answer.status_code == 303
    assert answer.headers["location"] == "signin"
    assert f'{COOKIE}=""' in answer.headers["set-cookie"]
    assert (await signed.get("/")).status_code == 303


async def test_an_invalid_cookie_goes_back_to_sign_in(signed: httpx.AsyncClient) -> None:
    signed.cookies.set(COOKIE, "revoked-token")
    assert (await signed.get("/")).status_code == 303
    assert (await signed.get("/auth/whoami")).status_code == 401


async def test_the_cookie_is_secure_when_configured(
    upstreams: Upstreams, upstream_client: httpx.AsyncClient
) -> None:
    async with await client_for(web_settings(cookie_secure=True), upstream_client) as client:
        answer = await sign_in(client, "viewer-token-1")
    assert "Secure" in answer.headers["set-cookie"]


async def test_without_tokens_the_dashboard_is_open(
    upstreams: Upstreams, upstream_client: httpx.AsyncClient
) -> None:
    settings = WebSettings(read_model_url=READ_MODEL, gateway_url=GATEWAY)
    async with await client_for(settings, upstream_client) as client:
        assert (await client.get("/")).status_code == 200
        who = await client.get("/auth/whoami")
        assert who.json()["access"] == "open"


SSO = {
    "sso_groups_header": "X-Forwarded-Groups",
    "sso_trusted_proxies": "10.0.0.0/24",
    "sso_group_roles": "odto-ops=operator,odto-read=viewer",
}


async def test_the_sso_header_is_trusted_from_the_proxy_only(
    upstreams: Upstreams, upstream_client: httpx.AsyncClient
) -> None:
    upstreams.handlers["gateway.test"] = lambda r: httpx.Response(202, json={})
    headers = {"X-Forwarded-Groups": "staff,odto-ops", "X-Forwarded-Preferred-Username": "kim"}
    async with await client_for(web_settings(**SSO), upstream_client, peer="10.0.0.5") as proxy:
        who = await proxy.get("/auth/whoami", headers=headers)
        assert who.json() == {
            "name": "sso:kim",
            "role": "operator",
            "access": "tokens",
            "via": "sso",
        }
        sent = await proxy.post("/gateway/jobs", json={}, headers={**headers, "Origin": BASE})
        assert sent.status_code == 202
        assert upstreams.seen[-1].headers["authorization"] == "Bearer sso-3"
        assert upstreams.seen[-1].headers["x-odto-actor"] == "sso:kim"
    async with await client_for(web_settings(**SSO), upstream_client, peer="10.9.9.9") as other:
        assert (await other.get("/auth/whoami", headers=headers)).status_code == 401
        assert (await other.get("/", headers=headers)).status_code == 303


async def test_the_token_never_reaches_the_logs(
    signed: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    import structlog

    with structlog.testing.capture_logs() as logs:
        await sign_in(signed, "operator-token-2")
        await sign_in(signed, "wrong-token-9")
        await signed.get("/api/stats")
        await signed.post("/gateway/jobs", json={"type": "X"}, headers=SAME_SITE)
        await signed.post("/signout", headers=SAME_SITE)
    printed = capsys.readouterr()
    assert any(entry.get("path") == "/signin" for entry in logs)  # the requests were logged
    text = repr(logs) + printed.out + printed.err
    assert "operator-token-2" not in text
    assert "wrong-token-9" not in text
