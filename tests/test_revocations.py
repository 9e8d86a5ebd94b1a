"""Issue 21, revocation that takes effect: ``decode_verify_jwt(..., revocations=rl)`` and
``CognitoVerifier(revocations=rl)`` refuse the tokens of a signed-out session (reason
``"revoked"``), on a new token and on a memo hit alike, while other sign-ins' tokens pass.

Sign-in and sign-out run over real HTTP against LocalCognito; the fleet's list on a real
``redis-server``."""

from __future__ import annotations

import socket
from typing import Any, Callable, Dict, Iterator, List, Mapping, Tuple

import pytest

from cognito_helper import (
    REASONS,
    CognitoConnectionError,
    CognitoVerifier,
    TokenVerificationError,
    clear_verification_memo,
    decode_verify_jwt,
    verification_memo_info,
)
from cognito_helper.sessions import (
    CognitoSessions,
    RedisRevocationStore,
    RevocationList,
    storage_key,
)
from cognito_helper.testing import LocalCognito

from .redis_server import RedisServer, redis_server_path
from .sessions_support import sign_in

Verify = Callable[[str, str, Any], Dict[str, Any]]


def _by_function(config: Any, token: str, use: str, revocations: Any) -> Dict[str, Any]:
    return decode_verify_jwt(token, config=config, token_use=use, revocations=revocations)


def _by_verifier(config: Any, token: str, use: str, revocations: Any) -> Dict[str, Any]:
    return CognitoVerifier(config, token_use=use, revocations=revocations).verify(token)


DOORS = {"decode_verify_jwt": _by_function, "CognitoVerifier": _by_verifier}


@pytest.fixture(autouse=True)
def fresh_memo() -> Iterator[None]:
    clear_verification_memo()
    yield
    clear_verification_memo()


def _tokens(sessions: CognitoSessions, session_id: str) -> Tuple[str, str]:
    """The session's (ID token, access token), as its store holds them."""
    record = sessions.store.load(storage_key(session_id))
    assert record is not None
    return record.id_token, record.access_token


def _refused(verify: Callable[[], Any]) -> TokenVerificationError:
    with pytest.raises(TokenVerificationError) as info:
        verify()
    return info.value


@pytest.mark.parametrize("door", DOORS)
def test_a_signed_out_sessions_tokens_are_refused_new_and_remembered(
    lc: LocalCognito, door: str
) -> None:
    verify = DOORS[door]
    revocations = RevocationList()
    sessions = CognitoSessions(lc.config, revocations=revocations)
    ended = sign_in(lc, sessions).session_id
    other = sign_in(lc, sessions).session_id  # another sign-in, not signed out
    tokens = {"id": _tokens(sessions, ended)[0], "access": _tokens(sessions, ended)[1]}
    others = {"id": _tokens(sessions, other)[0], "access": _tokens(sessions, other)[1]}
    for use, token in tokens.items():  # accepted before sign-out, and remembered
        assert verify(lc.config, token, use, revocations)["token_use"] == use
    sessions.end(ended)
    for use, token in tokens.items():
        hits = verification_memo_info().hits
        refusal = _refused(lambda: verify(lc.config, token, use, revocations))
        assert verification_memo_info().hits == hits + 1  # refused on a memo hit
        assert refusal.reason == "revoked" and "revoked" in REASONS
        assert refusal.client_message == "the token has been revoked"
        assert refusal.claims is not None and refusal.claims["token_use"] == use
    clear_verification_memo()
    for use, token in tokens.items():  # a new token (not remembered): refused too
        assert _refused(lambda: verify(lc.config, token, use, revocations)).reason == "revoked"
        assert verify(lc.config, others[use], use, revocations)["token_use"] == use
        assert verify(lc.config, others[use], use, revocations)["token_use"] == use  # memo hit


