"""RedisTokenStore: one client-credentials token per lifetime for a whole fleet, kept in Redis.

In every process, give :class:`~cognito_helper.ClientCredentials` a store on the same Redis
with the same prefix::

    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry
    from cognito_helper import ClientCredentials, RedisTokenStore

    client = redis.Redis.from_url(
        "redis://cache.internal:6379/0",
        socket_timeout=0.5,
        socket_connect_timeout=0.5,
        retry=Retry(NoBackoff(), 1),
    )
    orders_api = ClientCredentials(["orders/read"], store=RedisTokenStore(client))

The client is yours (any synchronous ``redis.Redis`` or ``RedisCluster``). Give it short
socket timeouts and few retries: a call that finds no token in its process's cache waits for
Redis that long before falling back (redis-py's default of 3 retries with backoff makes an
unreachable Redis cost about 3 s per such call). This module never imports ``redis`` until a
store is made.

Guarantees:

* what is written, and only that: ``{prefix}{<key>}:token`` holds :meth:`HeldToken.to_json`
  (the access token, its type, scope and times; never the client secret), expiring with the
  token (``PX`` = its lifetime); ``{prefix}{<key>}:lock`` holds a random lock value, expiring
  after ``lock_timeout``. ``<key>`` is the caller's digest. Both keys start with ``prefix``;
  the braces are a Redis Cluster hash tag, so the two keys of one token share a slot;
* one fetch per token lifetime across every process sharing the store: the caller that takes
  the lock (``SET NX PX``) fetches and stores; the others poll (every 5 to 25 ms) for the
  stored token. A lock is released only by its holder (compare-and-delete), and also when
  ``fetch`` raises, whose exception propagates unchanged;
* a bounded wait: a lock whose holder died expires after ``lock_timeout`` and one waiter takes
  it over; a caller that has seen one holder keep the lock for ``lock_timeout``, or has waited
  ``2 * lock_timeout`` in all, fetches for itself (and stores what it got);
* Redis down or unreachable, or answering with an error: one warning per store on the
  ``cognito_helper`` logger (naming the error's type only), then every caller fetches for
  itself (the service keeps working with each process's own cache) until Redis answers again.
  A token already fetched is never fetched again because storing it failed.

A stored value that is not :meth:`HeldToken.to_json`'s form, or a token key of another Redis
type (a hash, a list), is treated as absent (Redis is not trusted), and replaced by the next
fetch. A stored token's lifetime is not trusted either: :class:`ClientCredentials` believes
none longer than a fetched token's (one day).
"""

from __future__ import annotations

import inspect
import logging
import math
import secrets
import threading
import time
from typing import Any, Callable, List, Optional, Sequence, Tuple, Type, Union

from .token_store import HeldToken

try:
    from typing import Protocol
except ImportError:  # pragma: no cover - Python < 3.8 is not supported anyway
    from typing_extensions import Protocol  # type: ignore[assignment]

__all__ = ["RedisTokenStore", "RedisClient", "redis_failures"]

log = logging.getLogger("cognito_helper")

#: Deletes KEYS[1] only while it still holds ARGV[1]: a holder whose lock expired and was taken
#: over must not release the new holder's lock.
_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)
_FIRST_POLL = 0.005  # seconds between a waiter's reads, growing by half up to _LAST_POLL
_LAST_POLL = 0.025

_Value = Union[bytes, str, None]
_UNREADABLE = object()  # a lock that SET NX found but MGET did not show


class RedisClient(Protocol):
    """The part of a synchronous ``redis.Redis`` (or ``RedisCluster``) a store uses."""

    def mget(self, keys: Sequence[str]) -> Any:
        """``MGET``: the values of ``keys``, ``None`` for absent ones."""
        ...

    def set(self, name: str, value: str, *, px: int = ..., nx: bool = ...) -> Any:
        """``SET`` with an expiry in milliseconds; with ``nx``, only when absent."""
        ...

    def eval(self, script: str, numkeys: int, *keys_and_args: str) -> Any:
        """``EVAL`` a Lua script."""
        ...


