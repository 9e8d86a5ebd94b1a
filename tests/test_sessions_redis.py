"""Issue 21, RedisSessionStore against a real ``redis-server`` on loopback (``redis_server.py``)
and LocalCognito over loopback HTTP: sessions shared by a fleet, encrypted at rest.

Without ``redis-server`` these tests skip locally and fail under ``CI=true``.
"""

from __future__ import annotations

import logging
import multiprocessing
import socket
import threading
import time
from typing import Any, Dict, Iterator, List

import pytest

from cognito_helper import CognitoConfig, CognitoConnectionError, ConfigError
from cognito_helper.sessions import (
    CognitoSessions,
    PendingSignIn,
    RedisSessionStore,
    Sealer,
    SessionStoreUnavailableError,
    storage_key,
)
from cognito_helper.testing import LocalCognito

from .helpers import EMAIL, MakeLocalCognito
from .redis_server import RedisServer, redis_server_path
from .sessions_support import Clock, browse_to_callback, run_together, sign_in

PREFIX = "app-sessions:"
SECRET = "session-store-secret-0123456789abcdef"
NEW_SECRET = "session-store-secret-rotated-fedcba9876543210"
BOUND = 60  # seconds: the most any join or queue read here may take


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with RedisServer(redis_server_path()) as running:
        yield running


@pytest.fixture
def redis(server: RedisServer) -> Iterator[Any]:
    """A client of the module's server, emptied before the test."""
    client = server.client()
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def store(redis: Any) -> RedisSessionStore:
    return RedisSessionStore(redis, secret=SECRET, prefix=PREFIX)


def everything_in(redis: Any) -> Dict[bytes, bytes]:
    return {name: redis.get(name) for name in redis.scan_iter(count=1000)}


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


# -- what is stored -------------------------------------------------------------------------


def test_a_session_signed_in_through_one_process_is_loaded_by_another(
    lc: LocalCognito, redis: Any, store: RedisSessionStore
) -> None:
    signed_in = sign_in(lc, CognitoSessions(lc.config, store=store))
    other = CognitoSessions(lc.config, store=RedisSessionStore(redis, secret=SECRET, prefix=PREFIX))
    session = other.load(signed_in.session_id)
    assert session is not None
    assert session.user["email"] == EMAIL


def test_what_redis_holds_is_encrypted_prefixed_and_keyed_by_a_digest(
    lc: LocalCognito, redis: Any, store: RedisSessionStore
) -> None:
    sessions = CognitoSessions(lc.config, store=store)
    start = sessions.begin("/orders")
    pending = store.take_pending(storage_key(start.pending_id))
    assert pending is not None  # read back, then filed again for the sign-in to complete
    store.put_pending(storage_key(start.pending_id), pending, 600)
    held_pending = everything_in(redis)
    query = browse_to_callback(lc, start.url)
    signed_in = sessions.complete(start.pending_id, query)
    record = store.load(storage_key(signed_in.session_id))
    assert record is not None and record.refresh_token is not None
    stored = {**held_pending, **everything_in(redis)}
    secrets = [
        record.id_token,
        record.access_token,
        record.refresh_token,
        signed_in.session_id,
        start.pending_id,
        pending.state,
        pending.nonce,
        pending.code_verifier,
        query["code"],
    ]
    fragments = [s[i : i + 16] for s in secrets for i in range(0, len(s) - 16, 16)]
    fragments += [EMAIL, record.user["sub"], "cognito:username"]
    for name, value in stored.items():
        assert name.startswith(PREFIX.encode())
        assert value.startswith(b"gAAAAA")  # a Fernet token
        for fragment in fragments:
            assert fragment.encode() not in name and fragment.encode() not in value
    key = storage_key(signed_in.session_id)
    assert f"{PREFIX}{{{key}}}:session".encode() in stored
    assert f"{PREFIX}{{{storage_key(start.pending_id)}}}:pending".encode() in held_pending


def test_the_session_and_pending_keys_expire(
    lc: LocalCognito, redis: Any, store: RedisSessionStore
) -> None:
    sessions = CognitoSessions(lc.config, store=store, idle_timeout=3600)
    start = sessions.begin("/")
    pending_key = f"{PREFIX}{{{storage_key(start.pending_id)}}}:pending"
    assert 599_000 <= redis.pttl(pending_key) <= 600_000
    signed_in = sessions.complete(start.pending_id, browse_to_callback(lc, start.url))
    assert redis.exists(pending_key) == 0  # taken
    session_key = f"{PREFIX}{{{storage_key(signed_in.session_id)}}}:session"
    assert 3_590_000 <= redis.pttl(session_key) <= 3_600_000


