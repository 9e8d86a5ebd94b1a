"""Issue 21, Flask: ``CognitoLogin`` and ``login_required`` through Flask's test client, against
LocalCognito over loopback HTTP (hosted UI, token, revoke and userInfo endpoints, JWKS) and, for
the Redis rows, a real ``redis-server`` (``tests/redis_server.py``).

Each bullet of the issue's Flask section has its tests here: the routes (sign-in with ``next``,
the callback at the path of ``redirect_uri``, sign-out by a same-origin POST), the options,
``login.user`` and ``login.access_token()``, ``login_required`` (a browser is sent to sign in and
comes back, a JSON client gets a 401, ``groups=`` a 403, an ended session sends the user to sign
in), the decorator order, and the README's snippet.
"""

from __future__ import annotations

import socket
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

import pytest

pytest.importorskip("flask")
pytest.importorskip("asgiref")  # Flask's async views: flask[async]

import flask
from flask import Blueprint, Flask

from cognito_helper import (
    CognitoConfig,
    ConfigError,
    InvalidGrantError,
    decode_verify_jwt,
    get_cognito_tokens,
    get_user_info,
    revoke_token,
)
from cognito_helper.flask import CognitoLogin, login_required, require_token
from cognito_helper.sessions import (
    MemorySessionStore,
    RedisSessionStore,
    RevocationList,
    SessionRecord,
    cookie_value,
    storage_key,
)
from cognito_helper.testing import LocalCognito

from .helpers import PASSWORD, USER, MakeLocalCognito
from .redis_server import RedisServer, redis_server_path
from .sessions_support import Clock, CountingStore, run_together
from .snippets import snippets_for

ORIGIN = "http://localhost"  # Flask's test client is http://localhost/
CALLBACK = f"{ORIGIN}/cognito_redirect"
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON_ONLY = {"Accept": "application/json"}
SECRET = "flask-login-store-secret-0123456789abcdef"
LIFETIME = 300  # seconds: LocalCognito's token lifetime where a test moves the clock
BOUND = 60


@pytest.fixture
def lc(make_lc: MakeLocalCognito) -> LocalCognito:
    return make_lc(redirect_uri=CALLBACK, logout_uri=f"{ORIGIN}/", token_lifetime=LIFETIME)


class Site:
    """A Flask app signed in through CognitoLogin, its test client, and the provider.

    ``/`` is public (it shows ``login.user``); ``/orders`` is ``@login_required()``,
    ``/plain`` is ``@login_required``, ``/admin`` needs the group ``admin`` and ``/staff`` the
    group ``staff`` (the standard user's); ``/health`` never asks who is signed in; ``/api``
    returns ``/oauth2/userInfo`` for the access token ``login.access_token()`` hands out.
    """

    def __init__(self, lc: LocalCognito, **options: Any) -> None:
        self.lc = lc
        self.clock = Clock()
        self.store: Any = options.pop("store", None) or MemorySessionStore()
        self.app = Flask(__name__)
        self.login = CognitoLogin(
            self.app, config=lc.config, store=self.store, clock=self.clock, **options
        )
        login = self.login

        @self.app.get("/")
        def home() -> Any:
            user = login.user
            return {"user": None if user is None else user["cognito:username"]}

        @self.app.get("/orders")
        @login_required()
        def orders() -> Any:
            assert login.user is not None
            return {"user": login.user["cognito:username"], "path": flask.request.full_path}

        @self.app.get("/plain")
        @login_required
        def plain() -> Any:
            return "plain"

        @self.app.get("/admin")
        @login_required(groups=["admin"])
        def admin() -> Any:
            return "admin"

        @self.app.get("/staff")
        @login_required(groups="staff")
        def staff() -> Any:
            return "staff"

        @self.app.get("/health")
        def health() -> Any:
            return "ok"

        @self.app.get("/api")
        @login_required
        def api() -> Any:
            return get_user_info(login.access_token(), config=lc.config)

        self.client = self.app.test_client()

    @property
    def cookie_name(self) -> str:
        return self.login.cookie_name

    def start(self, next_path: Optional[str] = "/orders") -> Any:
        query = {} if next_path is None else {"next": next_path}
        return self.client.get("/login", query_string=query, headers=BROWSER)

    def sign_in(
        self, next_path: Optional[str] = "/orders", *, seconds_left: Optional[float] = None
    ) -> Any:
        """The whole sign-in, as a browser makes it: the callback's response. With
        ``seconds_left``, the tokens have that much of their lifetime left (LocalCognito's
        clock is moved back while it issues them)."""
        started = self.start(next_path)
        assert started.status_code == 302, started.data
        if seconds_left is not None:
            self.lc.advance_clock(seconds_left - self.lc.token_lifetime)
        try:
            callback = self.lc.sign_in(started.headers["Location"], USER, PASSWORD)
            assert callback.startswith(CALLBACK + "?")
            return self.client.get(callback, headers=BROWSER)  # the code exchange
        finally:
            self.lc.clock = time.time

    def session_id(self) -> Optional[str]:
        cookie = self.client.get_cookie(self.cookie_name)
        return None if cookie is None else cookie.value

    def record(self) -> Optional[SessionRecord]:
        sid = self.session_id()
        return None if sid is None else self.store.load(storage_key(sid))

    def sign_out(self, **headers: str) -> Any:
        return self.client.post("/logout", headers={"Origin": ORIGIN, **headers})