def redis_failures(
    client: object, methods: Sequence[str], what: str
) -> Tuple[Type[BaseException], ...]:
    """Check that ``client`` is a synchronous Redis client with ``methods``; return what "Redis
    failed" looks like for it: its own errors (cluster ones are not ``RedisError``) and the
    socket's.

    The one rule every Redis-backed store of the package applies to its client. Raises
    ``TypeError`` for an asyncio client or an object without the methods, and ``ImportError``
    (naming ``what``) when the ``redis`` package is missing.
    """
    found = [getattr(client, name, None) for name in methods]
    if not all(callable(method) for method in found):
        raise TypeError("client must be a Redis client (redis.Redis or RedisCluster)")
    # redis.asyncio's commands are plain functions returning awaitables; its
    # execute_command, which they call, is the coroutine function.
    found.append(getattr(client, "execute_command", None))
    if any(inspect.iscoroutinefunction(method) for method in found):
        raise TypeError("client must be a synchronous Redis client, not redis.asyncio's")
    try:
        from redis import exceptions  # the optional extra, needed only from here on
    except ImportError as exc:  # pragma: no cover - a Redis client implies the package
        raise ImportError(
            f"{what} needs the redis package: pip install '.[redis]' in the cognito-helper checkout"
        ) from exc
    return (exceptions.RedisError, exceptions.RedisClusterException, OSError)


class _RedisUnavailableError(Exception):
    """Redis failed at some step; the store has logged it already."""


