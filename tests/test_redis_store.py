"""RedisTokenStore against a real ``redis-server`` on loopback (see ``redis_server.py``).

Without ``redis-server`` these tests skip locally and fail under ``CI=true``. The store's own
rules are driven through :meth:`RedisTokenStore.obtain` with fetches that mint fake tokens
(:class:`Fetches`, which count calls and script failures); what a fleet sees, through
:class:`ClientCredentials` against a LocalCognito with a client secret, whose token requests
are counted on the server side.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import socket
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

from cognito_helper import CognitoConfig
from cognito_helper.oauth.m2m import ClientCredentials
from cognito_helper.oauth.redis_store import RedisTokenStore
from cognito_helper.oauth.token_store import HeldToken
from cognito_helper.testing import LocalCognito

from .helpers import MakeLocalCognito, imports
from .redis_server import RedisServer, redis_server_path

PREFIX = "svc-orders:"
KEY = "5f2b" * 16  # what a caller passes: a hex digest
SECRET = "m2m-secret-that-must-never-reach-redis-0123456789"
BOUND = 60  # seconds: the most any join or queue read in these tests may take


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_program() -> str:
    return redis_server_path()


@pytest.fixture(scope="module")
def server(redis_program: str) -> Iterator[RedisServer]:
    with RedisServer(redis_program) as running:
        yield running


@pytest.fixture
def redis(server: RedisServer) -> Iterator[Any]:
    """A client of the module's server, emptied before the test."""
    client = server.client()
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def store(redis: Any) -> RedisTokenStore:
    return RedisTokenStore(redis, prefix=PREFIX)


@pytest.fixture
def m2m_lc(make_lc: MakeLocalCognito) -> LocalCognito:
    """A LocalCognito whose main client is confidential (client_credentials works)."""
    return make_lc(client_secret=SECRET)


def token_requests(lc: LocalCognito) -> int:
    return lc.token_requests("client_credentials")


# -- fetches --------------------------------------------------------------------------------


def fresh(held: HeldToken) -> bool:
    return held.expires_at > time.time()


def token_named(name: str, lifetime: float = 3600) -> HeldToken:
    """A token called ``name``, issued now."""
    now = time.time()
    return HeldToken(name, "Bearer", now, now + lifetime)


class Fetches:
    """A fetch that mints ``access-token-N`` on its Nth call and runs ``during`` first."""

    def __init__(self, lifetime: float = 3600, during: Optional[Callable[[], None]] = None):
        self.calls = 0
        self.lifetime = lifetime
        self.during = during

    def __call__(self) -> HeldToken:
        self.calls += 1
        if self.during is not None:
            self.during()
        return token_named(f"access-token-{self.calls}", self.lifetime)


def everything_in(redis: Any) -> Dict[bytes, bytes]:
    """Every key in the server and its value (the store writes strings only)."""
    found = {}
    for name in redis.scan_iter(count=1000):
        assert redis.type(name) == b"string", name
        found[name] = redis.get(name)
    return found


# -- one process ----------------------------------------------------------------------------


def test_the_first_caller_fetches_and_later_callers_get_the_stored_token(
    store: RedisTokenStore,
) -> None:
    fetch = Fetches()
    first = store.obtain(KEY, fetch, fresh)
    again = [store.obtain(KEY, fetch, fresh) for _ in range(5)]
    assert fetch.calls == 1
    assert {held.access_token for held in again} == {first.access_token}


def test_another_store_on_the_same_redis_finds_the_token(
    store: RedisTokenStore, server: RedisServer
) -> None:
    first = store.obtain(KEY, Fetches(), fresh)
    other_client = server.client()
    fetch = Fetches()
    try:
        found = RedisTokenStore(other_client, prefix=PREFIX).obtain(KEY, fetch, fresh)
    finally:
        other_client.close()
    assert fetch.calls == 0
    assert found == first


def test_the_token_is_stored_as_its_json_form_expiring_with_the_token(
    store: RedisTokenStore, redis: Any
) -> None:
    held = store.obtain(KEY, Fetches(lifetime=600), fresh)
    stored = everything_in(redis)
    assert list(stored.values()) == [held.to_json().encode()]
    (name,) = stored
    assert 0 < redis.pttl(name) <= 600_000