@pytest.fixture
def site(lc: LocalCognito) -> Site:
    return Site(lc)


def set_cookies(response: Any) -> Dict[str, str]:
    """Each Set-Cookie header of ``response`` by cookie name."""
    found = {}
    for header in response.headers.getlist("Set-Cookie"):
        found[header.split("=", 1)[0]] = header
    return found


def refreshes(lc: LocalCognito) -> int:
    return lc.token_requests("refresh_token")


def expire(site: Site) -> None:
    """Move the site's clock past its session's access token's expiry, a few seconds away
    (``sign_in(seconds_left=...)``): the tokens a refresh gets then have their whole lifetime
    left, on the sessions' clock as on the real one the verification reads."""
    record = site.record()
    assert record is not None and record.access_expires_at - time.time() < 60
    site.clock.offset = record.access_expires_at - time.time() + 1


# -- the sign-in route ------------------------------------------------------------------------


def test_the_sign_in_route_sends_the_browser_to_the_hosted_ui_with_a_pending_cookie(
    site: Site,
) -> None:
    started = site.start("/orders?id=3")
    assert started.status_code == 302
    assert started.headers["Location"].startswith(site.lc.config.authorize_url + "?")
    assert started.headers["Cache-Control"] == "no-store"
    cookies = set_cookies(started)
    assert list(cookies) == ["cognito_session_signin"]  # no session before the sign-in
    pending = cookies["cognito_session_signin"]
    for attribute in ("HttpOnly", "SameSite=Lax", "Path=/cognito_redirect", "Max-Age=600"):
        assert attribute in pending, pending
    assert "Secure" not in pending  # plain http on loopback: the browser would not send it
    pending_id = pending.split(";", 1)[0].split("=", 1)[1]
    assert len(pending_id) == 43
    assert pending_id not in started.headers["Location"]
    assert len(site.store) == 0


def test_the_callback_creates_a_session_under_a_new_id_and_returns_to_next(site: Site) -> None:
    started = site.start("/orders?id=3")
    pending_id = set_cookies(started)["cognito_session_signin"].split(";")[0].split("=", 1)[1]
    landed = site.client.get(site.lc.sign_in(started.headers["Location"], USER, PASSWORD))
    assert landed.status_code == 302
    assert landed.headers["Location"] == "/orders?id=3"
    cookies = set_cookies(landed)
    session_cookie = cookies["cognito_session"]
    for attribute in ("HttpOnly", "SameSite=Lax", "Path=/"):
        assert attribute in session_cookie, session_cookie
    session_id = site.session_id()
    assert session_id is not None and len(session_id) == 43 and session_id != pending_id
    # The pending sign-in's cookie is cleared after the callback.
    assert "Max-Age=0" in cookies["cognito_session_signin"]
    assert site.client.get_cookie("cognito_session_signin", path="/cognito_redirect") is None
    # The browser holds the opaque id only: no token reaches a cookie.
    record = site.record()
    assert record is not None and len(site.store) == 1
    for secret in (record.id_token, record.access_token, record.refresh_token):
        assert secret is not None
        assert not any(secret in header for header in cookies.values())
    page = site.client.get("/orders?id=3", headers=BROWSER)
    assert page.status_code == 200
    assert page.get_json() == {"user": USER, "path": "/orders?id=3"}
    assert "Cookie" in page.headers["Vary"]  # a shared cache must not serve it to others


