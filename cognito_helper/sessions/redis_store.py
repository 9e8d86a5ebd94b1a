"""RedisSessionStore: signed-in sessions shared by a fleet, encrypted at rest in Redis.

In every process, give the sessions core a store on the same Redis, prefix and secret(s)::

    import redis
    from cognito_helper.sessions import CognitoSessions, RedisSessionStore

    client = redis.Redis.from_url("redis://cache.internal:6379/0", socket_timeout=0.5,
                                  socket_connect_timeout=0.5)
    store = RedisSessionStore(client, secret=os.environ["SESSION_SECRET"])
    sessions = CognitoSessions(config, store=store)

Guarantees, following the package's Redis conventions (those of ``RedisTokenStore``):

* what is written, and only that, each under ``prefix`` with a Redis Cluster hash tag:
  ``{prefix}{<key>}:session`` (a session, expiring with it: ``PX``),
  ``{prefix}{<key>}:pending`` (a pending sign-in, 10 minutes) and ``{prefix}{<key>}:lock``
  (a random lock value while a refresh runs, ``SET NX PX``). ``<key>`` is the SHA-256 of the
  id the browser holds (:func:`~cognito_helper.sessions.records.storage_key`): a read of
  Redis yields no cookie;
* every value is a Fernet token (:mod:`~cognito_helper.sessions.sealing`): encrypted and
  authenticated with ``secret``, and bound to its key, so a value read, altered or copied
  under another key is useless. Without a secret the store refuses to start
  (:class:`ConfigError`). A value that is too large, does not open with any secret, or
  whose content fails the record's schema, is treated as absent;
* one round trip per signed-in request: ``MGET`` of the session (a write only when the
  session is touched, refreshed or ended);
* Redis down, unreachable or answering an error: :class:`SessionStoreUnavailableError` (answer
  503 with ``Retry-After``), one warning per outage on the ``cognito_helper`` logger naming
  the error's type only; never a fallback to this process's memory, which no other process
  could see.
"""

from __future__ import annotations

import logging
import math
import secrets
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, ContextManager, Iterator, Optional, Sequence, Union

from ..oauth.redis_store import redis_failures
from .errors import SessionStoreUnavailableError
from .records import PendingSignIn, SessionRecord
from .sealing import Sealer, Secret
from .store import KeyedLocks

__all__ = ["RedisSessionStore", "RedisLink"]

log = logging.getLogger("cognito_helper")

#: The largest stored value read back (bytes): a Fernet token of the largest record.
MAX_SEALED = 72 * 1024
_TAKE = "local v = redis.call('mget', KEYS[1])[1] redis.call('del', KEYS[1]) return v"
_RELEASE = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)
_FIRST_POLL = 0.005  # seconds between a lock waiter's attempts, growing by half up to _LAST_POLL
_LAST_POLL = 0.025


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))


class RedisLink:
    """A Redis client and how its failures are reported, shared by the Redis-backed stores.

    :meth:`call` runs one command; a Redis or socket error becomes
    :class:`SessionStoreUnavailableError` (naming the error's type only), with one warning per
    outage: the first failure after a success warns, the next ones log at debug level.
    """

    def __init__(self, client: Any, methods: Sequence[str], owner: str) -> None:
        self._failures = redis_failures(client, methods, owner)
        self.client = client
        self._owner = owner
        self._down = False
        self._guard = threading.Lock()

    def call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """``method(*args, **kwargs)``, or :class:`SessionStoreUnavailableError`."""
        try:
            result = method(*args, **kwargs)
        except self._failures as exc:
            self._failed(exc)
            raise SessionStoreUnavailableError(
                f"{self._owner} cannot use Redis ({type(exc).__name__}); try again later"
            ) from None
        if self._down:
            with self._guard:
                self._down = False
            log.info("%s: Redis answers again", self._owner)
        return result

    def _failed(self, exc: BaseException) -> None:
        with self._guard:
            first, self._down = not self._down, True
        if first:
            log.warning(
                "%s cannot use Redis (%s): requests that need it get 503 until it answers",
                self._owner,
                type(exc).__name__,
            )
        else:
            log.debug("%s: Redis failed again (%s)", self._owner, type(exc).__name__)