def test_a_client_that_decodes_responses_works_the_same(server: RedisServer, redis: Any) -> None:
    client = server.client(decode_responses=True)
    try:
        store = RedisTokenStore(client, prefix=PREFIX)
        fetch = Fetches()
        first = store.obtain(KEY, fetch, fresh)
        again = store.obtain(KEY, fetch, fresh)
    finally:
        client.close()
    assert fetch.calls == 1
    assert again == first
    assert list(everything_in(redis)) == [f"{PREFIX}{{{KEY}}}:token".encode()]  # lock released


def test_a_token_that_is_not_usable_is_fetched_again_and_replaced(
    store: RedisTokenStore, redis: Any
) -> None:
    fetch = Fetches()
    first = store.obtain(KEY, fetch, fresh)
    second = store.obtain(KEY, fetch, lambda held: held.access_token != first.access_token)
    assert fetch.calls == 2
    assert second.access_token == "access-token-2"
    assert list(everything_in(redis).values()) == [second.to_json().encode()]


def test_a_stored_value_that_is_not_a_held_token_counts_as_absent(
    store: RedisTokenStore, redis: Any
) -> None:
    redis.set(f"{PREFIX}{{{KEY}}}:token", '{"access_token": 1}')
    fetch = Fetches()
    held = store.obtain(KEY, fetch, fresh)
    assert fetch.calls == 1
    assert redis.get(f"{PREFIX}{{{KEY}}}:token") == held.to_json().encode()


def test_a_token_without_a_lifetime_is_returned_but_not_stored(
    store: RedisTokenStore, redis: Any
) -> None:
    held = store.obtain(KEY, Fetches(lifetime=0), lambda held: True)
    assert held.access_token == "access-token-1"
    assert everything_in(redis) == {}


def test_keys_differ_per_caller_key(store: RedisTokenStore) -> None:
    fetch = Fetches()
    one = store.obtain(KEY, fetch, fresh)
    other = store.obtain("ab" * 32, fetch, fresh)
    assert fetch.calls == 2
    assert one.access_token != other.access_token


def test_an_error_from_fetch_propagates_unchanged_and_releases_the_lock(
    store: RedisTokenStore, redis: Any
) -> None:
    failure = RuntimeError("Cognito said no")

    def fetch() -> HeldToken:
        raise failure

    with pytest.raises(RuntimeError) as raised:
        store.obtain(KEY, fetch, fresh)
    assert raised.value is failure
    assert everything_in(redis) == {}  # no lock left behind: the next caller fetches at once


def test_the_lock_is_held_during_the_fetch_and_released_after(
    store: RedisTokenStore, redis: Any
) -> None:
    during: List[Dict[bytes, bytes]] = []
    store.obtain(KEY, Fetches(during=lambda: during.append(everything_in(redis))), fresh)
    assert list(during[0]) == [f"{PREFIX}{{{KEY}}}:lock".encode()]
    assert list(everything_in(redis)) == [f"{PREFIX}{{{KEY}}}:token".encode()]


def test_a_lock_taken_over_by_another_caller_is_not_released_by_the_first(
    store: RedisTokenStore, redis: Any
) -> None:
    lock = f"{PREFIX}{{{KEY}}}:lock"
    # While this caller fetches, its lock expires and another caller takes it.
    store.obtain(KEY, Fetches(during=lambda: redis.set(lock, "the-next-holder")), fresh)
    assert redis.get(lock) == b"the-next-holder"


def test_a_caller_waits_for_the_lock_holder_and_takes_its_token(
    store: RedisTokenStore, redis: Any
) -> None:
    holding, release = threading.Event(), threading.Event()

    def slow() -> None:
        holding.set()
        assert release.wait(BOUND)

    holder_fetch, waiter_fetch = Fetches(during=slow), Fetches()
    results: List[HeldToken] = []
    holder = threading.Thread(target=lambda: results.append(store.obtain(KEY, holder_fetch, fresh)))
    holder.start()
    assert holding.wait(BOUND)
    waiter = threading.Thread(target=lambda: results.append(store.obtain(KEY, waiter_fetch, fresh)))
    waiter.start()
    release.set()
    holder.join(BOUND)
    waiter.join(BOUND)
    assert (holder_fetch.calls, waiter_fetch.calls) == (1, 0)
    assert [held.access_token for held in results] == ["access-token-1"] * 2


