"""Issue 22, Starlette and FastAPI: ``cognito_helper.starlette.CognitoLogin`` with FastAPI's
test client against LocalCognito over loopback HTTP: the sign-in routes, the cookies, the
``current_user`` and ``access_token`` dependencies, sign-out, and a plain Starlette app."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from typing import Any, Dict, List
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import cognito_helper
from cognito_helper import (
    ConfigError,
    InvalidGrantError,
    decode_verify_jwt,
    get_cognito_tokens,
    get_user_info,
    revoke_token,
)
from cognito_helper.sessions import MemorySessionStore, RevocationList
from cognito_helper.starlette import CognitoLogin
from cognito_helper.testing import LocalCognito

from .helpers import EMAIL, PASSWORD, USER, MakeLocalCognito
from .sessions_support import CountingStore
from .snippets import snippets_for
from .starlette_support import (
    BASE,
    CALLBACK,
    HTML,
    JSON,
    PENDING_COOKIE,
    SESSION_COOKIE,
    browser,
    callback_path,
    cleared,
    every_header_and_cookie,
    expiring_sign_in,
    make_app,
    record_of,
    set_cookies,
    sign_in,
    start_sign_in,
)

SESSION_ID = re.compile(r"[A-Za-z0-9_-]{43}")


def refreshes(lc: LocalCognito) -> int:
    return lc.token_requests("refresh_token")


# -- sign-in ----------------------------------------------------------------------------------


def test_sign_in_sets_an_opaque_http_only_session_cookie_and_returns_to_next(
    lc: LocalCognito,
) -> None:
    store = MemorySessionStore()
    client = browser(make_app(CognitoLogin(lc.config, store=store)))
    start = start_sign_in(client, "/orders?id=3")
    assert start.headers["location"].startswith(lc.config.authorize_url + "?")
    redirect = lc.sign_in(start.headers["location"], USER, PASSWORD)
    done = client.get(callback_path(redirect))

    assert done.status_code == 302
    assert done.headers["location"] == "/orders?id=3"
    cookie = set_cookies(done)[SESSION_COOKIE]
    assert SESSION_ID.fullmatch(cookie.value)
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    assert cookie["secure"] == ""  # plain http on a loopback host: a browser would not send it
    assert cleared(done, PENDING_COOKIE)  # the pending sign-in is used up
    assert len(store) == 1

    # No token, code, state or verifier reaches a cookie or a header the app sends.
    record = record_of(store, cookie.value)
    assert record is not None
    told = every_header_and_cookie([start, done])
    for secret in (record.id_token, record.access_token, record.refresh_token):
        assert secret is not None and secret not in told
    code = parse_qs(urlsplit(redirect).query)["code"][0]
    assert code not in told


def test_the_pending_sign_in_cookie_is_short_lived_http_only_and_not_the_state(
    lc: LocalCognito,
) -> None:
    client = browser(make_app(CognitoLogin(lc.config)))
    start = start_sign_in(client)
    pending = set_cookies(start)[PENDING_COOKIE]
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert SESSION_ID.fullmatch(pending.value)
    assert pending["max-age"] == "600"
    assert pending["httponly"] is True and pending["samesite"] == "Lax"
    for secret in ("state", "nonce", "code_challenge"):
        assert query[secret][0] not in start.headers["set-cookie"]
    assert start.headers["cache-control"] == "no-store"


def test_the_cookies_are_secure_when_the_callback_is_https(make_lc: MakeLocalCognito) -> None:
    lc = make_lc(
        redirect_uri="https://app.example.com/auth/cb", logout_uri="https://app.example.com/"
    )
    login = CognitoLogin(lc.config)
    client = browser(make_app(login), base_url="https://app.example.com")
    start = start_sign_in(client)
    assert set_cookies(start)[PENDING_COOKIE]["secure"] is True
    done = client.get(callback_path(lc.sign_in(start.headers["location"], USER, PASSWORD)))
    assert done.status_code == 302, done.text  # the callback is at redirect_uri's path
    assert set_cookies(done)[SESSION_COOKIE]["secure"] is True
    assert client.get("/me", headers=JSON).json()["user"]["cognito:username"] == USER


def test_a_new_session_id_at_sign_in_whatever_the_browser_held(lc: LocalCognito) -> None:
    store = MemorySessionStore()
    client = browser(make_app(CognitoLogin(lc.config, store=store)))
    planted = "A" * 43  # what an attacker would fix in the victim's browser
    client.cookies.set(SESSION_COOKIE, planted)
    first = set_cookies(sign_in(client, lc))[SESSION_COOKIE].value
    second = set_cookies(sign_in(client, lc))[SESSION_COOKIE].value
    assert len({planted, first, second}) == 3
    assert record_of(store, planted) is None


# -- the callback refuses what it did not start -----------------------------------------------


def test_a_replayed_callback_is_a_400_and_creates_nothing(lc: LocalCognito) -> None:
    store = MemorySessionStore()
    client = browser(make_app(CognitoLogin(lc.config, store=store)))
    start = start_sign_in(client)
    pending_id = set_cookies(start)[PENDING_COOKIE].value
    back = callback_path(lc.sign_in(start.headers["location"], USER, PASSWORD))
    assert client.get(back).status_code == 302
    exchanges = lc.token_requests("authorization_code")

    client.cookies.clear()
    client.cookies.set(PENDING_COOKIE, pending_id)  # the same browser, the same redirect
    replayed = client.get(back)
    assert replayed.status_code == 400
    assert SESSION_COOKIE not in set_cookies(replayed)
    assert cleared(replayed, PENDING_COOKIE)
    assert len(store) == 1  # the first sign-in's only
    assert lc.token_requests("authorization_code") == exchanges  # the code was not sent again


def test_a_callback_this_browser_did_not_start_is_a_400_and_creates_nothing(
    lc: LocalCognito,
) -> None:
    store = MemorySessionStore()
    login = CognitoLogin(lc.config, store=store)
    victim, attacker = browser(make_app(login)), browser(make_app(login))
    # The attacker's own sign-in, its redirect sent to the victim's browser (login CSRF).
    start = start_sign_in(attacker)
    back = callback_path(lc.sign_in(start.headers["location"], USER, PASSWORD))
    no_cookie = victim.get(back)
    start_sign_in(victim)  # a sign-in of the victim's own, whose state is another
    other_state = victim.get(back)
    for answer in (no_cookie, other_state):
        assert answer.status_code == 400
        assert answer.text == "This sign-in could not be completed. Sign in again."
        assert SESSION_COOKIE not in set_cookies(answer)
    assert len(store) == 0
    assert lc.token_requests("authorization_code") == 0


@pytest.mark.parametrize(
    "query",
    ["error=access_denied&state={state}", "state={state}", "code=abc&state=", "code=abc"],
)
def test_a_callback_with_an_error_no_code_or_no_state_is_a_400(
    lc: LocalCognito, query: str
) -> None:
    store = MemorySessionStore()
    client = browser(make_app(CognitoLogin(lc.config, store=store)))
    start = start_sign_in(client)
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    answer = client.get(f"{CALLBACK}?{query.format(state=state)}")
    assert answer.status_code == 400
    assert len(store) == 0
    assert lc.token_requests() == 0


# -- the dependencies -------------------------------------------------------------------------


def test_a_browser_without_a_session_is_sent_to_sign_in_and_comes_back(lc: LocalCognito) -> None:
    client = browser(make_app(CognitoLogin(lc.config)))
    sent = client.get("/me?tab=orders&x=%2F", headers=HTML)
    assert sent.status_code == 302
    assert sent.headers["location"] == "/login?next=%2Fme%3Ftab%3Dorders%26x%3D%252F"
    start = client.get(sent.headers["location"])
    done = client.get(callback_path(lc.sign_in(start.headers["location"], USER, PASSWORD)))
    assert done.headers["location"] == "/me?tab=orders&x=%2F"
    page = client.get(done.headers["location"], headers=HTML)
    assert page.status_code == 200
    assert page.json()["user"]["cognito:username"] == USER


@pytest.mark.parametrize("accept", ["application/json", "*/*", None, "text/html;q=0"])
def test_a_client_that_does_not_accept_html_gets_a_401(lc: LocalCognito, accept: Any) -> None:
    client = browser(make_app(CognitoLogin(lc.config)))
    headers = {} if accept is None else {"Accept": accept}
    if accept is None:
        client.headers.pop("accept", None)
    for path in ("/me", "/token", "/staff"):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 401
        assert "location" not in answer.headers


def test_current_user_is_the_id_tokens_claims(lc: LocalCognito) -> None:
    client = browser(make_app(CognitoLogin(lc.config)))
    sign_in(client, lc)
    user = client.get("/me", headers=JSON).json()["user"]
    assert user["cognito:username"] == USER
    assert user["email"] == EMAIL
    assert user["token_use"] == "id"
    assert user["aud"] == lc.config.client_id


def test_groups_refuse_other_users_with_403(lc: LocalCognito) -> None:
    client = browser(make_app(CognitoLogin(lc.config)))
    sign_in(client, lc)
    assert client.get("/staff", headers=JSON).status_code == 200  # the user is in "staff"
    refused = client.get("/admin", headers=HTML)
    assert refused.status_code == 403  # signed in, in none of the groups: no sign-in loop
    assert "location" not in refused.headers


@pytest.mark.parametrize("groups", ["", [], [""], ["a b"], [3]])
def test_bad_groups_are_refused_when_the_dependency_is_made(lc: LocalCognito, groups: Any) -> None:
    login = CognitoLogin(lc.config)
    with pytest.raises((ValueError, TypeError)):
        login.login_required(groups=groups)


def test_access_token_returns_a_valid_token_without_refreshing(lc: LocalCognito) -> None:
    client = browser(make_app(CognitoLogin(lc.config)))
    sign_in(client, lc)
    token = client.get("/token", headers=JSON).json()["token"]
    assert get_user_info(token, config=lc.config)["username"] == USER
    assert client.get("/token", headers=JSON).json()["token"] == token
    assert refreshes(lc) == 0


def test_access_token_is_refreshed_when_due_once(lc: LocalCognito) -> None:
    client = browser(make_app(CognitoLogin(lc.config)))
    expiring_sign_in(client, lc, seconds_left=30)  # under the 60 s refresh margin
    first = client.get("/token", headers=JSON).json()["token"]
    assert refreshes(lc) == 1
    assert decode_verify_jwt(first, config=lc.config, token_use="access")["exp"] > 30
    assert client.get("/token", headers=JSON).json()["token"] == first
    assert refreshes(lc) == 1


def test_concurrent_requests_of_one_session_at_expiry_make_one_refresh_with_rotation(
    make_lc: MakeLocalCognito,
) -> None:
    lc = make_lc(refresh_token_rotation=True)
    login = CognitoLogin(lc.config)
    app = make_app(login)
    client = browser(app)
    expiring_sign_in(client, lc, seconds_left=30)
    cookie = {SESSION_COOKIE: client.cookies[SESSION_COOKIE]}

    async def together() -> List[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE, cookies=cookie) as c:
            return await asyncio.gather(*(c.get("/token", headers=JSON) for _ in range(12)))

    answers = asyncio.run(together())
    assert [a.status_code for a in answers] == [200] * 12
    assert refreshes(lc) == 1  # one grant: no request sent the rotated-away refresh token
    tokens = {a.json()["token"] for a in answers}
    assert len(tokens) <= 2  # the held one (still valid) while the refresh ran, or the new one
    assert client.get("/token", headers=JSON).json()["token"] in tokens
    assert refreshes(lc) == 1


def test_one_store_read_per_request_whatever_the_dependencies(lc: LocalCognito) -> None:
    store = CountingStore(MemorySessionStore())
    client = browser(make_app(CognitoLogin(lc.config, store=store)))
    sign_in(client, lc)
    store.calls.clear()
    answer = client.get("/both", headers=JSON)
    assert answer.status_code == 200
    assert store.calls == ["load"]


def test_a_refresh_token_revoked_elsewhere_ends_the_session(lc: LocalCognito) -> None:
    store = MemorySessionStore()
    client = browser(make_app(CognitoLogin(lc.config, store=store)))
    expiring_sign_in(client, lc, seconds_left=30)
    record = record_of(store, client.cookies[SESSION_COOKIE])
    assert record is not None and record.refresh_token is not None
    revoke_token(record.refresh_token, config=lc.config)  # signed out on another device

    sent = client.get("/token?x=1", headers=HTML)
    assert sent.status_code == 302
    assert sent.headers["location"] == "/login?next=%2Ftoken%3Fx%3D1"
    assert cleared(sent, SESSION_COOKIE)
    assert len(store) == 0
    assert client.get("/me", headers=JSON).status_code == 401


def test_a_session_cookie_the_store_does_not_know_is_cleared(lc: LocalCognito) -> None:
    client = browser(make_app(CognitoLogin(lc.config)))
    client.cookies.set(SESSION_COOKIE, "C" * 43)
    for headers in (HTML, JSON):
        answer = client.get("/me", headers=headers)
        assert answer.status_code in (302, 401)
        assert cleared(answer, SESSION_COOKIE)


def test_cognito_down_at_the_callback_is_a_503_with_retry_after_and_creates_nothing(
    lc: LocalCognito,
) -> None:
    store = MemorySessionStore()
    client = browser(make_app(CognitoLogin(lc.config, store=store)))
    start = start_sign_in(client)
    back = callback_path(lc.sign_in(start.headers["location"], USER, PASSWORD))
    with lc.fail_token_endpoint(503):
        answer = client.get(back)
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert SESSION_COOKIE not in set_cookies(answer)
    assert len(store) == 0


def test_cognito_down_when_a_refresh_is_due_serves_the_token_held(lc: LocalCognito) -> None:
    store = MemorySessionStore()
    client = browser(make_app(CognitoLogin(lc.config, store=store)))
    expiring_sign_in(client, lc, seconds_left=30)  # due, still valid for 30 s
    record = record_of(store, client.cookies[SESSION_COOKIE])
    assert record is not None
    with lc.fail_token_endpoint(500):
        answer = client.get("/token", headers=JSON)
    assert answer.status_code == 200 and answer.json()["token"] == record.access_token
    assert client.get("/token", headers=JSON).json()["token"] != record.access_token


# -- sign-out ---------------------------------------------------------------------------------


def test_sign_out_revokes_deletes_clears_and_sends_the_browser_to_cognitos_logout(
    lc: LocalCognito,
) -> None:
    store = MemorySessionStore()
    revocations = RevocationList()
    client = browser(make_app(CognitoLogin(lc.config, store=store, revocations=revocations)))
    sign_in(client, lc)
    record = record_of(store, client.cookies[SESSION_COOKIE])
    assert record is not None and record.refresh_token is not None
    token = client.get("/token", headers=JSON).json()["token"]

    out = client.post("/logout", headers={"Origin": BASE})
    assert out.status_code == 303
    location = urlsplit(out.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{lc.url}/logout"
    assert parse_qs(location.query) == {
        "client_id": [lc.config.client_id],
        "logout_uri": [lc.config.logout_uri],
    }
    assert cleared(out, SESSION_COOKIE)
    assert len(store) == 0
    with pytest.raises(InvalidGrantError):  # revoked at Cognito
        get_cognito_tokens(refresh_token=record.refresh_token, config=lc.config)
    claims = decode_verify_jwt(token, config=lc.config, token_use="access")
    assert revocations.is_revoked(claims)  # what offline verification asks of the list
    assert client.get("/me", headers=JSON).status_code == 401


@pytest.mark.parametrize(
    ("method", "headers", "status"),
    [
        ("GET", {"Origin": BASE}, 405),
        ("PUT", {"Origin": BASE}, 405),
        ("POST", {"Origin": "https://evil.example"}, 403),
        ("POST", {"Origin": "null"}, 403),
        ("POST", {"Referer": "https://evil.example/page"}, 403),
        ("POST", {}, 403),
        ("POST", {"Origin": "http://localhost:8001"}, 403),
    ],
)
def test_a_sign_out_by_get_or_from_another_origin_is_refused_and_ends_nothing(
    lc: LocalCognito, method: str, headers: Dict[str, str], status: int
) -> None:
    store = MemorySessionStore()
    client = browser(make_app(CognitoLogin(lc.config, store=store)))
    sign_in(client, lc)
    answer = client.request(method, "/logout", headers=headers)
    assert answer.status_code == status
    if status == 405:
        assert answer.headers["allow"] == "POST"
    assert "set-cookie" not in answer.headers
    assert len(store) == 1
    assert ("POST", "/oauth2/revoke") not in lc.requests_seen
    assert client.get("/me", headers=JSON).status_code == 200


def test_a_same_origin_referer_signs_out_without_origin(lc: LocalCognito) -> None:
    client = browser(make_app(CognitoLogin(lc.config)))
    sign_in(client, lc)
    assert client.post("/logout", headers={"Referer": f"{BASE}/me"}).status_code == 303
    assert ("POST", "/oauth2/revoke") in lc.requests_seen


def test_a_sign_out_without_a_session_still_goes_to_cognitos_logout(lc: LocalCognito) -> None:
    client = browser(make_app(CognitoLogin(lc.config)))
    out = client.post("/logout", headers={"Origin": BASE})
    assert out.status_code == 303
    assert out.headers["location"] == lc.config.logout_url()


# -- plain Starlette, options -----------------------------------------------------------------


def test_a_plain_starlette_app_uses_the_routes_and_awaits_the_dependencies(
    lc: LocalCognito,
) -> None:
    login = CognitoLogin(lc.config, login_path="/auth/login", logout_path="/auth/logout")

    async def me(request: Request) -> JSONResponse:
        user = await login.current_user(request)
        token = await login.access_token(request)
        return JSONResponse({"user": user["cognito:username"], "token": token})

    client = browser(Starlette(routes=[*login.routes, Route("/me", me)]))
    sent = client.get("/me", headers=HTML)
    assert (sent.status_code, sent.headers["location"]) == (302, "/auth/login?next=%2Fme")
    assert client.get("/me", headers=JSON).status_code == 401
    start = client.get(sent.headers["location"])
    done = client.get(callback_path(lc.sign_in(start.headers["location"], USER, PASSWORD)))
    assert done.headers["location"] == "/me"
    page = client.get("/me", headers=HTML).json()
    assert page["user"] == USER
    assert get_user_info(page["token"], config=lc.config)["username"] == USER
    assert client.post("/auth/logout", headers={"Origin": BASE}).status_code == 303
    assert client.get("/me", headers=JSON).status_code == 401


def test_a_missing_redirect_uri_or_logout_uri_is_a_config_error(lc: LocalCognito) -> None:
    for missing in ({"redirect_uri": None}, {"logout_uri": None}):
        config = dataclasses.replace(lc.config, **missing)
        with pytest.raises(ConfigError):
            CognitoLogin(config)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"cookie_name": "a b"}, ValueError),
        ({"cookie_name": ""}, ValueError),
        ({"cookie_name": "x;y"}, ValueError),
        ({"cookie_name": 3}, TypeError),
        ({"login_path": "login"}, ValueError),
        ({"login_path": "/login?x=1"}, ValueError),
        ({"logout_path": "//logout"}, ValueError),
        ({"logout_path": "/login"}, ValueError),
        ({"login_path": CALLBACK}, ValueError),
        ({"login_path": 3}, TypeError),
        ({"store": object()}, TypeError),
        ({"idle_timeout": 0}, ValueError),
        ({"refresh_margin": -1}, ValueError),
        ({"revocations": object()}, TypeError),
    ],
)
def test_bad_options_are_refused_at_construction(
    lc: LocalCognito, options: Dict[str, Any], error: type
) -> None:
    with pytest.raises(error):
        CognitoLogin(lc.config, **options)


def test_repr_shows_no_secret(make_lc: MakeLocalCognito) -> None:
    lc = make_lc(client_secret="s3cr3t-value-of-the-client-0123456789")
    shown = repr(CognitoLogin(lc.config))
    assert "s3cr3t" not in shown
    assert lc.config.client_id in shown


# -- the README's snippets --------------------------------------------------------------------


def test_the_readme_snippets(lc: LocalCognito) -> None:
    cognito_helper.configure(lc.config)
    fastapi_app, starlette_app = snippets_for(test_the_readme_snippets)  # "Starlette and FastAPI"

    client = browser(fastapi_app.run(module="readme_fastapi_login")["app"])
    sent = client.get("/", headers=HTML)
    assert (sent.status_code, sent.headers["location"]) == (302, "/login?next=%2F")
    assert client.get("/", headers=JSON).status_code == 401
    start = client.get(sent.headers["location"])
    assert client.get(callback_path(lc.sign_in(start.headers["location"], USER, PASSWORD)))
    home = client.get("/", headers=HTML)
    assert home.status_code == 200 and f"hello {USER}" in home.text
    assert client.get("/profile", headers=JSON).json()["username"] == USER
    assert client.get("/admin", headers=JSON).status_code == 403  # the user is in "staff" only
    assert client.post("/logout", headers={"Origin": BASE}).status_code == 303
    assert client.get("/", headers=JSON).status_code == 401

    client = browser(starlette_app.run(module="readme_starlette_login")["app"])
    assert client.get("/", headers=JSON).status_code == 401
    sign_in(client, lc, "/")
    assert client.get("/", headers=HTML).text == f"hello {USER}"
