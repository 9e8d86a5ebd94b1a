"""Issue 21, the sessions core: sign-in, callback, sign-out and the web rules, over loopback
HTTP against LocalCognito (hosted UI, token, revoke and userInfo endpoints, JWKS)."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any, Dict, List

import pytest

from cognito_helper import (
    CognitoConfig,
    ConfigError,
    InvalidClaimsError,
    TokenExchangeError,
    Tokens,
    TokenVerificationError,
    get_user_info,
)
from cognito_helper.sessions import (
    CallbackError,
    CognitoSessions,
    MemorySessionStore,
    PendingSignIn,
    RevocationList,
    app_origin,
    cookie_settings,
    safe_next,
    same_origin,
    sign_out_refusal,
    storage_key,
)
from cognito_helper.sessions.signin import verify_tokens
from cognito_helper.testing import LocalCognito

from .helpers import USER, MakeLocalCognito
from .sessions_support import Clock, CountingStore, browse_to_callback, sign_in

# -- sign-in ----------------------------------------------------------------------------------


def test_a_sign_in_creates_a_session_with_the_users_claims(lc: LocalCognito) -> None:
    sessions = CognitoSessions(lc.config)
    signed_in = sign_in(lc, sessions, "/orders?id=3")
    assert signed_in.next_path == "/orders?id=3"
    session = sessions.load(signed_in.session_id)
    assert session is not None
    assert session.user["cognito:username"] == USER
    assert session.user["token_use"] == "id"
    assert get_user_info(session.access_token(), config=lc.config)["username"] == USER


def test_the_session_id_is_new_long_and_random_not_the_pending_id(lc: LocalCognito) -> None:
    # No fixation: whatever id the browser held before (the pending id), the session gets a
    # new one, 256 random bits (43 base64url characters).
    sessions = CognitoSessions(lc.config)
    start = sessions.begin("/")
    signed_in = sessions.complete(start.pending_id, browse_to_callback(lc, start.url))
    again = sign_in(lc, sessions)
    assert signed_in.session_id != start.pending_id
    assert signed_in.session_id != again.session_id
    assert len(signed_in.session_id) == 43 and len(start.pending_id) == 43
    assert sessions.load(start.pending_id) is None  # the pending id is no session


def test_the_authorize_url_carries_state_nonce_and_an_s256_challenge(lc: LocalCognito) -> None:
    sessions = CognitoSessions(lc.config)
    url = sessions.begin("/").url
    assert url.startswith(lc.config.authorize_url + "?")
    for part in ("state=", "nonce=", "code_challenge_method=S256", "code_challenge="):
        assert part in url


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("/orders?id=3#top", "/orders?id=3#top"),
        ("/", "/"),
        ("/a/b%2F%2Fc", "/a/b%2F%2Fc"),
        ("//evil.example.com/x", "/"),
        ("/\\evil.example.com", "/"),
        ("/a\\b", "/"),
        ("https://evil.example.com/", "/"),
        ("javascript:alert(1)", "/"),
        ("evil.example.com", "/"),
        ("", "/"),
        ("/a\r\nSet-Cookie: x=1", "/"),
        ("/a\x00b", "/"),
        ("/caf\u00e9", "/"),
        ("/" + "a" * 3000, "/"),
        (None, "/"),
        (["/"], "/"),
    ],
)
def test_next_must_be_a_path_on_this_app(given: Any, kept: str) -> None:
    assert safe_next(given) == kept


def test_a_foreign_next_becomes_the_root_after_sign_in(lc: LocalCognito) -> None:
    sessions = CognitoSessions(lc.config)
    assert sign_in(lc, sessions, "//evil.example.com/").next_path == "/"
    assert sign_in(lc, sessions, "https://evil.example.com/").next_path == "/"


def sessions_stored(store: MemorySessionStore) -> int:
    return len(store)


def test_a_callback_without_a_pending_sign_in_is_refused_and_creates_nothing(
    lc: LocalCognito,
) -> None:
    store = MemorySessionStore()
    sessions = CognitoSessions(lc.config, store=store)
    start = sessions.begin("/")
    query = browse_to_callback(lc, start.url)
    for pending_id in (None, "", "x" * 43, "not-an-id", 42):
        with pytest.raises(CallbackError) as info:
            sessions.complete(pending_id, query)
        assert info.value.reason == "state"
    assert sessions_stored(store) == 0
    assert lc.token_requests("authorization_code") == 0


def test_the_state_is_single_use(lc: LocalCognito) -> None:
    store = MemorySessionStore()
    sessions = CognitoSessions(lc.config, store=store)
    start = sessions.begin("/")
    query = browse_to_callback(lc, start.url)
    sessions.complete(start.pending_id, query)
    with pytest.raises(CallbackError) as info:
        sessions.complete(start.pending_id, query)  # a replay
    assert info.value.reason == "state"
    assert sessions_stored(store) == 1
    assert lc.token_requests("authorization_code") == 1


def test_a_mismatched_state_is_refused_consumes_the_sign_in_and_creates_nothing(
    lc: LocalCognito,
) -> None:
    store = MemorySessionStore()
    sessions = CognitoSessions(lc.config, store=store)
    start = sessions.begin("/")
    other = sessions.begin("/")
    query = browse_to_callback(lc, other.url)  # the state of another sign-in
    with pytest.raises(CallbackError) as info:
        sessions.complete(start.pending_id, query)
    assert info.value.reason == "state"
    for bad in ({**query, "state": ""}, {k: v for k, v in query.items() if k != "state"}):
        pending = sessions.begin("/")
        with pytest.raises(CallbackError):
            sessions.complete(pending.pending_id, bad)
    with pytest.raises(CallbackError):  # the refused sign-in cannot be completed afterwards
        sessions.complete(start.pending_id, browse_to_callback(lc, start.url))
    assert sessions_stored(store) == 0
    assert lc.token_requests("authorization_code") == 0


def test_a_sign_in_expires_after_ten_minutes(lc: LocalCognito) -> None:
    clock = Clock()
    store = MemorySessionStore()
    sessions = CognitoSessions(lc.config, store=store, clock=clock)
    start = sessions.begin("/")
    query = browse_to_callback(lc, start.url)
    clock.offset = 600
    with pytest.raises(CallbackError) as info:
        sessions.complete(start.pending_id, query)
    assert info.value.reason == "state" and "expired" in str(info.value)
    assert sessions_stored(store) == 0
    fresh = sessions.begin("/")  # 599 s later is still in time
    query = browse_to_callback(lc, fresh.url)
    clock.offset += 599
    assert sessions.complete(fresh.pending_id, query).session_id


def test_an_error_on_the_redirect_is_refused_and_creates_nothing(lc: LocalCognito) -> None:
    store = MemorySessionStore()
    sessions = CognitoSessions(lc.config, store=store)
    start = sessions.begin("/")
    state = browse_to_callback(lc, start.url)["state"]
    with pytest.raises(CallbackError) as info:
        sessions.complete(start.pending_id, {"state": state, "error": "access_denied"})
    assert info.value.reason == "denied" and "access_denied" in str(info.value)
    start = sessions.begin("/")
    state = browse_to_callback(lc, start.url)["state"]
    with pytest.raises(CallbackError) as info:
        sessions.complete(start.pending_id, {"state": state, "error": "<script>"})
    assert "<script>" not in str(info.value)
    assert sessions_stored(store) == 0


def test_a_used_code_is_refused_with_a_400_reason(lc: LocalCognito) -> None:
    sessions = CognitoSessions(lc.config)
    start = sessions.begin("/")
    query = browse_to_callback(lc, start.url)
    sessions.complete(start.pending_id, query)
    replay = sessions.begin("/")
    # The right state of a new sign-in, with the code already exchanged.
    state = browse_to_callback(lc, replay.url)["state"]
    with pytest.raises(CallbackError) as info:
        sessions.complete(replay.pending_id, {"state": state, "code": query["code"]})
    assert info.value.reason == "code"
    assert isinstance(info.value.__cause__, TokenExchangeError)


class NonceSwapper(CountingStore):
    """Files every pending sign-in with another nonce: the ID token's will not match."""

    def put_pending(self, key: str, pending: PendingSignIn, ttl: float) -> None:
        swapped = dataclasses.replace(pending, nonce="another-nonce-of-another-sign-in")
        super().put_pending(key, swapped, ttl)


