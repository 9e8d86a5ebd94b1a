"""Issue 22, Django: sign-in, callback and sign-out through ``cognito_helper.django.urls``,
with Django's test client, against LocalCognito over loopback HTTP.

The site (``tests/django_support.py``) includes the URLs at ``auth/``, with Django's
``SessionMiddleware``, ``CsrfViewMiddleware``, ``AuthenticationMiddleware`` and
``CognitoSessionMiddleware``, ``CognitoBackend``, ``@login_required`` and
``LoginRequiredMixin``.
"""

from __future__ import annotations

import re
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

pytest.importorskip("django")

from .django_setup import configure_django

configure_django()

from django.contrib.auth.models import User  # noqa: E402
from django.test import Client, override_settings  # noqa: E402

from cognito_helper import decode_verify_jwt  # noqa: E402
from cognito_helper.integrations.django_settings import PENDING_KEY, SESSION_ID_KEY  # noqa: E402
from cognito_helper.sessions import RevocationList  # noqa: E402
from cognito_helper.testing import LocalCognito  # noqa: E402

from .django_support import (  # noqa: E402
    ORIGIN,
    Site,
    hosted_ui,
    local_cognito,
    migrate,
    running_site,
    sign_in,
    start,
)
from .helpers import EMAIL, MakeLocalCognito  # noqa: E402

ID = re.compile(r"[A-Za-z0-9_-]{43}")


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


def sub_of(lc: LocalCognito) -> str:
    return str(lc.user("alice").attributes["sub"])


# -- sign-in ----------------------------------------------------------------------------------


def test_login_redirects_to_the_hosted_ui_with_state_nonce_and_pkce(site: Site) -> None:
    url = start(site.client, "/orders")
    assert url.startswith(site.lc.config.authorize_url + "?")
    query = parse_qs(urlsplit(url).query)
    assert query["redirect_uri"] == [site.lc.config.redirect_uri]
    assert query["code_challenge_method"] == ["S256"]
    assert {"state", "nonce", "code_challenge"} <= set(query)
    # Django's session holds the pending sign-in's id and nothing else: no state, no verifier.
    assert dict(site.client.session) == {PENDING_KEY: site.client.session[PENDING_KEY]}
    assert ID.fullmatch(site.client.session[PENDING_KEY])
    cookie = site.client.cookies["sessionid"]
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # plain http on a loopback host (local development)


def test_a_sign_in_creates_the_user_and_lands_on_next(site: Site, lc: LocalCognito) -> None:
    start(site.client)
    before = site.client.cookies["sessionid"].value
    answer = sign_in(site, "/orders?id=3")
    assert answer.status_code == 302 and answer["Location"] == "/orders?id=3"
    # A new Django session key at sign-in (no fixation), holding only ids.
    after = site.client.cookies["sessionid"].value
    assert after != before
    data = dict(site.client.session)
    assert set(data) == {"_auth_user_id", "_auth_user_backend", "_auth_user_hash", SESSION_ID_KEY}
    assert ID.fullmatch(data[SESSION_ID_KEY]) and data[SESSION_ID_KEY] not in (before, after)
    assert data["_auth_user_backend"] == "cognito_helper.django.CognitoBackend"
    user = User.objects.get()
    assert user.username == sub_of(lc) and user.email == EMAIL
    assert not user.has_usable_password()
    # request.user, @login_required and LoginRequiredMixin see the user.
    assert site.client.get("/").content.decode() == sub_of(lc)
    assert site.client.get("/account").json()["claims_sub"] == sub_of(lc)
    token = site.client.get("/orders").content.decode()
    assert decode_verify_jwt(token, config=lc.config, token_use="access")["sub"] == sub_of(lc)


def test_the_tokens_stay_in_the_store(site: Site) -> None:
    sign_in(site)
    stored = [str(v) for v in site.client.session.values()]
    token = site.client.get("/orders").content.decode()
    assert len(site.store) == 1
    assert all(token not in value for value in stored)
    # Django's session cookie and its CSRF cookie (rotated at login); no token in either.
    assert sorted(site.client.cookies) == ["csrftoken", "sessionid"]
    assert all(token not in cookie.value for cookie in site.client.cookies.values())


def test_the_state_is_single_use(site: Site) -> None:
    callback = hosted_ui(site.lc, start(site.client))
    assert site.client.get(callback).status_code == 302
    replay = site.client.get(callback)
    assert replay.status_code == 400
    assert b"not started here" in replay.content
    assert len(site.store) == 1 and User.objects.count() == 1
    assert site.lc.token_requests("authorization_code") == 1


def test_a_callback_this_browser_did_not_start_is_400_and_creates_nothing(site: Site) -> None:
    callback = hosted_ui(site.lc, start(site.client))
    other = site.new_client()
    answer = other.get(callback)
    assert answer.status_code == 400
    assert answer["Content-Type"].startswith("text/plain")
    assert len(site.store) == 0 and User.objects.count() == 0
    assert site.lc.token_requests() == 0
    assert other.get("/").content == b"anonymous"


