"""A revocation list: tokens of a signed-out session refused by offline verification too.

Cognito revokes a refresh token's descendants only for calls to Cognito (userInfo, the user
API); a token verified offline stays valid until its ``exp`` (up to a day). Sign-out adds the
session's ``origin_jti`` (the sign-in every one of its tokens carries) to a
:class:`RevocationList` until the tokens' ``exp``; a verifier asks
:meth:`RevocationList.is_revoked` of each token's claims.

The list keys on ``origin_jti`` and ``jti``: a token is revoked when either is listed. What
is stored is a SHA-256 of each, so keys have one length whatever a token carries.
:class:`MemoryRevocationStore` serves one process; :class:`RedisRevocationStore` a fleet.
"""

from __future__ import annotations

import hashlib
import heapq
import logging
import math
import threading
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Protocol, Sequence, Tuple

from ..oauth.token_store import MAX_LIFETIME
from .redis_store import RedisLink

__all__ = [
    "RevocationList",
    "RevocationStore",
    "MemoryRevocationStore",
    "RedisRevocationStore",
]

log = logging.getLogger("cognito_helper")


class RevocationStore(Protocol):
    """Where a :class:`RevocationList` keeps its entries (keys are digests)."""

    def add(self, key: str, ttl: float) -> None:
        """List ``key`` for ``ttl`` seconds (a longer listing already there is kept)."""
        ...

    def contains_any(self, keys: Sequence[str]) -> bool:
        """Whether any of ``keys`` is listed now."""
        ...


