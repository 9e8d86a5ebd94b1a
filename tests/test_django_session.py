"""Issue 22, Django: the session. ``CognitoSessionMiddleware`` ends a Django login whose
Cognito session has ended; ``access_token(request)`` is fresh (one refresh per session at
expiry, rotation-safe); Django's database and cache session engines hold only ids; a store
that is down is a 503 with ``Retry-After``. Over loopback HTTP against LocalCognito (and a
real redis-server), with Django's test client."""

from __future__ import annotations

import socket
import time
from typing import Any, Iterator, List

import pytest

pytest.importorskip("django")

from .django_setup import configure_django

configure_django()

from django.core.exceptions import ImproperlyConfigured  # noqa: E402
from django.http import HttpRequest, HttpResponse  # noqa: E402
from django.test import Client, override_settings  # noqa: E402
from django.urls import path  # noqa: E402

from cognito_helper import (  # noqa: E402
    InvalidGrantError,
    decode_verify_jwt,
    get_cognito_tokens,
    revoke_token,
)
from cognito_helper.django import access_token  # noqa: E402
from cognito_helper.integrations.django_settings import SESSION_ID_KEY  # noqa: E402
from cognito_helper.sessions import RedisSessionStore, storage_key  # noqa: E402
from cognito_helper.testing import LocalCognito  # noqa: E402

from .django_support import (  # noqa: E402
    HOST,
    Site,
    expiring_sign_in,
    local_cognito,
    make_urls,
    migrate,
    running_site,
    sign_in,
)
from .helpers import USER, MakeLocalCognito  # noqa: E402
from .sessions_support import run_together  # noqa: E402


@pytest.fixture(scope="module", autouse=True)
def database() -> None:
    migrate()


@pytest.fixture
def lc(make_lc: MakeLocalCognito) -> LocalCognito:
    return local_cognito(make_lc)


@pytest.fixture
def site(lc: LocalCognito) -> Iterator[Site]:
    with running_site(lc) as running:
        yield running


def refreshes(lc: LocalCognito) -> int:
    return lc.token_requests("refresh_token")


def record(site: Site, client: Any = None) -> Any:
    """The sessions core's record of the client's session (from the store)."""
    session_id = (client or site.client).session[SESSION_ID_KEY]
    return site.store.load(storage_key(session_id))


def who(client: Client) -> str:
    return client.get("/").content.decode()


# -- fresh tokens -----------------------------------------------------------------------------


def test_a_token_due_is_refreshed_once_and_the_user_stays_signed_in(site: Site) -> None:
    expiring_sign_in(site, seconds_left=10)  # inside the 60 s refresh margin
    held = record(site).access_token
    first = site.client.get("/orders").content.decode()
    assert first != held and refreshes(site.lc) == 1
    assert site.client.get("/orders").content.decode() == first
    assert refreshes(site.lc) == 1
    assert who(site.client) != "anonymous"


def test_a_token_not_due_is_not_refreshed(site: Site) -> None:
    sign_in(site)
    for _ in range(3):
        assert site.client.get("/orders").status_code == 200
    assert refreshes(site.lc) == 0


def test_concurrent_requests_of_one_session_at_expiry_make_one_refresh(site: Site) -> None:
    expiring_sign_in(site, seconds_left=10)
    cookies = site.client.cookies

    def request() -> str:
        client = Client(HTTP_HOST=HOST)
        client.cookies = cookies
        answer = client.get("/orders")
        assert answer.status_code == 200, answer
        return str(answer.content.decode())

    held = record(site).access_token
    results, errors = run_together(8, request)
    assert errors == [] and len(results) == 8
    assert refreshes(site.lc) == 1
    # A request that found the refresh under way used the token held, still valid.
    assert set(results) <= {held, record(site).access_token}
    for token in set(results):
        decode_verify_jwt(token, config=site.lc.config, token_use="access")


def test_with_rotation_each_refresh_sends_the_latest_refresh_token(
    make_lc: MakeLocalCognito,
) -> None:
    lc = local_cognito(make_lc, refresh_token_rotation=True)
    with running_site(lc) as site:
        expiring_sign_in(site, seconds_left=10)
        first = record(site).refresh_token
        lc.advance_clock(-(lc.token_lifetime - 10))  # the refreshed tokens are due too
        assert who(site.client) != "anonymous"  # the middleware refreshes
        second = record(site).refresh_token
        lc.clock = time.time
        assert site.client.get("/orders").status_code == 200  # and again
        assert refreshes(lc) == 2
        assert len({first, second, record(site).refresh_token}) == 3
        assert who(site.client) != "anonymous"
        with pytest.raises(InvalidGrantError):  # rotated away: no request sends it again
            get_cognito_tokens(refresh_token=first, config=lc.config)


# -- the middleware ends what has ended -------------------------------------------------------


def test_a_revoked_refresh_token_ends_the_django_login_at_the_next_refresh(site: Site) -> None:
    expiring_sign_in(site, seconds_left=10)
    revoke_token(record(site).refresh_token, config=site.lc.config)
    assert who(site.client) == "anonymous"
    assert refreshes(site.lc) == 1  # the refresh that learnt of the revocation
    assert dict(site.client.session) == {}
    assert len(site.store) == 0
    answer = site.client.get("/account")
    assert answer.status_code == 302 and answer["Location"] == "/auth/login/?next=/account"


