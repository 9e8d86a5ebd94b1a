"""Issue 21, the sessions core: fresh tokens (refresh when due, single flight, rotation,
invalid_grant) and the idle and absolute timeouts, against LocalCognito over loopback HTTP.

LocalCognito issues tokens on its own clock (moved back while a test signs in, so that the
tokens have only a few seconds left); the sessions core reads an injected clock; the
verification reads the real one, so every token handed out must really be valid.
"""

from __future__ import annotations

import time

import pytest

from cognito_helper import (
    CognitoConnectionError,
    InvalidGrantError,
    decode_verify_jwt,
    get_cognito_tokens,
    get_user_info,
    revoke_token,
)
from cognito_helper.oauth.token_store import refresh_due_at
from cognito_helper.sessions import (
    CognitoSessions,
    MemorySessionStore,
    SessionEndedError,
    storage_key,
)
from cognito_helper.testing import LocalCognito

from .helpers import MakeLocalCognito
from .sessions_support import Clock, CountingStore, expiring_sign_in, run_together, sign_in

LIFETIME = 300  # LocalCognito's token lifetime in these tests, seconds


def refreshes(lc: LocalCognito) -> int:
    return lc.token_requests("refresh_token")


# -- the rule ---------------------------------------------------------------------------------


def test_the_refresh_rule_is_the_margin_but_never_before_half_the_lifetime() -> None:
    assert refresh_due_at(1000, 4600, margin=60) == 4540  # one hour: 60 s before exp
    assert refresh_due_at(1000, 1100, margin=60) == 1050  # 100 s: at half the lifetime
    assert refresh_due_at(1000, 4600, margin=60, fraction=0.1) == 4240  # M2M's 10 %
    assert refresh_due_at(1000, 1000, margin=60) == 1000  # no lifetime: due at once


# -- refresh when due --------------------------------------------------------------------------


def test_a_token_with_time_left_is_handed_out_without_a_request(make_lc: MakeLocalCognito) -> None:
    lc = make_lc(token_lifetime=LIFETIME)
    sessions = CognitoSessions(lc.config)
    signed_in = sign_in(lc, sessions)
    session = sessions.load(signed_in.session_id)
    assert session is not None
    assert session.access_token() == session.access_token()
    assert refreshes(lc) == 0


def test_a_token_with_fewer_than_margin_seconds_left_is_refreshed(
    make_lc: MakeLocalCognito,
) -> None:
    lc = make_lc(token_lifetime=LIFETIME)
    sessions = CognitoSessions(lc.config, refresh_margin=60)
    signed_in = expiring_sign_in(lc, sessions, seconds_left=50)
    session = sessions.load(signed_in.session_id)
    assert session is not None
    old_user = session.user
    fresh = session.access_token()
    assert refreshes(lc) == 1
    claims = decode_verify_jwt(fresh, config=lc.config, token_use="access")
    assert claims["exp"] - time.time() > LIFETIME - 10
    assert session.user["exp"] > old_user["exp"]  # the user's claims came with the refresh
    assert session.user["jti"] != old_user["jti"]
    again = sessions.load(signed_in.session_id)  # and were stored
    assert again is not None and again.access_token() == fresh and again.user == session.user
    assert refreshes(lc) == 1


def test_the_margin_is_never_more_than_half_the_lifetime(make_lc: MakeLocalCognito) -> None:
    lc = make_lc(token_lifetime=LIFETIME)
    sessions = CognitoSessions(lc.config, refresh_margin=3600)  # more than the lifetime
    signed_in = expiring_sign_in(lc, sessions, seconds_left=LIFETIME / 2 + 20)
    session = sessions.load(signed_in.session_id)
    assert session is not None
    session.access_token()
    assert refreshes(lc) == 0  # 170 s of 300 left: not yet half used
    signed_in = expiring_sign_in(lc, sessions, seconds_left=LIFETIME / 2 - 20)
    session = sessions.load(signed_in.session_id)
    assert session is not None
    session.access_token()
    assert refreshes(lc) == 1


# -- single flight -----------------------------------------------------------------------------


def test_sixteen_concurrent_requests_at_expiry_make_one_refresh_grant(
    make_lc: MakeLocalCognito,
) -> None:
    lc = make_lc(token_lifetime=LIFETIME, refresh_token_rotation=True)
    clock = Clock()
    sessions = CognitoSessions(lc.config, clock=clock)
    signed_in = expiring_sign_in(lc, sessions, seconds_left=5)
    clock.offset = 10  # the held token has expired, for the sessions

    def request() -> str:
        session = sessions.load(signed_in.session_id)
        assert session is not None
        return session.access_token()

    tokens, errors = run_together(16, request)
    assert errors == []
    assert len(tokens) == 16 and len(set(tokens)) == 1
    assert refreshes(lc) == 1
    assert get_user_info(tokens[0], config=lc.config)


def test_requests_while_a_refresh_runs_keep_a_token_that_is_still_valid(
    make_lc: MakeLocalCognito,
) -> None:
    lc = make_lc(token_lifetime=LIFETIME)
    store = MemorySessionStore()
    sessions = CognitoSessions(lc.config, store=store)
    signed_in = expiring_sign_in(lc, sessions, seconds_left=30)  # due, not expired
    session = sessions.load(signed_in.session_id)
    assert session is not None
    held = store.load(storage_key(signed_in.session_id))
    assert held is not None
    with store.lock(storage_key(signed_in.session_id), ttl=30, wait=0) as locked:
        assert locked  # as a refresh running in another request would
        started = time.monotonic()
        assert session.access_token() == held.access_token  # no wait for the lock
        assert time.monotonic() - started < 5
    assert refreshes(lc) == 0