class RedisTokenStore:
    """A :class:`~cognito_helper.oauth.token_store.TokenStore` in Redis, shared by a fleet.

    ``client`` is a synchronous Redis client (``redis.Redis``, ``RedisCluster``), ideally
    with short socket timeouts. ``prefix`` starts every key written (default
    ``"cognito-helper:"``). ``lock_timeout`` (seconds, default 10) is how long a fetching
    caller's lock lasts, and so how long the others wait for it at most before one of them
    takes over. See the module's docstring for the guarantees. Safe to share between
    threads; ``repr()`` shows the prefix only.

    Raises ``ValueError`` for an empty prefix or a lock timeout that is not a positive
    number, ``TypeError`` for an asyncio client or an object that is not a Redis client,
    and ``ImportError`` when the ``redis`` package (``pip install ".[redis]"`` from the
    checkout) is missing.
    """

    def __init__(
        self,
        client: RedisClient,
        *,
        prefix: str = "cognito-helper:",
        lock_timeout: float = 10.0,
    ) -> None:
        if not isinstance(prefix, str) or not prefix:
            raise ValueError("prefix must be a non-empty string")
        if (
            isinstance(lock_timeout, bool)
            or not isinstance(lock_timeout, (int, float))
            or not math.isfinite(lock_timeout)
            or lock_timeout <= 0
        ):
            raise ValueError("lock_timeout must be a positive number of seconds")
        self._failures = redis_failures(client, ("mget", "set", "eval"), "RedisTokenStore")
        self._client = client
        self._prefix = prefix
        self._lock_timeout = float(lock_timeout)
        self._lock_ms = max(1, math.ceil(self._lock_timeout * 1000))
        self._warned = False
        self._warned_lock = threading.Lock()

    @property
    def prefix(self) -> str:
        """What every key this store writes starts with."""
        return self._prefix

    @property
    def lock_timeout(self) -> float:
        """Seconds a fetching caller's lock lasts: the longest wait for one holder."""
        return self._lock_timeout

    def __repr__(self) -> str:
        return f"RedisTokenStore(prefix={self._prefix!r})"

    def _keys_for(self, key: str) -> Tuple[str, str]:
        """The Redis keys of the token and of the lock for the caller's ``key``."""
        tagged = f"{self._prefix}{{{key}}}"
        return tagged + ":token", tagged + ":lock"

    def obtain(
        self,
        key: str,
        fetch: Callable[[], HeldToken],
        usable: Callable[[HeldToken], bool],
    ) -> HeldToken:
        """A usable token for ``key``: the stored one, or one fetched (by this caller or by the
        lock holder another process is waiting for) and stored for its lifetime.

        ``fetch()`` must return a token it has just obtained (its ``expires_at -
        issued_at`` is how long it is stored). An error from ``fetch`` propagates unchanged;
        Redis errors never do (see the module's docstring).
        """
        token_key, lock_key = self._keys_for(key)
        try:
            return self._wait_or_fetch(token_key, lock_key, fetch, usable)
        except _RedisUnavailableError:
            pass
        return fetch()  # outside the except: fetch's own errors carry no Redis context

    # -- the protocol -----------------------------------------------------------------------

    def _wait_or_fetch(
        self,
        token_key: str,
        lock_key: str,
        fetch: Callable[[], HeldToken],
        usable: Callable[[HeldToken], bool],
    ) -> HeldToken:
        started = time.monotonic()
        holder: object = None  # the lock value last seen, to tell one holder from the next
        holder_until = 0.0
        pause = _FIRST_POLL
        while True:
            held, lock = self._read(token_key, lock_key)
            if held is not None and usable(held):
                return held
            now = time.monotonic()
            seen: object = lock
            if lock is None:
                mine = secrets.token_hex(16)
                if self._call(self._client.set, lock_key, mine, px=self._lock_ms, nx=True):
                    return self._fetch_holding_lock(token_key, lock_key, mine, fetch, usable)
                # Another caller took it between the read and the SET, or the key is not a
                # string (MGET reads it as nil): wait as for any holder, within the same bounds.
                seen = _UNREADABLE
            if seen != holder:
                holder, holder_until = seen, now + self._lock_timeout
            elif now >= holder_until:
                break  # a lock that outlived its timeout (a foreign or stuck key)
            if now - started >= 2 * self._lock_timeout:
                break  # holders keep failing or dying: stop waiting for them
            time.sleep(pause)
            pause = min(pause * 1.5, _LAST_POLL)
        held = fetch()
        self._store_quietly(token_key, held)
        return held

    def _fetch_holding_lock(
        self,
        token_key: str,
        lock_key: str,
        mine: str,
        fetch: Callable[[], HeldToken],
        usable: Callable[[HeldToken], bool],
    ) -> HeldToken:
        try:
            # The previous holder may have stored its token and released the lock between our
            # read and our SET: use that token rather than fetch a second one.
            # MGET, not GET: a token key of another type (a hash) reads as absent, and the
            # SET below overwrites it, where GET fails with WRONGTYPE.
            held, _ = self._read(token_key, lock_key)
            if held is not None and usable(held):
                return held
            held = fetch()
            self._store_quietly(token_key, held)
            return held
        finally:
            try:
                self._call(self._client.eval, _RELEASE, 1, lock_key, mine)
            except _RedisUnavailableError:
                pass  # the lock expires by itself

    # -- talking to Redis -------------------------------------------------------------------

    def _read(self, token_key: str, lock_key: str) -> Tuple[Optional[HeldToken], _Value]:
        values: List[_Value] = self._call(self._client.mget, [token_key, lock_key])
        return self._decode(values[0]), values[1]

    def _store_quietly(self, token_key: str, held: HeldToken) -> None:
        lifetime_ms = math.floor((held.expires_at - held.issued_at) * 1000)
        if lifetime_ms <= 0:
            return
        try:
            self._call(self._client.set, token_key, held.to_json(), px=lifetime_ms)
        except _RedisUnavailableError:
            pass  # the caller has its token; the next caller fetches again

    @staticmethod
    def _decode(value: _Value) -> Optional[HeldToken]:
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                return None
        return HeldToken.from_json(value) if isinstance(value, str) else None

    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except self._failures as exc:
            self._note_failure(exc)
            raise _RedisUnavailableError from None

    def _note_failure(self, exc: BaseException) -> None:
        # The error's type only: a Redis error message may echo a command's arguments.
        with self._warned_lock:
            first, self._warned = not self._warned, True
        if first:
            log.warning(
                "%r cannot use Redis (%s): each process fetches its own client-credentials "
                "tokens until Redis answers again",
                self,
                type(exc).__name__,
            )
        else:
            log.debug("%r: Redis failed again (%s)", self, type(exc).__name__)