def test_a_verifier_without_the_list_still_accepts_them(lc: LocalCognito) -> None:
    """The memo is the process's: a verifier given no list is not refused by another's."""
    revocations = RevocationList()
    sessions = CognitoSessions(lc.config, revocations=revocations)
    session_id = sign_in(lc, sessions).session_id
    _, access = _tokens(sessions, session_id)
    sessions.end(session_id)
    with pytest.raises(TokenVerificationError):
        decode_verify_jwt(access, config=lc.config, token_use="access", revocations=revocations)
    hits = verification_memo_info().hits
    claims = decode_verify_jwt(access, config=lc.config, token_use="access")
    assert verification_memo_info().hits == hits + 1 and claims["token_use"] == "access"
    assert CognitoVerifier(lc.config, token_use="access").verify(access) == claims


class Spy:
    """A revocation list that records the claims it is asked about."""

    def __init__(self, revoked: bool = False) -> None:
        self.revoked = revoked
        self.asked: List[Dict[str, Any]] = []

    def is_revoked(self, claims: Mapping[str, Any]) -> bool:
        self.asked.append(dict(claims))
        return self.revoked


def test_the_list_is_asked_after_every_other_check_passed(lc: LocalCognito) -> None:
    spy = Spy()
    token = lc.mint("id")
    verifier = CognitoVerifier(lc.config, token_use="access", revocations=spy)
    assert _refused(lambda: verifier.verify(token)).reason == "token_use"
    assert spy.asked == []  # a token refused for another reason is never looked up
    claims = CognitoVerifier(lc.config, token_use="id", revocations=spy).verify(token)
    assert spy.asked == [claims]
    calls: List[str] = []

    def check(claims: Dict[str, Any]) -> bool:
        calls.append("check")
        return True

    refusing = CognitoVerifier(lc.config, token_use="id", revocations=Spy(True), check=check)
    assert _refused(lambda: refusing.verify(token)).reason == "revoked"
    assert calls == []  # refused before the app's check


@pytest.mark.parametrize("bad", [object(), "list", Spy, type("NoCall", (), {"is_revoked": 1})()])
def test_revocations_without_is_revoked_are_a_type_error(lc: LocalCognito, bad: Any) -> None:
    assert CognitoVerifier(lc.config, token_use="id", revocations=Spy()).revocations is not None
    with pytest.raises(TypeError, match="revocations"):
        CognitoVerifier(lc.config, token_use="id", revocations=bad)
    with pytest.raises(TypeError, match="revocations"):
        decode_verify_jwt(lc.mint("id"), config=lc.config, revocations=bad)


# -- Redis: a fleet ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with RedisServer(redis_server_path()) as running:
        yield running


@pytest.mark.parametrize("door", DOORS)
def test_the_redis_list_serves_another_processs_verifier(
    lc: LocalCognito, server: RedisServer, door: str
) -> None:
    writer, reader = server.client(), server.client()
    writer.flushall()
    try:
        sessions = CognitoSessions(
            lc.config, revocations=RevocationList(RedisRevocationStore(writer))
        )
        elsewhere = RevocationList(RedisRevocationStore(reader))  # the other process's list
        ended = sign_in(lc, sessions).session_id
        other = sign_in(lc, sessions).session_id
        id_token, access = _tokens(sessions, ended)
        verify = DOORS[door]
        assert verify(lc.config, access, "access", elsewhere)["token_use"] == "access"
        sessions.end(ended)
        for use, token in (("access", access), ("id", id_token)):
            assert _refused(lambda: verify(lc.config, token, use, elsewhere)).reason == "revoked"
        assert verify(lc.config, _tokens(sessions, other)[1], "access", elsewhere)
    finally:
        writer.close()
        reader.close()


@pytest.mark.parametrize("door", DOORS)
def test_a_list_that_cannot_be_read_fails_closed(lc: LocalCognito, door: str) -> None:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))  # a port nothing listens on: Redis is down
        client = redis.Redis(
            port=s.getsockname()[1], socket_connect_timeout=2, retry=Retry(NoBackoff(), 0)
        )
        down = RevocationList(RedisRevocationStore(client))
        token = lc.mint("access")
        verify = DOORS[door]
        with pytest.raises(CognitoConnectionError):  # a new token
            verify(lc.config, token, "access", down)
        assert verify(lc.config, token, "access", None)  # remembered, without the list
        hits = verification_memo_info().hits
        with pytest.raises(CognitoConnectionError):  # a memo hit
            verify(lc.config, token, "access", down)
        assert verification_memo_info().hits == hits + 1