def test_each_sign_in_gets_a_new_session_id_whatever_the_browser_held(site: Site) -> None:
    # Fixation: an id planted in the browser (here, a valid session of the attacker's) is
    # never the one the victim's sign-in is kept under.
    site.sign_in()
    planted = site.session_id()
    assert planted is not None
    site.sign_in()
    again = site.session_id()
    assert again is not None and again != planted


def test_the_cookies_are_secure_when_the_callback_is_https(make_lc: MakeLocalCognito) -> None:
    lc = make_lc(
        redirect_uri="https://app.example.com/cognito_redirect",
        logout_uri="https://app.example.com/",
    )
    app = Flask(__name__)
    CognitoLogin(app, config=lc.config)
    started = app.test_client().get("/login", base_url="https://app.example.com")
    assert "; Secure" in set_cookies(started)["cognito_session_signin"]


# -- the callback: a bad state is a 400 and creates nothing ------------------------------------


def refused_callback(site: Site, url: str) -> Any:
    response = site.client.get(url, headers=BROWSER)
    assert response.status_code == 400, response.data
    assert "cognito_session" not in set_cookies(response)
    assert b"Traceback" not in response.data
    return response


def test_a_callback_with_another_state_is_a_400_and_creates_nothing(site: Site) -> None:
    started = site.start()
    callback = site.lc.sign_in(started.headers["Location"], USER, PASSWORD)
    query = parse_qs(urlsplit(callback).query)
    forged = f"{CALLBACK}?code={query['code'][0]}&state=forged-state"
    response = refused_callback(site, forged)
    assert "Max-Age=0" in set_cookies(response)["cognito_session_signin"]  # cleared
    assert b"sign in again" in response.data.lower()
    # The pending sign-in was consumed: the genuine redirect is refused now too.
    refused_callback(site, callback)
    assert len(site.store) == 0
    assert site.lc.token_requests("authorization_code") == 0


def test_a_replayed_callback_and_one_this_browser_did_not_start_are_400(site: Site) -> None:
    started = site.start()
    callback = site.lc.sign_in(started.headers["Location"], USER, PASSWORD)
    other_browser = site.app.test_client()
    response = other_browser.get(callback, headers=JSON_ONLY)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_request"
    assert site.lc.token_requests("authorization_code") == 0
    assert site.client.get(callback).status_code == 302  # the browser that started it
    refused_callback(site, callback)  # a replay
    assert len(site.store) == 1
    assert site.lc.token_requests("authorization_code") == 1


def test_an_error_from_cognito_on_the_callback_is_a_400(site: Site) -> None:
    started = site.start()
    state = parse_qs(urlsplit(started.headers["Location"]).query)["state"][0]
    refused = refused_callback(site, f"{CALLBACK}?error=access_denied&state={state}")
    assert b"Cognito did not sign you in" in refused.data
    assert len(site.store) == 0


# -- sign-out ---------------------------------------------------------------------------------


def test_sign_out_revokes_deletes_clears_the_cookie_and_goes_to_cognitos_logout(
    lc: LocalCognito,
) -> None:
    revocations = RevocationList()
    site = Site(lc, revocations=revocations)
    site.sign_in()
    record = site.record()
    assert record is not None and record.refresh_token is not None
    access = decode_verify_jwt(record.access_token, config=lc.config, token_use="access")
    signed_out = site.sign_out()
    assert signed_out.status_code == 303
    assert signed_out.headers["Location"] == lc.config.logout_url()
    assert "Max-Age=0" in set_cookies(signed_out)["cognito_session"]
    assert site.session_id() is None and len(site.store) == 0
    assert ("POST", "/oauth2/revoke") in lc.requests_seen
    with pytest.raises(InvalidGrantError):  # revoked at Cognito
        get_cognito_tokens(refresh_token=record.refresh_token, config=lc.config)
    assert revocations.is_revoked(access)  # revocations= reached the core: listed
    assert site.client.get("/orders", headers=BROWSER).status_code == 302  # sign in again


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example.com"},
        {"Origin": "null", "Referer": f"{ORIGIN}/orders"},
        {"Referer": "https://evil.example.com/localhost"},
        {"Origin": "http://localhost:8080"},
        {},
    ],
    ids=["other-origin", "null-origin", "other-referer", "other-port", "no-header"],
)
def test_a_sign_out_from_another_origin_is_403(site: Site, headers: Dict[str, str]) -> None:
    site.sign_in()
    response = site.client.post("/logout", headers=headers)
    assert response.status_code == 403
    assert "cognito_session" not in set_cookies(response)
    assert site.record() is not None
    assert ("POST", "/oauth2/revoke") not in site.lc.requests_seen