def test_a_lock_that_outlives_its_timeout_makes_the_caller_fetch_for_itself(
    redis: Any,
) -> None:
    lock = f"{PREFIX}{{{KEY}}}:lock"
    redis.set(lock, "a-stuck-holder")  # no expiry: no holder will ever store a token
    fetch = Fetches()
    held = RedisTokenStore(redis, prefix=PREFIX, lock_timeout=0.2).obtain(KEY, fetch, fresh)
    assert fetch.calls == 1
    assert redis.get(f"{PREFIX}{{{KEY}}}:token") == held.to_json().encode()
    assert redis.get(lock) == b"a-stuck-holder"  # not ours to release


def test_a_caller_that_takes_the_lock_uses_a_token_stored_just_before(
    store: RedisTokenStore, redis: Any
) -> None:
    token_key = f"{PREFIX}{{{KEY}}}:token"
    redis.set(token_key, token_named("old-token").to_json())

    def usable(token: HeldToken) -> bool:
        if token.access_token == "old-token":
            # Between this caller's read and its lock, another process stores a new token
            # and releases its lock.
            redis.set(token_key, token_named("stored-meanwhile").to_json())
            return False
        return True

    fetch = Fetches()
    got = store.obtain(KEY, fetch, usable)
    assert (fetch.calls, got.access_token) == (0, "stored-meanwhile")


@pytest.mark.slow  # waits out a lock timeout
def test_a_waiter_waits_for_the_next_holder_when_the_lock_changes_hands(redis: Any) -> None:
    token_key, lock_key = f"{PREFIX}{{{KEY}}}:token", f"{PREFIX}{{{KEY}}}:lock"
    lock_timeout = 1.0
    redis.set(token_key, token_named("old-token").to_json())  # unusable: usable() runs on each read
    redis.set(lock_key, "holder-a", px=60_000)
    reads = 0

    def usable(token: HeldToken) -> bool:
        nonlocal reads
        reads += 1
        if reads == 2:  # holder A dies; holder B takes the lock over
            redis.set(lock_key, "holder-b", px=60_000)
        elif reads == 3:  # B is still fetching when the wait for A would have ended
            time.sleep(lock_timeout * 1.2)
        elif reads == 4:  # B stores its token
            redis.set(token_key, token_named("token-of-b").to_json())
        return token.access_token == "token-of-b"

    fetch = Fetches()
    store = RedisTokenStore(redis, prefix=PREFIX, lock_timeout=lock_timeout)
    got = store.obtain(KEY, fetch, usable)
    assert (fetch.calls, got.access_token) == (0, "token-of-b")