def test_an_id_token_with_another_nonce_creates_no_session(lc: LocalCognito) -> None:
    inner = MemorySessionStore()
    sessions = CognitoSessions(lc.config, store=NonceSwapper(inner))
    start = sessions.begin("/")
    with pytest.raises(CallbackError) as info:
        sessions.complete(start.pending_id, browse_to_callback(lc, start.url))
    assert info.value.reason == "tokens"
    assert isinstance(info.value.__cause__, InvalidClaimsError)
    assert info.value.__cause__.claim == "nonce"
    assert sessions_stored(inner) == 0


def test_the_id_token_is_checked_against_the_access_token(lc: LocalCognito) -> None:
    access = lc.mint("access")
    good = Tokens(lc.mint("id", at_hash=None), access, None, 3600)
    assert verify_tokens(lc.config, good, nonce=None)[0]["token_use"] == "id"  # no at_hash: ok
    wrong_hash = Tokens(lc.mint("id", at_hash="AAAAAAAAAAAAAAAAAAAAAA"), access, None, 3600)
    with pytest.raises(InvalidClaimsError) as info:
        verify_tokens(lc.config, wrong_hash, nonce=None)
    assert info.value.claim == "at_hash"
    swapped = Tokens(lc.mint("id", at_hash=None), lc.mint("id"), None, 3600)
    with pytest.raises(TokenVerificationError):  # an ID token where the access token belongs
        verify_tokens(lc.config, swapped, nonce=None)
    other_user = Tokens(lc.mint("id", at_hash=None), lc.mint("access", sub="someone"), None, 1)
    with pytest.raises(InvalidClaimsError) as info:
        verify_tokens(lc.config, other_user, nonce=None)
    assert info.value.claim == "sub"
    no_user = Tokens(lc.mint("id", at_hash=None, sub=None), lc.mint("access", sub=None), None, 1)
    with pytest.raises(InvalidClaimsError) as info:
        verify_tokens(lc.config, no_user, nonce=None)
    assert info.value.claim == "sub"