def test_secrets_rotate_the_first_encrypts_and_any_decrypts(lc: LocalCognito, redis: Any) -> None:
    old = CognitoSessions(lc.config, store=RedisSessionStore(redis, secret=SECRET, prefix=PREFIX))
    rotating = CognitoSessions(
        lc.config, store=RedisSessionStore(redis, secret=[NEW_SECRET, SECRET], prefix=PREFIX)
    )
    new_only = CognitoSessions(
        lc.config, store=RedisSessionStore(redis, secret=[NEW_SECRET], prefix=PREFIX)
    )
    before = sign_in(lc, old)
    during = sign_in(lc, rotating)
    assert rotating.load(before.session_id) is not None  # the old secret still decrypts
    assert old.load(during.session_id) is None  # sealed with the new one
    assert new_only.load(during.session_id) is not None
    assert new_only.load(before.session_id) is None  # the old secret dropped: absent


@pytest.mark.parametrize("secret", [None, "", b"", [], "short-secret", ["x" * 40, "short"], 42])
def test_without_a_usable_secret_the_store_refuses_to_start(redis: Any, secret: Any) -> None:
    with pytest.raises(ConfigError) as info:
        RedisSessionStore(redis, secret=secret)
    if isinstance(secret, str) and secret:
        assert secret not in str(info.value)


def test_a_bad_prefix_or_client_is_refused(redis: Any) -> None:
    with pytest.raises(ValueError):
        RedisSessionStore(redis, secret=SECRET, prefix="")
    with pytest.raises(TypeError):
        RedisSessionStore(object(), secret=SECRET)


def test_repr_shows_the_prefix_only(redis: Any) -> None:
    assert repr(RedisSessionStore(redis, secret=SECRET, prefix=PREFIX)) == (
        "RedisSessionStore(prefix='app-sessions:')"
    )
    assert SECRET not in repr(Sealer(SECRET))


# -- what Redis holds is not trusted ---------------------------------------------------------


def test_an_altered_moved_oversized_or_foreign_value_reads_as_absent(
    lc: LocalCognito, redis: Any, store: RedisSessionStore
) -> None:
    sessions = CognitoSessions(lc.config, store=store)
    victim = sign_in(lc, sessions)
    attacker = sign_in(lc, sessions)
    victim_key = f"{PREFIX}{{{storage_key(victim.session_id)}}}:session"
    attacker_key = f"{PREFIX}{{{storage_key(attacker.session_id)}}}:session"
    sealed = redis.get(victim_key)
    # moved under another session's key: bound to its own key, so absent there
    redis.set(attacker_key, sealed)
    assert sessions.load(attacker.session_id) is None
    # one character altered: the HMAC fails
    altered = sealed[:-5] + (b"A" if sealed[-5:-4] != b"A" else b"B") + sealed[-4:]
    redis.set(victim_key, altered)
    assert sessions.load(victim.session_id) is None
    # authentic, but not a session record (the schema check after decryption)
    sealer = Sealer(SECRET)
    for text in (b"{}", b'{"v":1}', b"[]", b"not json", b'{"v":2,"k":"x"}'):
        redis.set(victim_key, sealer.seal(text))
        assert sessions.load(victim.session_id) is None
    # too large to be read at all
    redis.set(victim_key, b"g" * (100 * 1024))
    assert sessions.load(victim.session_id) is None
    # a key of another Redis type
    redis.delete(victim_key)
    redis.hset(victim_key, "a", "b")
    assert sessions.load(victim.session_id) is None


def test_a_pending_sign_in_is_taken_once_across_stores(redis: Any) -> None:
    stores = [RedisSessionStore(redis, secret=SECRET, prefix=PREFIX) for _ in range(8)]
    key = storage_key("p" * 43)
    stores[0].put_pending(key, PendingSignIn("s" * 43, "n" * 43, "v" * 86, "/", time.time()), 600)
    turn = iter(stores)
    guard = threading.Lock()

    def take() -> Any:
        with guard:
            mine = next(turn)
        return mine.take_pending(key)

    taken, errors = run_together(8, take)
    assert errors == []
    assert sum(1 for pending in taken if pending is not None) == 1


def test_the_lock_is_shared_expires_and_is_released_by_its_holder_only(redis: Any) -> None:
    first = RedisSessionStore(redis, secret=SECRET, prefix=PREFIX)
    second = RedisSessionStore(redis, secret=SECRET, prefix=PREFIX)
    key = storage_key("s" * 43)
    lock_key = f"{PREFIX}{{{key}}}:lock"
    with first.lock(key, ttl=30, wait=0) as held:
        assert held
        assert 29_000 <= redis.pttl(lock_key) <= 30_000
        with second.lock(key, ttl=30, wait=0.1) as other:
            assert not other  # held by another process's store
        assert redis.exists(lock_key) == 1  # the refused one did not release it
    assert redis.exists(lock_key) == 0
    redis.set(lock_key, "a-holder-that-died", px=200)
    started = time.monotonic()
    with second.lock(key, ttl=30, wait=5) as held:
        assert held  # taken once the dead holder's lock expired
    assert time.monotonic() - started < 5