def test_sixteen_threads_sharing_a_store_fetch_once(store: RedisTokenStore) -> None:
    fetch = Fetches()
    start = threading.Barrier(16)
    seen: List[str] = []

    def calls() -> None:
        start.wait(BOUND)
        seen.extend(store.obtain(KEY, fetch, fresh).access_token for _ in range(50))

    threads = [threading.Thread(target=calls) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(BOUND)
    assert seen == ["access-token-1"] * (16 * 50)
    assert fetch.calls == 1


# -- what is written ------------------------------------------------------------------------


def test_every_key_written_starts_with_the_prefix_the_lock_included(
    store: RedisTokenStore, redis: Any
) -> None:
    during: List[Dict[bytes, bytes]] = []
    store.obtain(KEY, Fetches(during=lambda: during.append(everything_in(redis))), fresh)
    store.obtain("cd" * 32, Fetches(), fresh)
    written = [*during[0], *everything_in(redis)]
    assert len(written) == 3  # the lock while fetching, then two tokens
    assert all(name.startswith(PREFIX.encode()) for name in written), written


class Watched:
    """A store that runs ``during()`` inside each fetch, just before the token request."""

    def __init__(self, store: RedisTokenStore, during: Callable[[], None]) -> None:
        self.store = store
        self.during = during

    def obtain(
        self, key: str, fetch: Callable[[], HeldToken], usable: Callable[[HeldToken], bool]
    ) -> HeldToken:
        return self.store.obtain(key, lambda: (self.during(), fetch())[1], usable)


def test_the_secret_never_appears_in_redis(
    store: RedisTokenStore, redis: Any, m2m_lc: LocalCognito
) -> None:
    during: List[Dict[bytes, bytes]] = []
    watched = Watched(store, lambda: during.append(everything_in(redis)))
    token = ClientCredentials(config=m2m_lc.config, store=watched).access_token()
    after = everything_in(redis)
    assert m2m_lc.config.client_secret == SECRET
    assert len(during) == 1 and len(during[0]) == 1  # the lock, while the request was made
    assert any(token.encode() in value for value in after.values())  # the scan sees the token
    for name, value in [*during[0].items(), *after.items()]:
        assert SECRET.encode() not in name + value


def test_repr_shows_the_prefix_only(redis: Any) -> None:
    assert repr(RedisTokenStore(redis, prefix="app:")) == "RedisTokenStore(prefix='app:')"


@pytest.mark.parametrize("lock_timeout", [0, -1, float("nan"), float("inf"), True, "10"])
def test_a_lock_timeout_that_is_not_a_positive_number_is_refused(
    redis: Any, lock_timeout: Any
) -> None:
    with pytest.raises(ValueError, match="lock_timeout"):
        RedisTokenStore(redis, lock_timeout=lock_timeout)


@pytest.mark.parametrize("prefix", ["", None, b"bytes:"])
def test_a_prefix_that_is_not_a_non_empty_string_is_refused(redis: Any, prefix: Any) -> None:
    with pytest.raises(ValueError, match="prefix"):
        RedisTokenStore(redis, prefix=prefix)


def test_something_that_is_not_a_synchronous_redis_client_is_refused(server: RedisServer) -> None:
    import redis.asyncio

    with pytest.raises(TypeError, match="Redis client"):
        RedisTokenStore({"get": "not a client"})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="synchronous"):
        RedisTokenStore(redis.asyncio.Redis(port=server.port))  # type: ignore[arg-type]


def imports_redis(code: str) -> bool:
    """Whether running ``code`` in a fresh interpreter ends with ``redis`` imported."""
    return imports(code, "redis")


def test_importing_the_package_and_the_store_module_does_not_import_redis() -> None:
    assert not imports_redis("import cognito_helper, cognito_helper.oauth.redis_store")


def test_the_store_is_importable_from_the_package_root_without_importing_redis() -> None:
    # Needs "RedisTokenStore": "redis_store" in cognito_helper/__init__.py's _LAZY and __all__.
    assert not imports_redis("from cognito_helper import RedisTokenStore")


# -- Redis unreachable ----------------------------------------------------------------------


