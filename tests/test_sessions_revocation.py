"""Issue 21, RevocationList: what sign-out adds, how long it lasts, and the stores (this
process's memory; a real ``redis-server`` on loopback for a fleet)."""

from __future__ import annotations

import logging
import socket
import time
from typing import Any, Iterator, List

import pytest

from cognito_helper import CognitoConnectionError, decode_verify_jwt
from cognito_helper.sessions import (
    CognitoSessions,
    MemoryRevocationStore,
    RedisRevocationStore,
    RevocationList,
    SessionStoreUnavailableError,
)
from cognito_helper.testing import LocalCognito

from .redis_server import RedisServer, redis_server_path
from .sessions_support import Clock, sign_in


class SteppedClock:
    """A monotonic clock a test moves by hand (the memory store's expiry reads it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# -- the list ---------------------------------------------------------------------------------


def test_a_token_is_revoked_by_its_origin_jti_or_its_jti() -> None:
    revocations = RevocationList()
    now = time.time()
    revocations.add("sign-in-1", now + 3600)
    revocations.add("token-7", now + 3600)
    assert revocations.is_revoked({"origin_jti": "sign-in-1", "jti": "token-1"})
    assert revocations.is_revoked({"jti": "token-7"})  # no origin_jti: its jti
    assert revocations.is_revoked({"origin_jti": "sign-in-2", "jti": "token-7"})
    assert not revocations.is_revoked({"origin_jti": "sign-in-2", "jti": "token-2"})
    assert not revocations.is_revoked({})
    assert not revocations.is_revoked({"origin_jti": 5, "jti": None})


def test_an_entry_lasts_until_the_tokens_exp_plus_the_leeway() -> None:
    steps = SteppedClock()
    wall = Clock()
    revocations = RevocationList(MemoryRevocationStore(clock=steps), leeway=300, clock=wall)
    revocations.add("sign-in-1", time.time() + 3600)
    steps.now += 3600 + 299
    assert revocations.is_revoked({"origin_jti": "sign-in-1"})
    steps.now += 2
    assert not revocations.is_revoked({"origin_jti": "sign-in-1"})


def test_an_entry_already_past_is_not_added_and_none_lasts_beyond_a_day() -> None:
    steps = SteppedClock()
    store = MemoryRevocationStore(clock=steps)
    revocations = RevocationList(store, leeway=0)
    revocations.add("gone", time.time() - 1)
    assert len(store) == 0
    revocations.add("forever", time.time() + 10 * 365 * 86400)
    steps.now += 86400 + 1
    assert not revocations.is_revoked({"origin_jti": "forever"})


def test_adding_again_keeps_the_longer_listing() -> None:
    steps = SteppedClock()
    revocations = RevocationList(MemoryRevocationStore(clock=steps), leeway=0)
    now = time.time()
    revocations.add("sign-in-1", now + 3600)
    revocations.add("sign-in-1", now + 60)
    steps.now += 1800
    assert revocations.is_revoked({"origin_jti": "sign-in-1"})


def test_the_memory_store_is_bounded_and_drops_the_soonest_to_expire(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = MemoryRevocationStore(max_entries=3, clock=SteppedClock())
    revocations = RevocationList(store, leeway=0)
    now = time.time()
    with caplog.at_level(logging.WARNING, logger="cognito_helper"):
        for name, left in (("b", 200), ("a", 100), ("c", 300), ("d", 400), ("e", 500)):
            revocations.add(name, now + left)
    assert len(store) == 3
    assert [revocations.is_revoked({"jti": n}) for n in "abcde"] == [0, 0, 1, 1, 1]
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("", 1.0), ValueError),
        ((None, 1.0), ValueError),
        (("x", "soon"), ValueError),
        (("x", float("nan")), ValueError),
        (("x", True), ValueError),
    ],
)
def test_bad_entries_are_refused(args: Any, error: type) -> None:
    with pytest.raises(error):
        RevocationList().add(*args)


def test_bad_options_are_refused() -> None:
    with pytest.raises(TypeError):
        RevocationList(store=object())  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        RevocationList(leeway=-1)
    with pytest.raises(ValueError):
        MemoryRevocationStore(max_entries=0)


# -- sign-out ---------------------------------------------------------------------------------


def test_sign_out_lists_the_origin_jti_of_every_token_of_the_session(lc: LocalCognito) -> None:
    revocations = RevocationList()
    sessions = CognitoSessions(lc.config, revocations=revocations)
    signed_in = sign_in(lc, sessions)
    session = sessions.load(signed_in.session_id)
    assert session is not None
    access = decode_verify_jwt(session.access_token(), config=lc.config, token_use="access")
    user = session.user
    assert not revocations.is_revoked(access)
    sessions.end(signed_in.session_id)
    assert revocations.is_revoked(access) and revocations.is_revoked(user)
    # a token of the same sign-in the session never saw (say, issued by a refresh elsewhere)
    assert revocations.is_revoked({"origin_jti": access["origin_jti"], "jti": "another"})
    other = sign_in(lc, sessions)
    other_session = sessions.load(other.session_id)
    assert other_session is not None and not revocations.is_revoked(other_session.user)


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


def test_the_redis_store_serves_every_process_with_a_ttl_up_to_the_exp(redis: Any) -> None:
    writer = RevocationList(RedisRevocationStore(redis, prefix="rl:"), leeway=300)
    reader = RevocationList(RedisRevocationStore(redis, prefix="rl:"))
    writer.add("sign-in-1", time.time() + 3600)
    assert reader.is_revoked({"origin_jti": "sign-in-1"})
    assert not reader.is_revoked({"origin_jti": "sign-in-2"})
    names: List[bytes] = list(redis.scan_iter())
    assert len(names) == 1 and names[0].startswith(b"rl:")
    assert b"sign-in-1" not in names[0]  # a digest
    assert 3_890_000 <= redis.pttl(names[0]) <= 3_900_000  # exp + leeway


def test_the_redis_store_checks_origin_jti_and_jti_in_one_round_trip(redis: Any) -> None:
    sent: List[str] = []

    class Counting:
        def __getattr__(self, name: str) -> Any:
            method = getattr(redis, name)

            def counted(*args: Any, **kwargs: Any) -> Any:
                sent.append(name)
                return method(*args, **kwargs)

            return counted

    revocations = RevocationList(RedisRevocationStore(Counting()))
    revocations.add("token-9", time.time() + 60)
    sent.clear()
    assert revocations.is_revoked({"origin_jti": "sign-in-9", "jti": "token-9"})
    assert sent == ["exists"]


def test_redis_down_fails_closed_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        client = redis.Redis(port=port, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0))
        revocations = RevocationList(RedisRevocationStore(client))
        with caplog.at_level(logging.WARNING, logger="cognito_helper"):
            for _ in range(3):
                with pytest.raises(SessionStoreUnavailableError) as info:
                    revocations.is_revoked({"origin_jti": "sign-in-1"})
                assert isinstance(info.value, CognitoConnectionError)
            with pytest.raises(SessionStoreUnavailableError):
                revocations.add("sign-in-1", time.time() + 60)
    assert len(caplog.records) == 1
    assert "RedisRevocationStore" in caplog.records[0].getMessage()