def test_an_error_from_cognito_is_400(site: Site) -> None:
    state = parse_qs(urlsplit(start(site.client)).query)["state"][0]
    answer = site.client.get("/auth/callback", {"error": "access_denied", "state": state})
    assert answer.status_code == 400
    assert b"cancelled or refused" in answer.content
    assert len(site.store) == 0 and site.lc.token_requests() == 0


def test_signing_in_again_replaces_and_ends_the_earlier_session(site: Site) -> None:
    sign_in(site)
    first = site.client.session[SESSION_ID_KEY]
    sign_in(site)
    assert site.client.session[SESSION_ID_KEY] != first
    assert len(site.store) == 1
    assert site.lc.requests_seen.count(("POST", "/oauth2/revoke")) == 1


# -- Django's own tools -----------------------------------------------------------------------


@pytest.mark.parametrize("page", ["/account", "/orders"])
def test_login_required_and_the_mixin_send_a_browser_to_sign_in(site: Site, page: str) -> None:
    answer = site.client.get(page)
    assert answer.status_code == 302
    assert answer["Location"] == f"/auth/login/?next={page}"
    follow = site.client.get(answer["Location"])
    assert follow["Location"].startswith(site.lc.config.authorize_url)
    assert sign_in(site, page)["Location"] == page


# -- sign-out ---------------------------------------------------------------------------------


def csrf_token(client: Client) -> str:
    return client.get("/csrf").content.decode()


def test_logout_without_the_csrf_token_is_403(site: Site) -> None:
    client = site.new_client(enforce_csrf_checks=True)
    sign_in(site, client=client)
    answer = client.post("/auth/logout/", HTTP_ORIGIN=ORIGIN)
    assert answer.status_code == 403
    assert len(site.store) == 1 and client.get("/").content != b"anonymous"


@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ORIGIN": "https://evil.example.com"},
        {"HTTP_ORIGIN": "null"},
        {"HTTP_REFERER": "https://evil.example.com/page"},
        {},
    ],
    ids=["foreign-origin", "null-origin", "foreign-referer", "neither"],
)
def test_logout_from_another_origin_is_403(site: Site, headers: Any) -> None:
    client = site.new_client(enforce_csrf_checks=True)
    sign_in(site, client=client)
    token = csrf_token(client)
    # Django's CSRF check trusts this origin, so the answer is the sessions core's rule.
    with override_settings(CSRF_TRUSTED_ORIGINS=["https://evil.example.com"]):
        answer = client.post("/auth/logout/", {"csrfmiddlewaretoken": token}, **headers)
    assert answer.status_code == 403
    assert len(site.store) == 1 and client.get("/").content != b"anonymous"
    assert ("POST", "/oauth2/revoke") not in site.lc.requests_seen


def test_logout_revokes_ends_both_sessions_and_goes_to_cognito(site: Site) -> None:
    client = site.new_client(enforce_csrf_checks=True)
    sign_in(site, client=client)
    answer = client.post(
        "/auth/logout/", {"csrfmiddlewaretoken": csrf_token(client)}, HTTP_ORIGIN=ORIGIN
    )
    assert answer.status_code == 302
    assert answer["Location"] == site.lc.config.logout_url()
    assert ("POST", "/oauth2/revoke") in site.lc.requests_seen
    assert len(site.store) == 0
    assert dict(client.session) == {}
    assert client.get("/").content == b"anonymous"
    assert client.get("/account").status_code == 302


def test_logout_lists_the_tokens_in_the_revocation_list(lc: LocalCognito) -> None:
    revocations = RevocationList()
    with running_site(lc, revocations=revocations) as site:
        sign_in(site)
        token = site.client.get("/orders").content.decode()
        claims = decode_verify_jwt(token, config=lc.config, token_use="access")
        assert not revocations.is_revoked(claims)
        site.client.post("/auth/logout/", HTTP_ORIGIN=ORIGIN)
    assert revocations.is_revoked(claims)


def test_logout_when_not_signed_in_still_goes_to_cognito(site: Site) -> None:
    answer = site.client.post("/auth/logout/", HTTP_REFERER=ORIGIN + "/")
    assert answer.status_code == 302
    assert answer["Location"] == site.lc.config.logout_url()


def test_the_host_header_does_not_decide_the_apps_origin(site: Site) -> None:
    sign_in(site)
    other = Client(HTTP_HOST="localhost")  # another port: another origin
    other.cookies = site.client.cookies
    with override_settings(ALLOWED_HOSTS=["localhost"]):
        answer = other.post("/auth/logout/", HTTP_ORIGIN="http://localhost")
    assert answer.status_code == 403
    assert len(site.store) == 1