def test_a_same_origin_referer_signs_out(site: Site) -> None:
    site.sign_in()
    assert site.client.post("/logout", headers={"Referer": f"{ORIGIN}/orders"}).status_code == 303
    assert len(site.store) == 0


def test_sign_out_without_a_session_still_goes_to_cognitos_logout(site: Site) -> None:
    response = site.sign_out()
    assert (response.status_code, response.headers["Location"]) == (
        303,
        site.lc.config.logout_url(),
    )


# -- the options ------------------------------------------------------------------------------


def test_the_app_factory_form_and_every_path_option(lc: LocalCognito) -> None:
    login = CognitoLogin(
        config=lc.config,
        cookie_name="sid",
        login_path="/auth/sign-in",
        logout_path="/auth/sign-out",
    )
    app = Flask(__name__)
    login.init_app(app)

    @app.get("/orders")
    @login_required
    def orders() -> Any:
        return {"user": login.user["cognito:username"] if login.user else None}

    client = app.test_client()
    redirect = client.get("/orders", headers=BROWSER)
    assert redirect.headers["Location"] == "/auth/sign-in?next=/orders"
    started = client.get(redirect.headers["Location"])
    assert list(set_cookies(started)) == ["sid_signin"]
    landed = client.get(lc.sign_in(started.headers["Location"], USER, PASSWORD))
    assert landed.headers["Location"] == "/orders" and "sid" in set_cookies(landed)
    assert client.get("/orders").get_json() == {"user": USER}
    assert client.get("/login").status_code == 404
    assert client.post("/auth/sign-out", headers={"Origin": ORIGIN}).status_code == 303
    assert client.get("/orders", headers=BROWSER).status_code == 302


def test_store_is_the_one_given(lc: LocalCognito) -> None:
    store = CountingStore(MemorySessionStore())
    site = Site(lc, store=store)
    site.sign_in()
    assert ["put_pending", "take_pending", "create"] == store.calls[:3]
    assert site.login.sessions.store is store


def test_idle_timeout_ends_an_unused_session(lc: LocalCognito) -> None:
    site = Site(lc, idle_timeout=600)
    site.sign_in()
    site.clock.offset = 599
    assert site.client.get("/orders", headers=BROWSER).status_code == 200
    site.clock.offset = 599 + 601
    response = site.client.get("/orders", headers=BROWSER)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "Max-Age=0" in set_cookies(response)["cognito_session"]