def test_an_expired_refresh_token_ends_the_django_login(make_lc: MakeLocalCognito) -> None:
    lc = local_cognito(make_lc, refresh_token_lifetime=3600)
    with running_site(lc) as site:
        expiring_sign_in(site, seconds_left=10)
        lc.advance_clock(3600)  # LocalCognito's refresh token has expired
        assert who(site.client) == "anonymous"
        assert lc.token_requests("refresh_token") == 1


def test_a_session_gone_from_the_store_ends_the_django_login(site: Site) -> None:
    sign_in(site)
    site.store.delete(storage_key(site.client.session[SESSION_ID_KEY]))
    assert who(site.client) == "anonymous"
    assert dict(site.client.session) == {}


def test_another_login_is_left_alone(site: Site) -> None:
    from django.contrib.auth.models import User

    User.objects.create_user("admin", password="Admin-Passw0rd!")
    with override_settings(
        AUTHENTICATION_BACKENDS=[
            "cognito_helper.django.CognitoBackend",
            "django.contrib.auth.backends.ModelBackend",
        ]
    ):
        assert site.client.login(username="admin", password="Admin-Passw0rd!")
        assert who(site.client) == "admin"
        assert who(site.client) == "admin"


def test_cognito_down_keeps_the_login_and_answers_503_to_a_token_request(site: Site) -> None:
    expiring_sign_in(site, seconds_left=10)
    with site.lc.fail_token_endpoint(503):
        assert who(site.client) != "anonymous"  # the held token is still valid
        answer = site.client.get("/orders")
        assert answer.status_code == 200  # the held token, still valid, is handed out
    assert who(site.client) != "anonymous"


def test_the_callback_answers_503_when_cognito_is_down(site: Site) -> None:
    from .django_support import hosted_ui, start

    callback = hosted_ui(site.lc, start(site.client))
    with site.lc.fail_token_endpoint(503):
        answer = site.client.get(callback)
    assert answer.status_code == 503 and int(answer["Retry-After"]) > 0
    assert len(site.store) == 0


@pytest.mark.slow  # waits for an access token to expire (2 s)
def test_an_expired_token_with_cognito_down_is_503_with_retry_after(site: Site) -> None:
    expiring_sign_in(site, seconds_left=2)
    time.sleep(max(0.0, record(site).access_expires_at - time.time()) + 0.2)
    with site.lc.fail_token_endpoint(503):
        assert who(site.client) != "anonymous"  # not an ending: the login stays
        answer = site.client.get("/orders")
        assert answer.status_code == 503 and int(answer["Retry-After"]) > 0
    assert site.client.get("/orders").status_code == 200  # back: refreshed
    assert refreshes(site.lc) == 3


# -- access_token(request) in a view ----------------------------------------------------------


def open_token(request: HttpRequest) -> HttpResponse:
    """No login_required: access_token() itself must refuse an anonymous request."""
    return HttpResponse(access_token(request), content_type="text/plain")


OPEN_URLS = make_urls("tests_django_session_open_urls", extra=[path("open", open_token)])


def test_access_token_without_a_cognito_session_sends_the_browser_to_sign_in(site: Site) -> None:
    with override_settings(ROOT_URLCONF=OPEN_URLS):
        answer = site.client.get("/open?x=1")
        assert answer.status_code == 302
        assert answer["Location"] == "/auth/login/?next=/open%3Fx%3D1"
        sign_in(site)
        assert site.client.get("/open").status_code == 200


# -- Django's session engines -----------------------------------------------------------------


@pytest.mark.parametrize(
    "engine",
    [
        "django.contrib.sessions.backends.db",
        "django.contrib.sessions.backends.cache",
        "django.contrib.sessions.backends.cached_db",
    ],
)
def test_the_server_side_session_engines_hold_only_ids(site: Site, engine: str) -> None:
    with override_settings(SESSION_ENGINE=engine):
        client = site.new_client()
        sign_in(site, client=client)
        assert who(client) == str(site.lc.user(USER).attributes["sub"])
        values: List[str] = [str(v) for v in client.session.values()]
        token = client.get("/orders").content.decode()
        assert all(token not in v and record(site, client).refresh_token not in v for v in values)


def test_the_middleware_needs_django_sessions(site: Site) -> None:
    with override_settings(MIDDLEWARE=["cognito_helper.django.CognitoSessionMiddleware"]):
        with pytest.raises(ImproperlyConfigured, match="SessionMiddleware"):
            site.client.get("/")


# -- a session store that is down -------------------------------------------------------------


@pytest.fixture
def redis_url() -> Iterator[str]:
    from .redis_server import RedisServer, redis_server_path

    with RedisServer(redis_server_path()) as server:
        yield server.url


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A loopback port bound by no listener: connections to it are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def test_redis_down_is_a_503_with_retry_after_and_keeps_the_login(
    lc: LocalCognito, redis_url: str, dead_port: int
) -> None:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    live = redis.Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
    switch = {"client": live}

    class Switchable:
        def __getattr__(self, name: str) -> Any:
            return getattr(switch["client"], name)

    store = RedisSessionStore(Switchable(), secret="django-test-secret-" + "x" * 32)
    with running_site(lc, store=store) as site:
        sign_in(site)
        assert who(site.client) != "anonymous"
        switch["client"] = redis.Redis(
            port=dead_port, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0)
        )
        answer = site.client.get("/")
        assert answer.status_code == 503 and int(answer["Retry-After"]) > 0
        assert site.client.get("/auth/login/").status_code == 503
        switch["client"] = live
        assert who(site.client) != "anonymous"  # never a sign-in loop: the login was kept
        live.close()