# -- rotation ---------------------------------------------------------------------------------


def test_rotation_stores_the_new_refresh_token_and_never_sends_a_rotated_away_one(
    make_lc: MakeLocalCognito,
) -> None:
    # With no grace period, a refresh with a token that was rotated away is invalid_grant,
    # which ends the session. In each round, 8 concurrent requests find the access token
    # expired (for the sessions' clock) and wait for one refresh; LocalCognito's clock is
    # moved with the sessions', so what it issues is fresh (and its iat within the skew the
    # verification allows). The session survives every round: no request sent a rotated-away
    # token; each round made one grant, which rotated the token, and the new one was stored.
    lc = make_lc(token_lifetime=120, refresh_token_rotation=True, rotation_grace_period=0)
    clock = Clock()
    store = MemorySessionStore()
    sessions = CognitoSessions(lc.config, store=store, clock=clock)
    signed_in = sign_in(lc, sessions)
    key = storage_key(signed_in.session_id)
    first = store.load(key)
    assert first is not None
    stored = [first.refresh_token]

    def request() -> str:
        session = sessions.load(signed_in.session_id)
        assert session is not None
        return session.access_token()

    for round_, offset in enumerate((125, 250), start=1):
        clock.offset = offset
        lc.clock = clock
        tokens, errors = run_together(8, request)
        assert errors == [] and len(set(tokens)) == 1
        assert refreshes(lc) == round_
        record = store.load(key)
        assert record is not None and record.access_token == tokens[0]
        stored.append(record.refresh_token)
    assert len(set(stored)) == 3  # rotated by each grant, and kept
    with pytest.raises(InvalidGrantError):  # the first one really was rotated away
        get_cognito_tokens(refresh_token=stored[0], config=lc.config)


def test_invalid_grant_ends_the_session(make_lc: MakeLocalCognito) -> None:
    lc = make_lc(token_lifetime=LIFETIME)
    store = MemorySessionStore()
    sessions = CognitoSessions(lc.config, store=store)
    signed_in = expiring_sign_in(lc, sessions, seconds_left=30)
    record = store.load(storage_key(signed_in.session_id))
    assert record is not None and record.refresh_token is not None
    revoke_token(record.refresh_token, config=lc.config)  # revoked elsewhere (an admin)
    session = sessions.load(signed_in.session_id)
    assert session is not None
    with pytest.raises(SessionEndedError):
        session.access_token()
    assert sessions.load(signed_in.session_id) is None  # the next page signs in again
    assert store.load(storage_key(signed_in.session_id)) is None


def test_cognito_down_keeps_a_valid_token_and_refuses_an_expired_one(
    make_lc: MakeLocalCognito,
) -> None:
    lc = make_lc(token_lifetime=LIFETIME)
    clock = Clock()
    sessions = CognitoSessions(lc.config, clock=clock)
    signed_in = expiring_sign_in(lc, sessions, seconds_left=30)
    session = sessions.load(signed_in.session_id)
    assert session is not None
    with lc.fail_token_endpoint(503):
        held = session.access_token()  # due, the refresh failed, the token is still valid
        assert decode_verify_jwt(held, config=lc.config, token_use="access")
        clock.offset = 40
        with pytest.raises(CognitoConnectionError):
            session.access_token()
    assert sessions.load(signed_in.session_id) is not None  # a 503, not the end
    assert session.access_token() != held


# -- timeouts ---------------------------------------------------------------------------------


def test_an_idle_session_ends(lc: LocalCognito) -> None:
    clock = Clock()
    sessions = CognitoSessions(lc.config, idle_timeout=3600, clock=clock)
    signed_in = sign_in(lc, sessions)
    clock.offset = 3000
    assert sessions.load(signed_in.session_id) is not None  # used: idle from now again
    clock.offset = 3000 + 3599
    assert sessions.load(signed_in.session_id) is not None
    clock.offset = 3000 + 3599 + 3600
    assert sessions.load(signed_in.session_id) is None
    clock.offset = 0
    assert sessions.load(signed_in.session_id) is None  # deleted, not only refused


def test_the_idle_clock_is_written_once_per_touch_interval(lc: LocalCognito) -> None:
    clock = Clock()
    store = CountingStore(MemorySessionStore())
    sessions = CognitoSessions(lc.config, store=store, clock=clock)
    signed_in = sign_in(lc, sessions)
    store.calls.clear()
    for _ in range(50):
        assert sessions.load(signed_in.session_id) is not None
    assert store.calls == ["load"] * 50  # one read per request
    clock.offset = 61
    sessions.load(signed_in.session_id)
    assert store.calls[50:] == ["load", "lock", "load", "update"]


def test_a_session_ends_at_its_absolute_timeout_however_busy(lc: LocalCognito) -> None:
    clock = Clock()
    sessions = CognitoSessions(lc.config, idle_timeout=3600, absolute_timeout=5 * 3600, clock=clock)
    signed_in = sign_in(lc, sessions)
    for step in range(1, 6):  # used every 50 minutes: never idle for an hour
        clock.offset = step * 3000
        assert sessions.load(signed_in.session_id) is not None, step
    clock.offset = 5 * 3600 - 1
    assert sessions.load(signed_in.session_id) is not None
    clock.offset = 5 * 3600
    assert sessions.load(signed_in.session_id) is None


def test_the_absolute_timeout_defaults_to_thirty_days(lc: LocalCognito) -> None:
    sessions = CognitoSessions(lc.config)
    signed_in = sign_in(lc, sessions)
    session = sessions.load(signed_in.session_id)
    assert session is not None
    assert abs(session.ends_at - (time.time() + 30 * 86400)) < 60