def test_refresh_margin_decides_when_a_page_refreshes(lc: LocalCognito) -> None:
    for margin, expected in ((10, 0), (120, 1)):
        site = Site(lc, refresh_margin=margin)
        site.sign_in()
        before = refreshes(lc)
        record = site.record()
        assert record is not None
        site.clock.offset = record.access_expires_at - time.time() - 60  # 60 s left
        assert site.client.get("/orders").status_code == 200
        assert refreshes(lc) - before == expected


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"cookie_name": ""}, ValueError),
        ({"cookie_name": "a b"}, ValueError),
        ({"cookie_name": "a;b"}, ValueError),
        ({"cookie_name": 3}, TypeError),
        ({"login_path": "login"}, ValueError),
        ({"logout_path": "//evil"}, ValueError),
        ({"login_path": "/x", "logout_path": "/x"}, ValueError),
        ({"login_path": "/cognito_redirect"}, ValueError),
        ({"idle_timeout": 0}, ValueError),
        ({"refresh_margin": "60"}, TypeError),
        ({"store": object()}, TypeError),
        ({"revocations": object()}, TypeError),
    ],
)
def test_bad_options_are_refused(lc: LocalCognito, options: Dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        CognitoLogin(Flask(__name__), config=lc.config, **options)


def test_init_app_takes_a_flask_app_once(lc: LocalCognito) -> None:
    app = Flask(__name__)
    CognitoLogin(app, config=lc.config)
    with pytest.raises(ValueError, match="already"):
        CognitoLogin(app, config=lc.config)
    with pytest.raises(TypeError):
        CognitoLogin(config=lc.config).init_app(Blueprint("bp", __name__))  # type: ignore[arg-type]


def test_a_config_that_cannot_run_a_signed_in_app_is_a_config_error(lc: LocalCognito) -> None:
    import dataclasses

    with pytest.raises(ConfigError, match="redirect_uri"):
        CognitoLogin(Flask(__name__), config=dataclasses.replace(lc.config, redirect_uri=None))


# -- login.user and login.access_token() ------------------------------------------------------


def test_login_user_is_the_id_tokens_claims_or_none(site: Site) -> None:
    assert site.client.get("/").get_json() == {"user": None}
    assert "Vary" not in site.client.get("/health").headers  # a page that never asked
    site.sign_in()
    assert site.client.get("/").get_json() == {"user": USER}
    with site.app.test_request_context("/"):
        assert site.login.user is None  # no cookie on this request


def test_access_token_is_refreshed_when_due_and_the_user_follows(site: Site) -> None:
    site.sign_in(seconds_left=5)
    record = site.record()
    assert record is not None
    expire(site)
    answer = site.client.get("/api")  # userInfo accepts only the fresh token
    assert answer.status_code == 200 and answer.get_json()["username"] == USER
    assert refreshes(site.lc) == 1
    fresh = site.record()
    assert fresh is not None and fresh.access_token != record.access_token
    assert fresh.user["jti"] != record.user["jti"]  # the user's claims came with the refresh
    assert site.client.get("/api").status_code == 200
    assert refreshes(site.lc) == 1  # the fresh token is used until it is due


def test_access_token_without_a_session_sends_the_user_to_sign_in(site: Site) -> None:
    @site.app.get("/public-api")
    def public_api() -> Any:
        return {"token": site.login.access_token()}

    response = site.client.get("/public-api", headers=BROWSER)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/public-api"
    assert site.client.get("/public-api", headers=JSON_ONLY).status_code == 401


# -- login_required -----------------------------------------------------------------------------


def test_a_browser_without_a_session_signs_in_and_comes_back_to_the_page(site: Site) -> None:
    response = site.client.get("/orders?id=3&sort=date", headers=BROWSER)
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location == "/login?next=/orders?id%3D3%26sort%3Ddate"
    started = site.client.get(location)
    landed = site.client.get(site.lc.sign_in(started.headers["Location"], USER, PASSWORD))
    assert landed.headers["Location"] == "/orders?id=3&sort=date"
    page = site.client.get(landed.headers["Location"])
    assert page.get_json() == {"user": USER, "path": "/orders?id=3&sort=date"}


def test_a_client_that_accepts_only_json_gets_a_401(site: Site) -> None:
    response = site.client.get("/orders", headers=JSON_ONLY)
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert response.get_json()["error"] == "login_required"
    assert "Location" not in response.headers


@pytest.mark.parametrize("accept", [None, "*/*", "text/*", "application/json, text/html;q=0.5"])
def test_a_client_that_does_not_name_html_first_gets_a_401(
    site: Site, accept: Optional[str]
) -> None:
    # One rule for every framework (sessions.accepts_html): a browser's page navigation names
    # text/html; fetch(), requests and curl send */* (or nothing), and a redirect to a sign-in
    # page is no answer for them.
    headers = {} if accept is None else {"Accept": accept}
    response = site.client.get("/orders", headers=headers)
    assert response.status_code == 401
    assert response.mimetype == "application/json"
    assert "Location" not in response.headers


@pytest.mark.parametrize(
    ("header", "value"),
    [
        (None, None),
        ("", None),
        ("cognito_session=abc", "abc"),
        ("theme=dark; cognito_session=abc; lang=en", "abc"),
        ("theme=dark;cognito_session=abc", "abc"),
        ("cognito_session=first; cognito_session=second", "first"),
        ("x_cognito_session=abc", None),
        ("cognito_session_signin=abc", None),
        ("theme=cognito_session", None),
        ("cognito_session", None),
        ("cognito_session=", ""),
        ("cognito_session=" + "a" * 20000, None),  # over 16 KiB: not read
    ],
)
def test_cookie_value_reads_the_first_cookie_of_that_name(
    header: Optional[str], value: Optional[str]
) -> None:
    assert cookie_value(header, "cognito_session") == value


def test_the_three_decorator_forms(site: Site) -> None:
    for path in ("/orders", "/plain", "/staff", "/admin"):
        assert site.client.get(path, headers=JSON_ONLY).status_code == 401
    site.sign_in()
    assert site.client.get("/plain").data == b"plain"
    assert site.client.get("/orders").status_code == 200


def test_groups_refuse_other_users_with_a_403(site: Site) -> None:
    site.sign_in()
    assert site.client.get("/staff", headers=BROWSER).data == b"staff"  # alice is in staff
    refused = site.client.get("/admin", headers=BROWSER)
    assert refused.status_code == 403 and refused.mimetype == "text/html"
    as_json = site.client.get("/admin", headers=JSON_ONLY)
    assert as_json.status_code == 403 and as_json.get_json()["error"] == "forbidden"
    assert site.record() is not None  # still signed in


def test_bad_groups_are_refused_when_the_view_is_decorated() -> None:
    for groups, error in (([], ValueError), ("", ValueError), (3, TypeError)):
        with pytest.raises(error):
            login_required(groups=groups)
    with pytest.raises(TypeError, match="keywords"):
        login_required("admin")  # type: ignore[call-overload]


def test_a_revoked_refresh_token_ends_the_session_and_the_next_page_signs_in(
    site: Site,
) -> None:
    site.sign_in(seconds_left=5)
    record = site.record()
    assert record is not None and record.refresh_token is not None
    revoke_token(record.refresh_token, config=site.lc.config)  # e.g. signed out elsewhere
    expire(site)
    response = site.client.get("/orders", headers=BROWSER)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/orders"
    assert "Max-Age=0" in set_cookies(response)["cognito_session"]
    assert len(site.store) == 0 and site.session_id() is None
    assert site.client.get("/orders", headers=JSON_ONLY).status_code == 401


def test_a_session_that_ends_inside_a_view_sends_the_user_to_sign_in(lc: LocalCognito) -> None:
    site = Site(lc, refresh_margin=10)

    @site.app.get("/late")
    @login_required
    def late() -> Any:
        # The guard let the request in with a valid token; it expires before the view asks
        # for it, so the view's own call meets invalid_grant.
        expire(site)
        return {"token": site.login.access_token()}

    site.sign_in(seconds_left=45)  # not due yet with a margin of 10 s
    record = site.record()
    assert record is not None and record.refresh_token is not None
    revoke_token(record.refresh_token, config=site.lc.config)
    response = site.client.get("/late", headers=BROWSER)
    assert response.status_code == 302
    assert response.headers["Location"] == "/login?next=/late"
    assert "Max-Age=0" in set_cookies(response)["cognito_session"]
    assert len(site.store) == 0


def test_an_async_view(site: Site) -> None:
    @site.app.get("/async")
    @login_required
    async def async_view() -> Any:
        assert site.login.user is not None
        return {"user": site.login.user["cognito:username"]}

    assert site.client.get("/async", headers=JSON_ONLY).status_code == 401
    site.sign_in()
    assert site.client.get("/async").get_json() == {"user": USER}


def test_login_required_on_an_app_without_cognito_login_is_a_config_error() -> None:
    app = Flask(__name__)

    @app.get("/orders")
    @login_required
    def orders() -> str:
        return "open"

    app.testing = True
    with pytest.raises(ConfigError, match="CognitoLogin"):
        app.test_client().get("/orders")


def test_sixteen_requests_of_one_session_at_expiry_make_one_refresh_grant(site: Site) -> None:
    site.sign_in(seconds_left=5)
    sid = site.session_id()
    assert sid is not None
    expire(site)

    def request() -> Tuple[int, str]:
        client = site.app.test_client()
        client.set_cookie(site.cookie_name, sid)
        response = client.get("/api")
        return response.status_code, response.get_json()["username"]

    results, errors = run_together(16, request)
    assert errors == [] and results == [(200, USER)] * 16
    assert refreshes(site.lc) == 1


# -- decorator order ----------------------------------------------------------------------------


def test_login_required_above_the_route_is_a_type_error(lc: LocalCognito) -> None:
    app = Flask(__name__)
    CognitoLogin(app, config=lc.config)
    with pytest.raises(TypeError, match=r"login_required was given 'orders'.*/orders.*below"):

        @login_required
        @app.get("/orders")
        def orders() -> str:
            return "open"

    with pytest.raises(TypeError, match="below"):

        @login_required(groups=["admin"])
        @app.route("/report", methods=["GET", "POST"])
        def report() -> str:
            return "open"


BLUEPRINT_MODULE = """
from flask import Blueprint
from cognito_helper.flask import login_required

pages = Blueprint("pages", __name__)

@login_required()
@pages.get("/orders")
def orders():
    return "open"
"""


def test_login_required_above_a_blueprint_route_is_a_type_error() -> None:
    namespace: Dict[str, Any] = {"__name__": "pages"}
    with pytest.raises(TypeError, match=r"'orders'.*/orders of the blueprint 'pages'"):
        exec(compile(BLUEPRINT_MODULE, "pages.py", "exec"), namespace)


class Holder:
    """An app reached through an attribute: no decorator can see it."""

    def __init__(self) -> None:
        self.app = Flask(__name__)


def test_an_app_with_cognito_login_refuses_every_request_while_a_route_is_left_open(
    lc: LocalCognito,
) -> None:
    holder = Holder()
    CognitoLogin(holder.app, config=lc.config)

    @login_required  # above the route, where nothing can see the app
    @holder.app.get("/orders")
    def orders() -> str:
        return "open"

    @holder.app.get("/health")
    def health() -> str:
        return "ok"

    client = holder.app.test_client()
    for path in ["/orders", "/health", "/orders"]:  # every request, not only the first
        assert client.get(path).status_code == 500
    holder.app.testing = True
    with pytest.raises(TypeError, match=r"/orders \('orders'\).*signed-in user.*login_required"):
        client.get("/health")


def test_both_decorators_left_open_are_named_in_one_message(lc: LocalCognito) -> None:
    holder = Holder()
    CognitoLogin(holder.app, config=lc.config)

    @login_required
    @holder.app.get("/orders")
    def orders() -> str:
        return "open"

    @require_token(config=lc.config)
    @holder.app.get("/api")
    def api() -> str:
        return "open"

    holder.app.testing = True
    with pytest.raises(TypeError) as info:
        holder.app.test_client().get("/api")
    message = str(info.value)
    assert "/orders ('orders') answer without a signed-in user although login_required" in message
    assert "/api ('api') answer without a token although require_token" in message
    assert "TokenGuard(app).route(...)" in message


def test_the_right_order_is_left_alone(site: Site) -> None:
    assert site.client.get("/").status_code == 200  # the first request: the check passes
    assert site.client.get("/orders", headers=JSON_ONLY).status_code == 401


# -- Redis ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with RedisServer(redis_server_path()) as running:
        yield running


@pytest.fixture
def redis(server: RedisServer) -> Iterator[Any]:
    client = server.client()
    client.flushall()
    yield client
    client.close()


class CountingClient:
    """A Redis client that counts the commands sent through it: one call, one round trip."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.commands: List[str] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.commands.append(name)
            return method(*args, **kwargs)

        return counted


def test_a_signed_in_request_is_one_redis_round_trip(lc: LocalCognito, redis: Any) -> None:
    client = CountingClient(redis)
    site = Site(lc, store=RedisSessionStore(client, secret=SECRET))
    site.sign_in()
    assert site.client.get("/orders").status_code == 200
    client.commands.clear()
    for _ in range(20):
        assert site.client.get("/orders").status_code == 200
    assert client.commands == ["mget"] * 20


def test_a_session_kept_in_redis_serves_another_process_s_app(lc: LocalCognito, redis: Any) -> None:
    one = Site(lc, store=RedisSessionStore(redis, secret=SECRET))
    other = Site(lc, store=RedisSessionStore(redis, secret=SECRET))
    one.sign_in()
    sid = one.session_id()
    assert sid is not None
    other.client.set_cookie("cognito_session", sid)
    assert other.client.get("/orders").get_json()["user"] == USER
    assert sid.encode() not in b"".join(redis.scan_iter())  # keys are digests


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A loopback port bound by no listener: connections to it are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def test_redis_down_is_a_503_with_retry_after_never_a_sign_in_loop(
    lc: LocalCognito, redis: Any, dead_port: int
) -> None:
    import redis as redis_package
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    dead = redis_package.Redis(
        port=dead_port, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0)
    )
    switch = {"client": redis}

    class Switchable:
        def __getattr__(self, name: str) -> Any:
            return getattr(switch["client"], name)

    site = Site(lc, store=RedisSessionStore(Switchable(), secret=SECRET))
    site.sign_in()
    started = site.start()  # a sign-in pending while Redis goes down
    callback = lc.sign_in(started.headers["Location"], USER, PASSWORD)
    switch["client"] = dead
    calls: List[Callable[[], Any]] = [
        lambda: site.client.get("/orders", headers=BROWSER),
        lambda: site.client.get("/orders", headers=JSON_ONLY),
        lambda: site.client.get("/", headers=BROWSER),
        lambda: site.client.get("/api", headers=BROWSER),
        lambda: site.start(),
        lambda: site.client.get(callback, headers=BROWSER),
        lambda: site.sign_out(),
    ]
    for call in calls:
        response = call()
        assert response.status_code == 503, (response.status_code, response.data)
        assert int(response.headers["Retry-After"]) > 0
        assert b"Traceback" not in response.data and b"ConnectionError" not in response.data
        assert "cognito_session" not in set_cookies(response)  # the session is not dropped
    switch["client"] = redis
    assert site.client.get("/orders").status_code == 200  # still signed in once it is back


# -- the README's snippet -----------------------------------------------------------------------


def test_the_readme_snippet(lc: LocalCognito, monkeypatch: pytest.MonkeyPatch) -> None:
    config: CognitoConfig = lc.config
    for name, value in {
        "COGNITO_USER_POOL_ID": config.user_pool_id,
        "COGNITO_CLIENT_ID": config.client_id,
        "COGNITO_DOMAIN": config.base_url,
        "COGNITO_REDIRECT_URI": config.redirect_uri or "",
        "COGNITO_LOGOUT_URI": config.logout_uri or "",
        "COGNITO_ISSUER": config.issuers[0],
        "COGNITO_JWKS_URL": config.jwks_url or "",
    }.items():
        monkeypatch.setenv(name, value)
    (snippet,) = snippets_for(test_the_readme_snippet)  # "Signed-in web apps"
    app = snippet.run()["app"]
    client = app.test_client()
    to_sign_in = client.get("/orders", headers=BROWSER)
    assert to_sign_in.headers["Location"] == "/login?next=/orders"
    started = client.get(to_sign_in.headers["Location"])
    landed = client.get(lc.sign_in(started.headers["Location"], USER, PASSWORD))
    assert landed.headers["Location"] == "/orders"
    assert client.get("/").data.decode() == f"hello {USER}"
    assert client.get("/orders").get_json()["username"] == USER  # userInfo, with the token
    assert client.get("/admin", headers=BROWSER).status_code == 403  # alice is no admin
    assert client.get("/orders", headers=JSON_ONLY).status_code == 200
    signed_out = client.post("/logout", headers={"Origin": ORIGIN})
    assert signed_out.headers["Location"] == config.logout_url()
    assert client.get("/", headers=JSON_ONLY).status_code == 401


def test_the_redis_snippet(
    lc: LocalCognito, server: RedisServer, redis: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    (fleet,) = snippets_for(test_the_redis_snippet)  # "A fleet: RedisSessionStore"
    old, new = "an-old-session-secret-0123456789", "a-new-session-secret-9876543210"
    # A session signed in before the rotation, sealed with the old secret only.
    before = Site(lc, store=RedisSessionStore(redis, secret=old))
    before.sign_in()
    sid = before.session_id()
    assert sid is not None
    monkeypatch.setenv("SESSION_SECRETS", f"{new} {old}")
    app = Flask("fleet")

    @app.get("/orders")
    @login_required
    def orders() -> Any:
        return {"user": login.user["cognito:username"] if login.user else None}

    namespace = fleet.replacing({"redis://cache.internal:6379/0": server.url}).run(
        app=app, cfg=lc.config
    )
    login: CognitoLogin = namespace["login"]
    client = app.test_client()
    client.set_cookie("cognito_session", sid)
    assert client.get("/orders").get_json() == {"user": USER}  # the old secret still opens
    after = Site(lc, store=namespace["store"])
    after.sign_in()
    stored = {key: redis.get(key) for key in redis.scan_iter("cognito-helper:session:*")}
    assert len([key for key in stored if key.endswith(b":session")]) == 2
    record = after.record()
    assert record is not None and record.refresh_token is not None
    for value in stored.values():  # encrypted at rest: no token, claim or id readable
        for secret in (record.refresh_token, record.access_token, USER, sid):
            assert secret.encode() not in value
    # The new secret seals: a store with the new secret alone opens the new session.
    only_new = Site(lc, store=RedisSessionStore(redis, secret=new))
    only_new.client.set_cookie("cognito_session", after.session_id() or "")
    assert only_new.client.get("/orders").status_code == 200
    namespace["client"].close()