class MemoryRevocationStore:
    """This process's revocations: ``key -> expiry`` on a monotonic ``clock``.

    Bounded by ``max_entries`` (default 100,000; each entry lives a token's lifetime at
    most, a day): when full, the expired entries are dropped, then, if it is still full, the
    entry that expires soonest, with one warning (its tokens are nearly expired anyway).
    """

    def __init__(
        self, *, max_entries: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if isinstance(max_entries, bool) or not isinstance(max_entries, int) or max_entries < 1:
            raise ValueError("max_entries must be a whole number of at least 1")
        self._max = max_entries
        self._clock = clock
        self._guard = threading.Lock()
        self._until: Dict[str, float] = {}
        self._order: List[Tuple[float, str]] = []  # a heap of (expiry, key), stale ones too
        self._warned = False

    def __repr__(self) -> str:
        return f"MemoryRevocationStore(entries={len(self._until)}, max_entries={self._max})"

    def __len__(self) -> int:
        """How many entries are held (expired ones included until they are dropped)."""
        return len(self._until)

    def add(self, key: str, ttl: float) -> None:
        """List ``key`` until ``ttl`` seconds from now (or later, if it already is)."""
        until = self._clock() + ttl
        with self._guard:
            if self._until.get(key, -math.inf) >= until:
                return
            self._until[key] = until
            heapq.heappush(self._order, (until, key))
            if len(self._until) > self._max:
                self._shrink()

    def _shrink(self) -> None:
        now = self._clock()
        while self._order and len(self._until) > self._max:
            until, key = heapq.heappop(self._order)
            if self._until.get(key) != until:
                continue  # a stale heap entry: the key was listed again for longer
            del self._until[key]
            if until > now and not self._warned:
                self._warned = True
                log.warning(
                    "%r is full: revocations are dropped before they expire, soonest first",
                    self,
                )

    def contains_any(self, keys: Sequence[str]) -> bool:
        """Whether any of ``keys`` is listed and not expired."""
        now = self._clock()
        until = self._until  # a dict read is atomic; no lock on the verification path
        return any(until.get(key, -math.inf) > now for key in keys)


class RedisRevocationStore:
    """Revocations shared by a fleet: ``{prefix}<digest>`` set to ``1`` with ``PX`` = the TTL.

    :meth:`contains_any` is one ``EXISTS`` (one round trip per verified token). Redis down:
    :class:`~cognito_helper.sessions.SessionStoreUnavailableError` (a
    :class:`CognitoConnectionError`: answer 503), with one warning per outage; never an
    answer of "not revoked" that was not read. Nothing secret is stored (digests of token
    ids), so nothing is encrypted.
    """

    def __init__(self, client: Any, *, prefix: str = "cognito-helper:revoked:") -> None:
        if not isinstance(prefix, str) or not prefix:
            raise ValueError("prefix must be a non-empty string")
        self._prefix = prefix
        self._redis = client
        self._link = RedisLink(client, ("set", "exists"), repr(self))

    def __repr__(self) -> str:
        return f"RedisRevocationStore(prefix={self._prefix!r})"

    def add(self, key: str, ttl: float) -> None:
        """``SET {prefix}{key} 1 PX ttl`` (a later add sets the TTL again)."""
        self._link.call(self._redis.set, self._prefix + key, b"1", px=max(1, math.ceil(ttl * 1000)))

    def contains_any(self, keys: Sequence[str]) -> bool:
        """``EXISTS`` of the keys: one round trip."""
        return bool(self._link.call(self._redis.exists, *[self._prefix + k for k in keys]))


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class RevocationList:
    """Token ids (``origin_jti``, ``jti``) refused until the tokens they name expire.

    ``store`` is a :class:`RevocationStore` (default: a new :class:`MemoryRevocationStore`,
    for one process). ``leeway`` (seconds, default 300) keeps each entry that long past the
    ``until`` it was added with, for verifiers that accept a token a little after its
    ``exp``. ``clock`` is wall-clock seconds. Safe to share between threads.
    """

    def __init__(
        self,
        store: Optional[RevocationStore] = None,
        *,
        leeway: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if store is not None and not (
            callable(getattr(store, "add", None)) and callable(getattr(store, "contains_any", None))
        ):
            raise TypeError("store must be a RevocationStore (with add() and contains_any())")
        if isinstance(leeway, bool) or not isinstance(leeway, (int, float)):
            raise TypeError("leeway must be a number of seconds")
        if not math.isfinite(leeway) or leeway < 0:
            raise ValueError("leeway must be a non-negative number of seconds")
        self._store: RevocationStore = store if store is not None else MemoryRevocationStore()
        self._leeway = float(leeway)
        self._clock = clock

    def __repr__(self) -> str:
        return f"RevocationList(store={self._store!r}, leeway={self._leeway:g})"

    def add(self, token_id: str, until: float) -> None:
        """Refuse the tokens whose ``origin_jti`` or ``jti`` is ``token_id`` until ``until``
        (wall-clock seconds, the tokens' ``exp``) plus the leeway; never longer than a token
        can live (a day) from now. An ``until`` already past (with the leeway) adds nothing.

        Raises ``ValueError`` for an empty ``token_id`` or an ``until`` that is not a finite
        number, and :class:`SessionStoreUnavailableError` when a shared store cannot be reached.
        """
        if not isinstance(token_id, str) or not token_id:
            raise ValueError("token_id must be a non-empty string (an origin_jti or jti)")
        if isinstance(until, bool) or not isinstance(until, (int, float)):
            raise ValueError("until must be wall-clock seconds (a token's exp)")
        if not math.isfinite(until):
            raise ValueError("until must be a finite number of wall-clock seconds")
        ttl = min(until + self._leeway - self._clock(), MAX_LIFETIME + self._leeway)
        if ttl > 0:
            self._store.add(_digest(token_id), ttl)

    def is_revoked(self, claims: Mapping[str, Any]) -> bool:
        """Whether the token with these (verified) claims is revoked: its ``origin_jti`` or its
        ``jti`` is listed. A token with neither is never revoked by the list. This is the
        predicate verifiers call. Raises :class:`SessionStoreUnavailableError` when a shared store
        cannot be reached (fail closed: the caller answers 503)."""
        keys = [
            _digest(value)
            for value in (claims.get("origin_jti"), claims.get("jti"))
            if isinstance(value, str) and value
        ]
        return bool(keys) and self._store.contains_any(keys)