# -- sign-out -----------------------------------------------------------------------------------


def test_sign_out_revokes_deletes_lists_and_returns_the_logout_url(lc: LocalCognito) -> None:
    revocations = RevocationList()
    sessions = CognitoSessions(lc.config, revocations=revocations)
    signed_in = sign_in(lc, sessions)
    session = sessions.load(signed_in.session_id)
    assert session is not None
    access_token = session.access_token()
    claims = dict(session.user)
    url = sessions.end(signed_in.session_id)
    assert url == lc.config.logout_url()
    assert "client_id=" in url and "logout_uri=" in url
    assert sessions.load(signed_in.session_id) is None
    assert ("POST", "/oauth2/revoke") in lc.requests_seen
    with pytest.raises(TokenExchangeError) as info:  # revoked at Cognito
        get_user_info(access_token, config=lc.config)
    assert info.value.status_code == 401
    assert revocations.is_revoked(claims)  # and refused offline, through the list
    assert sessions.end(signed_in.session_id) == url  # again: nothing left, same URL


def test_sign_out_with_cognito_down_still_deletes_the_session(
    make_lc: MakeLocalCognito, caplog: pytest.LogCaptureFixture
) -> None:
    lc = make_lc()
    sessions = CognitoSessions(lc.config)
    signed_in = sign_in(lc, sessions)
    config = dataclasses.replace(lc.config)
    lc.stop()
    with caplog.at_level(logging.WARNING, logger="cognito_helper"):
        assert sessions.end(signed_in.session_id) == config.logout_url()
    assert sessions.load(signed_in.session_id) is None
    assert any("not revoked" in r.getMessage() for r in caplog.records)


