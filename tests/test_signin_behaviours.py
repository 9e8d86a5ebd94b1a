"""Issue 22, done when: the three sign-in integrations (Flask, Django, Starlette/FastAPI) pass
one table of behaviours, one test per row, each run against each framework's app (the drivers
of ``tests/signin_apps.py``, with the framework's test client, against LocalCognito).

Status codes and headers are compared, never bodies. Where a framework answers otherwise by
design, the expected value is written per framework in the row (Django's ``login_required``
sends every client without a session to sign in; Django's sign-out redirects with a 302).
"""

from __future__ import annotations

import time
from typing import Dict, Iterator, Optional
from urllib.parse import parse_qs, urlsplit

import pytest

from cognito_helper import (
    InvalidGrantError,
    TokenExchangeError,
    decode_verify_jwt,
    get_cognito_tokens,
    get_user_info,
)
from cognito_helper.testing import LocalCognito

from .helpers import MakeLocalCognito
from .signin_apps import FRAMEWORKS, HTML, JSON, Answer, Driver, running

_NEEDS = {"flask": ("flask", "asgiref"), "django": ("django",), "starlette": ("fastapi", "httpx")}


@pytest.fixture(params=FRAMEWORKS)
def framework(request: pytest.FixtureRequest) -> str:
    for module in _NEEDS[request.param]:
        pytest.importorskip(module)
    return str(request.param)


@pytest.fixture
def app(framework: str, make_lc: MakeLocalCognito) -> Iterator[Driver]:
    with running(framework, make_lc) as driver:
        yield driver


def refreshes(lc: LocalCognito) -> int:
    return lc.token_requests("refresh_token")


def expiring_sign_in(app: Driver, seconds_left: float) -> Answer:
    """A sign-in whose tokens have ``seconds_left`` left: a refresh is due (LocalCognito's
    clock is moved back while it issues them, then restored)."""
    app.lc.advance_clock(seconds_left - app.lc.token_lifetime)
    try:
        return app.sign_in()
    finally:
        app.lc.clock = time.time


def headers_of(*answers: Answer) -> str:
    return "\n".join(f"{k}: {v}" for a in answers for k, v in a.headers.items()) + "\n".join(
        c for a in answers for c in a.cookies.values()
    )


# -- the cookie -------------------------------------------------------------------------------


def test_only_an_opaque_id_in_the_cookie(app: Driver) -> None:
    started = app.start()
    landed = app.get(app.hosted_ui(started))
    assert landed.status == 302
    cookie = landed.cookies[app.session_cookie]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower(), cookie
    record = app.record()
    assert record is not None and record.refresh_token is not None
    told = headers_of(started, landed)
    for secret in (record.id_token, record.access_token, record.refresh_token):
        assert secret not in told
        for piece in secret.split("."):  # not even a part of one
            assert piece not in told


def test_a_new_id_at_sign_in(app: Driver) -> None:
    app.start()
    held = app.session_id()  # Django's session holds the pending sign-in; the others, none
    app.sign_in()
    first = app.session_id()
    assert first is not None and first != held
    app.sign_in()  # a browser that holds a session (an attacker's, planted) signs in again
    second = app.session_id()
    assert second is not None and second != first


# -- next, state ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "lands"),
    [
        ("//evil.example.com/", "/"),
        ("https://evil.example.com/x", "/"),
        ("/\\evil.example.com", "/"),
        ("javascript:alert(1)", "/"),
        ("x", "/"),
        (None, "/"),
        ("/page?id=3", "/page?id=3"),
    ],
)
def test_next_is_restricted_to_this_app(app: Driver, given: Optional[str], lands: str) -> None:
    landed = app.sign_in(given)
    assert (landed.status, landed.location) == (302, lands)


def test_the_state_is_single_use(app: Driver) -> None:
    callback = app.hosted_ui(app.start())
    assert app.get(callback).status == 302
    replay = app.get(callback)
    assert replay.status == 400
    assert app.session_cookie not in replay.cookies or not app.session_id()
    assert len(app.store) == 1  # nothing created by the replay
    assert app.lc.token_requests("authorization_code") == 1


def test_a_forged_state_is_400_and_creates_nothing(app: Driver) -> None:
    callback = app.hosted_ui(app.start())
    query = parse_qs(urlsplit(callback).query)
    forged = app.get(f"{urlsplit(callback).path}?code={query['code'][0]}&state=forged-state")
    assert forged.status == 400
    assert app.get(callback).status == 400  # the pending sign-in was consumed
    assert len(app.store) == 0 and app.record() is None
    assert app.lc.token_requests("authorization_code") == 0


# -- refresh ------------------------------------------------------------------------------------