@pytest.fixture
def dead_port() -> Iterator[int]:
    """A loopback port bound by no listener: connections to it are refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def no_retries(**options: Any) -> Dict[str, Any]:
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {"retry": Retry(NoBackoff(), 0), **options}


def test_redis_unreachable_each_caller_fetches_and_one_warning_is_logged(
    dead_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    import redis

    client = redis.Redis(port=dead_port, socket_connect_timeout=2, **no_retries())
    store = RedisTokenStore(client, prefix=PREFIX)
    fetch = Fetches()
    with caplog.at_level(logging.DEBUG, logger="cognito_helper"):
        tokens = [store.obtain(KEY, fetch, fresh).access_token for _ in range(3)]
    assert tokens == ["access-token-1", "access-token-2", "access-token-3"]
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "RedisTokenStore(prefix='svc-orders:')" in message and "ConnectionError" in message
    assert not any("access-token" in r.getMessage() for r in caplog.records)


def test_an_error_from_fetch_while_redis_is_unreachable_propagates_unchanged(
    dead_port: int,
) -> None:
    import redis

    client = redis.Redis(port=dead_port, socket_connect_timeout=2, **no_retries())
    failure = RuntimeError("Cognito said no")

    def fetch() -> HeldToken:
        raise failure

    with pytest.raises(RuntimeError) as raised:
        RedisTokenStore(client, prefix=PREFIX).obtain(KEY, fetch, fresh)
    assert raised.value is failure
    assert raised.value.__context__ is None  # nothing of the store's own failure attached


def test_each_store_warns_once(dead_port: int, caplog: pytest.LogCaptureFixture) -> None:
    import redis

    client = redis.Redis(port=dead_port, socket_connect_timeout=2, **no_retries())
    with caplog.at_level(logging.WARNING, logger="cognito_helper"):
        for _ in range(2):
            store = RedisTokenStore(client, prefix=PREFIX)
            store.obtain(KEY, Fetches(), fresh)
            store.obtain(KEY, Fetches(), fresh)
    assert len(caplog.records) == 2


def test_redis_failing_after_the_fetch_returns_the_fetched_token_without_fetching_again(
    redis_program: str, caplog: pytest.LogCaptureFixture
) -> None:
    with RedisServer(redis_program) as server:
        client = server.client(**no_retries())
        fetch = Fetches(during=server.stop)  # Redis goes away while the holder fetches
        with caplog.at_level(logging.WARNING, logger="cognito_helper"):
            held = RedisTokenStore(client, prefix=PREFIX).obtain(KEY, fetch, fresh)
    assert (fetch.calls, held.access_token) == (1, "access-token-1")
    assert len(caplog.records) == 1


def test_the_store_is_used_again_once_redis_answers(redis_program: str) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
        import redis

        client = redis.Redis(port=port, socket_connect_timeout=2, **no_retries())
        store = RedisTokenStore(client, prefix=PREFIX)
        fetch = Fetches()
        store.obtain(KEY, fetch, fresh)  # refused: fetched directly
    with RedisServer(redis_program, port=port):
        first = store.obtain(KEY, fetch, fresh)
        again = store.obtain(KEY, fetch, fresh)
    assert fetch.calls == 2
    assert again == first


# -- several processes ----------------------------------------------------------------------
# Children are spawned (a fresh interpreter each, as in a fleet) and run the functions below.


def _client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)


def _share(
    url: str, config: CognitoConfig, calls: int, start: Any, results: Any, lock_timeout: float
) -> None:
    """One process of a fleet: ``calls`` calls of ``access_token()``; puts the tokens seen."""
    store = RedisTokenStore(_client(url), prefix=PREFIX, lock_timeout=lock_timeout)
    credentials = ClientCredentials(config=config, store=store)
    start.wait(BOUND)
    results.put(sorted({credentials.access_token() for _ in range(calls)}))


def _hold_the_lock_forever(url: str, config: CognitoConfig, go: Any, fetching: Any) -> None:
    """Take the lock for ``config``'s token through the store, and never finish the fetch."""
    store = RedisTokenStore(_client(url), prefix=PREFIX, lock_timeout=1.0)
    key = ClientCredentials(config=config).cache_key

    def fetch() -> HeldToken:
        fetching.set()
        time.sleep(BOUND)  # the test kills this process long before
        raise RuntimeError("the lock holder was not killed")

    assert go.wait(BOUND)
    store.obtain(key, fetch, fresh)


def _spawned(target: Callable[..., None], *args: Any) -> Any:
    process = multiprocessing.get_context("spawn").Process(target=target, args=args, daemon=True)
    process.start()
    return process


def _finish(processes: List[Any]) -> None:
    for process in processes:
        process.join(BOUND)
        if process.is_alive():
            process.kill()
            process.join(BOUND)


@pytest.mark.slow
def test_four_processes_of_200_calls_each_make_one_request(
    server: RedisServer, redis: Any, m2m_lc: LocalCognito
) -> None:
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(4), ctx.Queue()
    workers = [
        _spawned(_share, server.url, m2m_lc.config, 200, start, results, 10.0) for _ in range(4)
    ]
    try:
        seen = [results.get(timeout=BOUND) for _ in workers]
    finally:
        _finish(workers)
    assert [w.exitcode for w in workers] == [0, 0, 0, 0]
    assert len({token for tokens in seen for token in tokens}) == 1
    assert token_requests(m2m_lc) == 1