def test_sign_out_refuses_a_get_and_another_origin() -> None:
    app = "https://app.example.com"
    assert sign_out_refusal("GET", app, None, app) == 405
    assert sign_out_refusal("HEAD", app, None, app) == 405
    assert sign_out_refusal("POST", "https://evil.example.com", None, app) == 403
    assert sign_out_refusal("POST", "null", app + "/x", app) == 403
    assert sign_out_refusal("POST", None, None, app) == 403  # fail closed
    assert sign_out_refusal("POST", None, "https://evil.example.com/app.example.com", app) == 403
    assert sign_out_refusal("POST", app, None, app) is None
    assert sign_out_refusal("post", "HTTPS://APP.example.com:443", None, app) is None
    assert sign_out_refusal("POST", None, app + "/account?x=1", app) is None


@pytest.mark.parametrize(
    ("value", "same"),
    [
        ("https://app.example.com", True),
        ("https://app.example.com:443/", True),
        ("http://app.example.com", False),
        ("https://app.example.com:8443", False),
        ("https://app.example.com.evil.test", False),
        ("https://user@app.example.com", False),
        ("https://app.example.com:notaport", False),
        ("app.example.com", False),
        ("", False),
        (None, False),
    ],
)
def test_same_origin_compares_scheme_host_and_port(value: Any, same: bool) -> None:
    assert same_origin(value, "https://app.example.com") is same


# -- configuration -------------------------------------------------------------------------------


def config_with(**changes: Any) -> CognitoConfig:
    base = CognitoConfig(
        user_pool_id="us-east-1_AbC123",
        client_id="abc123client",
        domain="auth.example.com",
        redirect_uri="https://app.example.com/cognito_redirect",
        logout_uri="https://app.example.com/",
    )
    return dataclasses.replace(base, **changes)


@pytest.mark.parametrize(
    ("redirect_uri", "secure"),
    [
        ("https://app.example.com/cb", True),
        ("http://localhost:8000/cb", False),
        ("http://127.0.0.1:8000/cb", False),
        ("http://[::1]:8000/cb", False),
        ("https://localhost:8000/cb", True),
    ],
)
def test_cookies_are_httponly_lax_and_secure_unless_plain_http_on_loopback(
    redirect_uri: str, secure: bool
) -> None:
    settings = cookie_settings(config_with(redirect_uri=redirect_uri))
    assert (settings.http_only, settings.same_site, settings.path) == (True, "Lax", "/")
    assert settings.secure is secure


def test_the_app_origin_is_the_callbacks() -> None:
    assert app_origin(config_with()) == "https://app.example.com"
    assert app_origin(config_with(redirect_uri="http://localhost:8000/cb")) == (
        "http://localhost:8000"
    )


@pytest.mark.parametrize(
    ("changes", "names"),
    [
        ({"redirect_uri": None}, "redirect_uri"),
        ({"redirect_uri": "myapp://callback"}, "redirect_uri"),
        ({"logout_uri": None}, "logout_uri"),
        ({"domain": None}, "domain"),
        ({"scopes": ("email",)}, "openid"),
    ],
)
def test_a_config_that_cannot_run_a_signed_in_app_is_a_config_error(
    changes: Dict[str, Any], names: str
) -> None:
    with pytest.raises(ConfigError, match=names):
        CognitoSessions(config_with(**changes))


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"idle_timeout": 0}, ValueError),
        ({"idle_timeout": -1}, ValueError),
        ({"idle_timeout": float("inf")}, ValueError),
        ({"idle_timeout": "8h"}, TypeError),
        ({"absolute_timeout": 0}, ValueError),
        ({"refresh_margin": -1}, ValueError),
        ({"refresh_margin": True}, TypeError),
        ({"store": object()}, TypeError),
        ({"revocations": object()}, TypeError),
        ({"clock": 3.0}, TypeError),
    ],
)
def test_bad_options_are_refused(options: Dict[str, Any], error: type) -> None:
    with pytest.raises(error):
        CognitoSessions(config_with(), **options)


