"""Edges of RedisTokenStore that issue 19's mutation pass found untested (see
``.ci/mutation.md``): how long the fetching caller's lock lasts in Redis, a token with no
lifetime left, and a Redis client without the ``redis`` package.

Against a real ``redis-server`` on loopback (``tests/redis_server.py``), driven through
:meth:`RedisTokenStore.obtain` with fetches that make tokens, as ``test_redis_store.py`` does.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
from typing import Any, Iterator, List, Optional

import pytest

from cognito_helper.oauth.redis_store import RedisTokenStore
from cognito_helper.oauth.token_store import HeldToken

from .redis_server import RedisServer, redis_server_path

PREFIX = "svc-edges:"
KEY = "7a1c" * 16  # what a caller passes: a hex digest
LOCK = f"{PREFIX}{{{KEY}}}:lock"  # the documented key layout: {prefix}{<key>}:lock
TOKEN = f"{PREFIX}{{{KEY}}}:token"


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


def fresh(held: HeldToken) -> bool:
    return held.expires_at > time.time()


def token(lifetime: float) -> HeldToken:
    now = time.time()
    return HeldToken("access-token-1", "Bearer", now, now + lifetime)


# -- the lock's lifetime ----------------------------------------------------------------------


@pytest.mark.parametrize("lock_timeout", [None, 2.5, 1000.0], ids=["default", "2.5s", "1000s"])
def test_the_fetching_callers_lock_expires_after_lock_timeout_in_redis(
    redis: Any, lock_timeout: Optional[float]
) -> None:
    options = {} if lock_timeout is None else {"lock_timeout": lock_timeout}
    store = RedisTokenStore(redis, prefix=PREFIX, **options)
    expected = 10.0 if lock_timeout is None else lock_timeout  # the documented default: 10 s
    assert store.lock_timeout == expected
    seen: List[int] = []

    def fetch() -> HeldToken:
        seen.append(redis.pttl(LOCK))  # the lock is held while the caller fetches
        return token(600)

    store.obtain(KEY, fetch, fresh)
    [left] = seen
    # PX is lock_timeout in milliseconds: never more (a lock that outlives its timeout keeps
    # the waiters of a dead holder waiting longer than promised).
    assert 0 < left <= expected * 1000
    assert redis.exists(LOCK) == 0  # released by its holder


# -- a token with no lifetime left --------------------------------------------------------------


def test_a_fetched_token_with_no_lifetime_left_is_handed_out_not_stored_and_is_no_redis_failure(
    redis: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cognito_helper")
    store = RedisTokenStore(redis, prefix=PREFIX)
    expiring = token(0)  # expires_at == issued_at: nothing to keep it for
    assert store.obtain(KEY, lambda: expiring, fresh) == expiring
    assert redis.exists(TOKEN) == 0
    assert [r for r in caplog.records if r.name == "cognito_helper"] == []  # Redis is fine


# -- what Redis holds is not trusted --------------------------------------------------------------


def almost_a_token(**changes: Any) -> str:
    """The stored form of a token valid for ten minutes, with ``changes`` made to it."""
    now = time.time()
    value = {
        "access_token": "stored-token",
        "token_type": "Bearer",
        "issued_at": now,
        "expires_at": now + 600,
        "scope": None,
    }
    value.update(changes)
    return json.dumps(value)  # float("inf") and NaN as JSON's Infinity and NaN


@pytest.mark.parametrize(
    "changes",
    [
        {"access_token": ""},
        {"access_token": None},
        {"token_type": None},
        {"expires_at": math.inf},
        {"expires_at": math.nan},
        {"issued_at": math.inf},
        {"expires_at": True},
        {"expires_at": "2030-01-01"},
        {"scope": 5},
    ],
    ids=lambda changes: "-".join(f"{k}={v!r}" for k, v in changes.items()),
)
def test_a_stored_value_almost_a_token_counts_as_absent_and_is_replaced(
    redis: Any, changes: Any
) -> None:
    redis.set(TOKEN, almost_a_token(**changes))
    fetched = token(600)
    store = RedisTokenStore(redis, prefix=PREFIX)
    assert store.obtain(KEY, lambda: fetched, lambda held: True) == fetched
    assert redis.get(TOKEN) == fetched.to_json().encode()
    # The well-formed value itself is read back (the cases above differ from it only so).
    redis.set(TOKEN, almost_a_token())
    assert store.obtain(KEY, lambda: fetched, fresh).access_token == "stored-token"


# -- a Redis client without the redis package -------------------------------------------------


def test_a_redis_client_without_the_redis_package_is_an_import_error_saying_how_to_install_it(
    redis: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A client with redis-py's interface from another package (a fork, say), and no redis.
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(ImportError, match=r"RedisTokenStore needs the redis package: pip install"):
        RedisTokenStore(redis, prefix=PREFIX)