def test_one_refresh_per_session_at_expiry(app: Driver) -> None:
    expiring_sign_in(app, seconds_left=30)  # under the 60 s refresh margin
    answers = app.together(16, app.token_path)
    assert [a.status for a in answers] == [200] * 16
    assert refreshes(app.lc) == 1
    for token in {app.token_of(a) for a in answers}:
        decode_verify_jwt(token, config=app.lc.config, token_use="access")
    assert app.get(app.token_path, accept=JSON).status == 200
    assert refreshes(app.lc) == 1


def test_rotation_safe(framework: str, make_lc: MakeLocalCognito) -> None:
    with running(framework, make_lc, refresh_token_rotation=True) as app:
        lc = app.lc
        expiring_sign_in(app, seconds_left=30)
        record = app.record()
        assert record is not None and record.refresh_token is not None
        first = record.refresh_token
        lc.advance_clock(30 - lc.token_lifetime)  # the refreshed tokens are due too
        try:
            assert app.get(app.token_path, accept=JSON).status == 200
        finally:
            lc.clock = time.time
        done = refreshes(lc)  # 1, or 2 where a page's session and its token each refresh
        assert done >= 1
        # The next refresh sends the rotated refresh token, once for 16 requests at a time.
        answers = app.together(16, app.token_path)
        assert [a.status for a in answers] == [200] * 16
        assert refreshes(lc) == done + 1
        record = app.record()
        assert record is not None and record.refresh_token not in (None, first)
        with pytest.raises(InvalidGrantError):  # rotated away: never sent again
            get_cognito_tokens(refresh_token=first, config=lc.config)


# -- sign-out -------------------------------------------------------------------------------


def test_sign_out_revokes(app: Driver) -> None:
    app.sign_in()
    record = app.record()
    assert record is not None and record.refresh_token is not None
    token = app.token()
    out = app.sign_out()
    assert (out.status, out.location) == (app.sign_out_status, app.lc.config.logout_url())
    assert len(app.store) == 0 and app.record() is None
    with pytest.raises(TokenExchangeError):  # userInfo refuses the access token now
        get_user_info(token, config=app.lc.config)
    with pytest.raises(InvalidGrantError):
        get_cognito_tokens(refresh_token=record.refresh_token, config=app.lc.config)
    assert app.get(app.page).status == 302  # sent to sign in again


@pytest.mark.parametrize("origin", ["https://evil.example.com", "null", "http://localhost:1"])
def test_sign_out_refuses_another_origin(app: Driver, origin: str) -> None:
    app.sign_in()
    refused = app.sign_out(origin=origin)
    assert refused.status == 403
    assert app.session_cookie not in refused.cookies
    assert len(app.store) == 1 and app.get(app.token_path, accept=JSON).status == 200
    assert ("POST", "/oauth2/revoke") not in app.lc.requests_seen


def test_sign_out_by_get_is_405(app: Driver) -> None:
    app.sign_in()
    refused = app.sign_out(method="GET")
    assert refused.status == 405
    allowed = {m.strip() for m in refused.headers["allow"].split(",")}
    assert "POST" in allowed and "GET" not in allowed  # Flask adds OPTIONS
    assert len(app.store) == 1 and app.get(app.token_path, accept=JSON).status == 200


def test_the_revocation_list_gets_the_origin_jti(app: Driver) -> None:
    app.sign_in()
    claims = decode_verify_jwt(app.token(), config=app.lc.config, token_use="access")
    assert not app.revocations.is_revoked(claims)
    app.sign_out()
    assert app.revocations.is_revoked(claims)
    assert app.revocations.is_revoked({"origin_jti": claims["origin_jti"], "jti": "another"})


# -- without a session --------------------------------------------------------------------------

#: What a client that is not a browser gets without a session. Django keeps Django's own
#: login_required (and LoginRequiredMixin): every client is redirected to LOGIN_URL.
API_CLIENT: Dict[str, int] = {"flask": 401, "starlette": 401, "django": 302}


def test_a_browser_without_a_session_is_sent_to_sign_in(app: Driver) -> None:
    sent = app.get(app.page + "?id=3", accept=HTML, session=False)
    assert sent.status == 302 and sent.location is not None
    location = urlsplit(sent.location)
    assert location.path == app.login_path and not location.netloc
    assert parse_qs(location.query)["next"] == [app.page + "?id=3"]


@pytest.mark.parametrize("accept", [JSON, "*/*", None, "application/json, text/html;q=0.5"])
def test_an_api_client_without_a_session_gets_a_401(app: Driver, accept: Optional[str]) -> None:
    answer = app.get(app.page, accept=accept, session=False)
    assert answer.status == API_CLIENT[app.name]
    if answer.status == 401:
        assert answer.location is None