class RedisSessionStore:
    """A :class:`~cognito_helper.sessions.SessionStore` in Redis, shared by a fleet.

    ``client`` is a synchronous ``redis.Redis`` (or ``RedisCluster``) with short socket
    timeouts; ``secret`` one secret or a list (the first encrypts, any decrypts: add the new
    one first, drop the old one once the longest session has ended); ``prefix`` starts every
    key. See the module's docstring for the guarantees. Raises :class:`ConfigError` without a
    usable secret, ``ValueError`` for an empty prefix, ``TypeError`` for an object that is not
    a synchronous Redis client. Safe to share between threads; ``repr()`` shows the prefix.
    """

    def __init__(
        self,
        client: Any,
        *,
        secret: Union[Secret, Sequence[Secret], None],
        prefix: str = "cognito-helper:session:",
    ) -> None:
        self._sealer = Sealer(secret)
        if not isinstance(prefix, str) or not prefix:
            raise ValueError("prefix must be a non-empty string")
        self._link = RedisLink(client, ("mget", "set", "delete", "eval"), _shown(prefix))
        self._redis = client
        self._prefix = prefix
        self._locks = KeyedLocks()  # threads of this process queue here, not on Redis

    @property
    def prefix(self) -> str:
        """What every key this store writes starts with."""
        return self._prefix

    def __repr__(self) -> str:
        return _shown(self._prefix)

    def _key(self, key: str, kind: str) -> str:
        return f"{self._prefix}{{{key}}}:{kind}"

    def _read(self, name: str) -> Optional[bytes]:
        values = self._link.call(self._redis.mget, [name])
        raw = values[0] if values else None
        if not isinstance(raw, (bytes, str)) or len(raw) > MAX_SEALED:
            return None
        return self._sealer.open(raw)

    def _write(self, name: str, text: str, ttl: float, **flags: bool) -> bool:
        sealed = self._sealer.seal(text.encode("utf-8"))
        return bool(self._link.call(self._redis.set, name, sealed, px=_ms(ttl), **flags))

    # -- sessions -------------------------------------------------------------------------

    def load(self, key: str) -> Optional[SessionRecord]:
        """The session under ``key`` (one ``MGET``), or ``None``."""
        return SessionRecord.from_json(self._read(self._key(key, "session")), key)

    def create(self, key: str, record: SessionRecord, ttl: float) -> None:
        """File a new session (``SET NX PX``)."""
        self._write(self._key(key, "session"), record.to_json(key), ttl, nx=True)

    def update(self, key: str, record: SessionRecord, ttl: float) -> bool:
        """Replace the session if it is still there (``SET XX PX``)."""
        return self._write(self._key(key, "session"), record.to_json(key), ttl, xx=True)

    def delete(self, key: str) -> None:
        """Forget the session (``DEL``)."""
        self._link.call(self._redis.delete, self._key(key, "session"))

    # -- pending sign-ins -----------------------------------------------------------------

    def put_pending(self, key: str, pending: PendingSignIn, ttl: float) -> None:
        """File a pending sign-in (``SET PX``)."""
        self._write(self._key(key, "pending"), pending.to_json(key), ttl)

    def take_pending(self, key: str) -> Optional[PendingSignIn]:
        """The pending sign-in, read and deleted in one script: single use across the fleet."""
        raw = self._link.call(self._redis.eval, _TAKE, 1, self._key(key, "pending"))
        if not isinstance(raw, (bytes, str)) or len(raw) > MAX_SEALED:
            return None
        return PendingSignIn.from_json(self._sealer.open(raw), key)

    # -- the refresh lock -----------------------------------------------------------------

    def lock(self, key: str, *, ttl: float, wait: float) -> ContextManager[bool]:
        """This process's lock of the session, then Redis's (``SET NX PX ttl``, polled every
        5 to 25 ms until ``wait`` runs out); released by its holder only (compare and
        delete), or by itself after ``ttl``."""
        return self._hold(key, ttl, wait)

    @contextmanager
    def _hold(self, key: str, ttl: float, wait: float) -> Iterator[bool]:
        deadline = time.monotonic() + wait
        with self._locks.hold(key, wait) as local:
            if not local:
                yield False
                return
            name, mine = self._key(key, "lock"), secrets.token_hex(16)
            held = self._take_lock(name, mine, ttl, deadline)
            try:
                yield held
            finally:
                if held:
                    try:
                        self._link.call(self._redis.eval, _RELEASE, 1, name, mine)
                    except SessionStoreUnavailableError:
                        pass  # the lock expires by itself

    def _take_lock(self, name: str, mine: str, ttl: float, deadline: float) -> bool:
        pause = _FIRST_POLL
        while True:
            if self._link.call(self._redis.set, name, mine, px=_ms(ttl), nx=True):
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(pause, left))
            pause = min(pause * 1.5, _LAST_POLL)


def _shown(prefix: str) -> str:
    """How a :class:`RedisSessionStore` with ``prefix`` shows itself (and names itself in logs)."""
    return f"RedisSessionStore(prefix={prefix!r})"