@pytest.mark.slow
def test_killing_the_lock_holder_mid_fetch_does_not_stall_the_others(
    server: RedisServer, redis: Any, m2m_lc: LocalCognito
) -> None:
    ctx = multiprocessing.get_context("spawn")
    go_holder, fetching = ctx.Event(), ctx.Event()
    start, results = ctx.Barrier(4), ctx.Queue()
    holder = _spawned(_hold_the_lock_forever, server.url, m2m_lc.config, go_holder, fetching)
    # Spawned (and imported) before the holder takes the lock, so they call obtain() at once.
    others = [
        _spawned(_share, server.url, m2m_lc.config, 20, start, results, 1.0) for _ in range(3)
    ]
    try:
        go_holder.set()
        assert fetching.wait(BOUND)
        assert [name for name in redis.scan_iter() if name.endswith(b":lock")] != []
        start.wait(BOUND)  # the others start asking while the holder holds the lock
        holder.kill()
        holder.join(BOUND)
        seen = [results.get(timeout=BOUND) for _ in others]
    finally:
        _finish([holder, *others])
    assert holder.exitcode == -signal.SIGKILL
    assert [p.exitcode for p in others] == [0, 0, 0]
    assert len({token for tokens in seen for token in tokens}) == 1
    assert token_requests(m2m_lc) == 1  # one of the others took the lock over and fetched


# -- a lock key that is not a string --------------------------------------------------------


def test_a_lock_key_that_is_not_a_string_is_waited_out_not_spun_on(redis: Any) -> None:
    # MGET reads a non-string key as nil, and SET NX fails on it: the caller must wait and
    # give up like for any lock, not retry at once forever.
    lock = f"{PREFIX}{{{KEY}}}:lock"
    redis.hset(lock, "foreign", "value")
    fetch = Fetches()
    store = RedisTokenStore(redis, prefix=PREFIX, lock_timeout=0.2)
    results: List[HeldToken] = []
    caller = threading.Thread(target=lambda: results.append(store.obtain(KEY, fetch, fresh)))
    reads_before = redis.info("commandstats").get("cmdstat_mget", {}).get("calls", 0)
    caller.start()
    caller.join(10)
    stuck = caller.is_alive()
    redis.delete(lock)  # lets a spinning caller finish
    caller.join(BOUND)
    reads = redis.info("commandstats").get("cmdstat_mget", {}).get("calls", 0) - reads_before
    assert not stuck
    assert fetch.calls == 1 and [held.access_token for held in results] == ["access-token-1"]
    assert reads < 200, reads  # polled every few ms for 0.4 s at most, not in a busy loop


# -- what Redis holds is not trusted: a token's lifetime, a key of another type ---------------

TEN_YEARS = 10 * 365 * 86400


@pytest.mark.parametrize("issued_ago", [0, 86400])
def test_a_stored_token_is_not_believed_to_live_longer_than_a_fetched_one(
    store: RedisTokenStore, redis: Any, make_lc: MakeLocalCognito, issued_ago: int
) -> None:
    # Redis is not trusted: a token claiming a ten-year life lives a day at most, as a
    # fetched token whose expires_in says ten years does; one issued a day ago is over.
    lc = make_lc(client_secret=f"{SECRET}-{issued_ago}")
    now = [time.time()]
    cc = ClientCredentials(config=lc.config, store=store, clock=lambda: now[0])
    issued = now[0] - issued_ago
    planted = HeldToken("planted.ten.years", "Bearer", issued, issued + TEN_YEARS)
    redis.set(f"{PREFIX}{{{cc.cache_key}}}:token", planted.to_json())
    if issued_ago:
        assert cc.access_token() != planted.access_token
        assert token_requests(lc) == 1
        return
    assert cc.token().access_token == planted.access_token  # served ...
    assert cc.token().expires_at <= now[0] + 86400  # ... but for a day at most
    now[0] += 86400
    fetched = cc.token()
    assert fetched.access_token != planted.access_token and token_requests(lc) == 1
    assert redis.get(f"{PREFIX}{{{cc.cache_key}}}:token") == fetched.to_json().encode()


def test_a_token_key_of_another_redis_type_counts_as_absent_and_is_overwritten(
    store: RedisTokenStore, redis: Any, caplog: pytest.LogCaptureFixture
) -> None:
    token_key = f"{PREFIX}{{{KEY}}}:token"
    redis.hset(token_key, "foreign", "value")  # GET on it fails with WRONGTYPE
    fetch = Fetches()
    with caplog.at_level(logging.WARNING, logger="cognito_helper"):
        first = store.obtain(KEY, fetch, fresh)
        again = store.obtain(KEY, fetch, fresh)  # another process: the stored token
    assert fetch.calls == 1 and again == first
    assert redis.type(token_key) == b"string"
    assert redis.get(token_key) == first.to_json().encode()
    assert caplog.records == []  # Redis works: no "cannot use Redis" warning