# -- one round trip per request ---------------------------------------------------------------


def test_a_signed_in_request_is_one_round_trip(lc: LocalCognito, redis: Any) -> None:
    client = CountingClient(redis)
    sessions = CognitoSessions(
        lc.config, store=RedisSessionStore(client, secret=SECRET, prefix=PREFIX)
    )
    signed_in = sign_in(lc, sessions)
    client.commands.clear()
    for _ in range(20):
        session = sessions.load(signed_in.session_id)
        assert session is not None
        session.access_token()
    assert client.commands == ["mget"] * 20


# -- Redis down -------------------------------------------------------------------------------


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A loopback port bound by no listener: connections to it are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def test_redis_down_is_a_503_error_with_one_warning_never_process_memory(
    lc: LocalCognito, dead_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    client = redis.Redis(port=dead_port, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0))
    sessions = CognitoSessions(
        lc.config, store=RedisSessionStore(client, secret=SECRET, prefix=PREFIX)
    )
    with caplog.at_level(logging.DEBUG, logger="cognito_helper"):
        for call in (
            lambda: sessions.load("s" * 43),
            lambda: sessions.begin("/"),
            lambda: sessions.complete("p" * 43, {"state": "x", "code": "y"}),
            lambda: sessions.end("s" * 43),
        ):
            with pytest.raises(SessionStoreUnavailableError) as info:
                call()
            assert isinstance(info.value, CognitoConnectionError)  # integrations: 503
            assert info.value.retry_after > 0
            assert "ConnectionError" in str(info.value)
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "RedisSessionStore(prefix='app-sessions:')" in warnings[0].getMessage()
    assert SECRET not in caplog.text


def test_after_an_outage_one_more_warning_per_outage(
    redis: Any, dead_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    import redis as redis_package
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    dead = redis_package.Redis(
        port=dead_port, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0)
    )
    switch = {"client": dead}

    class Switchable:
        def __getattr__(self, name: str) -> Any:
            return getattr(switch["client"], name)

    store = RedisSessionStore(Switchable(), secret=SECRET, prefix=PREFIX)
    with caplog.at_level(logging.WARNING, logger="cognito_helper"):
        for client in (dead, dead, redis, dead, dead):
            switch["client"] = client
            try:
                store.load("k" * 64)
            except SessionStoreUnavailableError:
                pass
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 2


# -- a fleet ----------------------------------------------------------------------------------
# Children are spawned (a fresh interpreter each, as in a fleet) and run the function below.


def _request_in_a_process(
    url: str, config: CognitoConfig, session_id: str, offset: float, start: Any, results: Any
) -> None:
    """One process of the fleet: one request of the session, at its access token's expiry."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
    sessions = CognitoSessions(
        config,
        store=RedisSessionStore(client, secret=SECRET, prefix=PREFIX),
        clock=Clock(offset),
    )
    start.wait(BOUND)
    session = sessions.load(session_id)
    results.put(session.access_token() if session is not None else "no session")


@pytest.mark.slow
def test_four_processes_sharing_the_store_make_one_refresh_grant(
    server: RedisServer, redis: Any, make_lc: MakeLocalCognito
) -> None:
    lc = make_lc(token_lifetime=300, refresh_token_rotation=True, rotation_grace_period=0)
    store = RedisSessionStore(redis, secret=SECRET, prefix=PREFIX)
    lc.advance_clock(-295)  # the tokens of the sign-in have 5 s left
    signed_in = sign_in(lc, CognitoSessions(lc.config, store=store))
    lc.clock = time.time
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(4), ctx.Queue()
    args = (server.url, lc.config, signed_in.session_id, 10.0, start, results)
    workers = [ctx.Process(target=_request_in_a_process, args=args, daemon=True) for _ in range(4)]
    for worker in workers:
        worker.start()
    try:
        tokens = [results.get(timeout=BOUND) for _ in workers]
    finally:
        for worker in workers:
            worker.join(BOUND)
            if worker.is_alive():
                worker.kill()
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    assert len(set(tokens)) == 1 and tokens[0] != "no session"
    assert lc.token_requests("refresh_token") == 1


def test_an_update_never_brings_a_deleted_session_back(
    lc: LocalCognito, redis: Any, store: RedisSessionStore
) -> None:
    sessions = CognitoSessions(lc.config, store=store)
    signed_in = sign_in(lc, sessions)
    key = storage_key(signed_in.session_id)
    record = store.load(key)
    assert record is not None
    assert store.update(key, record.seen(time.time()), 60)
    store.delete(key)
    assert not store.update(key, record, 60)  # a refresh finishing after sign-out
    assert store.load(key) is None and sessions.load(signed_in.session_id) is None