# -- secrets stay out of logs, reprs and messages ------------------------------------------------


def test_no_token_state_nonce_verifier_or_id_reaches_a_log_repr_or_message(
    lc: LocalCognito, caplog: pytest.LogCaptureFixture
) -> None:
    # The library's logger, at every level (urllib3's lines are the browser's, in the test).
    caplog.set_level(logging.DEBUG, logger="cognito_helper")
    store = MemorySessionStore()
    sessions = CognitoSessions(lc.config, store=store, revocations=RevocationList())
    seen: List[str] = []
    start = sessions.begin("/")
    pending = store.take_pending(storage_key(start.pending_id))
    assert pending is not None  # read, and filed again for the sign-in to go on
    store.put_pending(storage_key(start.pending_id), pending, 600)
    query = browse_to_callback(lc, start.url)
    with pytest.raises(CallbackError) as mismatch:
        sessions.complete(sessions.begin("/").pending_id, query)
    seen += [str(mismatch.value), repr(mismatch.value), repr(start), repr(pending)]
    start = sessions.begin("/")
    query = browse_to_callback(lc, start.url)
    signed_in = sessions.complete(start.pending_id, query)
    session = sessions.load(signed_in.session_id)
    assert session is not None
    record = store.load(storage_key(signed_in.session_id))
    assert record is not None
    seen += [repr(signed_in), repr(session), repr(record), repr(sessions), repr(store)]
    sessions.end(signed_in.session_id)
    with pytest.raises(CallbackError) as replay:
        sessions.complete(start.pending_id, query)
    seen += [str(replay.value), repr(replay.value)]
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("cognito_helper")]
    assert any("session started" in line for line in logged)
    seen += logged
    secrets = [
        record.id_token,
        record.access_token,
        record.refresh_token,
        signed_in.session_id,
        start.pending_id,
        query["state"],
        query["code"],
        pending.state,
        pending.nonce,
        pending.code_verifier,
    ]
    for text in seen:
        for secret in secrets:
            assert secret and secret not in text, text


# -- the memory store ---------------------------------------------------------------------------


def a_record(name: str) -> Any:
    from cognito_helper.sessions import SessionRecord

    return SessionRecord(
        id_token=f"id-{name}",
        access_token=f"access-{name}",
        refresh_token=None,
        user={"sub": name},
        access_issued_at=0.0,
        access_expires_at=3600.0,
        created_at=0.0,
        last_seen=0.0,
        ends_at=86400.0,
        origin_jti=None,
    )


def test_the_memory_store_is_bounded_dropping_the_least_recently_used() -> None:
    store = MemorySessionStore(max_sessions=3, max_pending=2)
    for name in "abc":
        store.create(name, a_record(name), 3600)
    assert store.load("a") is not None  # used: "b" is now the least recently used
    store.create("d", a_record("d"), 3600)
    assert len(store) == 3
    assert [store.load(n) is not None for n in "abcd"] == [True, False, True, True]
    for name in "xyz":
        store.put_pending(name, PendingSignIn("s", "n", "v", "/", 0.0), 600)
    assert store.take_pending("x") is None  # the oldest pending sign-in was dropped
    assert store.take_pending("z") is not None
    with pytest.raises(ValueError):
        MemorySessionStore(max_sessions=0)


def test_the_memory_store_forgets_at_the_ttl_and_never_brings_a_deleted_session_back() -> None:
    now = [100.0]
    store = MemorySessionStore(clock=lambda: now[0])
    store.create("a", a_record("a"), 10)
    store.put_pending("p", PendingSignIn("s", "n", "v", "/", 0.0), 10)
    assert store.update("a", a_record("a2"), 10)
    store.delete("a")
    assert not store.update("a", a_record("a3"), 10)  # a refresh finishing after sign-out
    assert store.load("a") is None
    store.create("b", a_record("b"), 10)
    now[0] += 10
    assert store.load("b") is None and store.take_pending("p") is None
