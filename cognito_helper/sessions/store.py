"""What a session store must do, and the default one: :class:`MemorySessionStore`.

Every key a store is given is already a :func:`~cognito_helper.sessions.records.storage_key`
(a digest, never the id a browser holds). A store's expiry (``ttl``) only reclaims space: the
sessions core checks every timeout itself, on the record's times, so a store that keeps a
record longer is not a hole. :class:`cognito_helper.sessions.RedisSessionStore` is the store
for a fleet.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from typing import Callable, ContextManager, Dict, Iterator, List, Optional, Protocol, Tuple

from .records import PendingSignIn, SessionRecord

__all__ = ["SessionStore", "MemorySessionStore", "KeyedLocks"]


class SessionStore(Protocol):
    """Where signed-in sessions and pending sign-ins are kept (see the module's docstring).

    A store that cannot reach its backend raises
    :class:`~cognito_helper.sessions.SessionStoreUnavailableError` from any method, and never
    falls back to something other processes cannot see.
    """

    def load(self, key: str) -> Optional[SessionRecord]:
        """The session filed under ``key``, or ``None`` (absent, expired, unreadable)."""
        ...

    def create(self, key: str, record: SessionRecord, ttl: float) -> None:
        """File a new session under ``key`` for ``ttl`` seconds."""
        ...

    def update(self, key: str, record: SessionRecord, ttl: float) -> bool:
        """Replace the session under ``key`` (atomically: a reader sees the old record or the
        new one, whole) and keep it ``ttl`` seconds more; ``False``, writing nothing, when no
        session is filed there any more (it was deleted: it must not come back)."""
        ...

    def delete(self, key: str) -> None:
        """Forget the session under ``key`` (no error when there is none)."""
        ...

    def put_pending(self, key: str, pending: PendingSignIn, ttl: float) -> None:
        """File a pending sign-in under ``key`` for ``ttl`` seconds."""
        ...

    def take_pending(self, key: str) -> Optional[PendingSignIn]:
        """The pending sign-in under ``key``, removed in the same step: of any number of
        concurrent callers, at most one gets it."""
        ...

    def lock(self, key: str, *, ttl: float, wait: float) -> ContextManager[bool]:
        """Hold the session's lock for the block: yields ``True`` once this caller holds it
        (within ``wait`` seconds; ``0``: only if free now), else ``False``. Across every
        process sharing the store, at most one caller holds it at a time, for at most
        ``ttl`` seconds (a holder that died does not keep it longer)."""
        ...


class KeyedLocks:
    """One ``threading.Lock`` per key, made when a caller needs it and dropped when none does.

    Holds an entry only for a key some thread holds or waits for, so it stays as small as
    the number of concurrent callers.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: Dict[str, Tuple[threading.Lock, List[int]]] = {}

    @contextmanager
    def hold(self, key: str, wait: float) -> Iterator[bool]:
        """Yield whether the lock of ``key`` was taken within ``wait`` seconds."""
        with self._guard:
            entry = self._locks.get(key)
            if entry is None:
                entry = self._locks[key] = (threading.Lock(), [0])
            entry[1][0] += 1
        lock = entry[0]
        try:
            held = lock.acquire(timeout=wait) if wait > 0 else lock.acquire(blocking=False)
            try:
                yield held
            finally:
                if held:
                    lock.release()
        finally:
            with self._guard:
                entry[1][0] -= 1
                if entry[1][0] == 0:
                    del self._locks[key]

    def __len__(self) -> int:
        with self._guard:
            return len(self._locks)


def _positive_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1")
    return value


class MemorySessionStore:
    """The default :class:`SessionStore`: this process's memory, for an app run as one process.

    Bounded: at most ``max_sessions`` sessions (default 10,000) and ``max_pending`` pending
    sign-ins (default 10,000). A full store drops the least recently used session, or the
    oldest pending sign-in, to make room; every entry is also dropped at its ``ttl`` (on
    ``clock``, a monotonic clock by default). Records are kept as objects (immutable), so a
    load costs a dictionary read. Safe to share between threads; other processes cannot see
    it (use :class:`~cognito_helper.sessions.RedisSessionStore` for several).
    """

    def __init__(
        self,
        *,
        max_sessions: int = 10_000,
        max_pending: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._max_sessions = _positive_count("max_sessions", max_sessions)
        self._max_pending = _positive_count("max_pending", max_pending)
        self._clock = clock
        self._guard = threading.Lock()
        self._sessions: OrderedDict[str, Tuple[SessionRecord, float]] = OrderedDict()
        self._pending: OrderedDict[str, Tuple[PendingSignIn, float]] = OrderedDict()
        self._locks = KeyedLocks()

    def __repr__(self) -> str:
        return (
            f"MemorySessionStore(sessions={len(self._sessions)}, pending={len(self._pending)}, "
            f"max_sessions={self._max_sessions}, max_pending={self._max_pending})"
        )

    def __len__(self) -> int:
        """How many sessions are held (expired ones included until they are dropped)."""
        return len(self._sessions)

    def load(self, key: str) -> Optional[SessionRecord]:
        """The session under ``key``, or ``None``; marks it as the most recently used."""
        with self._guard:
            entry = self._sessions.get(key)
            if entry is None:
                return None
            if entry[1] <= self._clock():
                del self._sessions[key]
                return None
            self._sessions.move_to_end(key)
            return entry[0]

    def create(self, key: str, record: SessionRecord, ttl: float) -> None:
        """File a new session; drops the least recently used one when full."""
        with self._guard:
            self._sessions[key] = (record, self._clock() + ttl)
            self._sessions.move_to_end(key)
            while len(self._sessions) > self._max_sessions:
                self._sessions.popitem(last=False)

    def update(self, key: str, record: SessionRecord, ttl: float) -> bool:
        """Replace the session under ``key`` if it is still there."""
        with self._guard:
            entry = self._sessions.get(key)
            if entry is None or entry[1] <= self._clock():
                return False
            self._sessions[key] = (record, self._clock() + ttl)
            return True

    def delete(self, key: str) -> None:
        """Forget the session under ``key``."""
        with self._guard:
            self._sessions.pop(key, None)

    def put_pending(self, key: str, pending: PendingSignIn, ttl: float) -> None:
        """File a pending sign-in; drops the oldest one when full."""
        with self._guard:
            self._pending[key] = (pending, self._clock() + ttl)
            while len(self._pending) > self._max_pending:
                self._pending.popitem(last=False)

    def take_pending(self, key: str) -> Optional[PendingSignIn]:
        """The pending sign-in under ``key``, removed; ``None`` when absent or expired."""
        with self._guard:
            entry = self._pending.pop(key, None)
        if entry is None or entry[1] <= self._clock():
            return None
        return entry[0]

    def lock(self, key: str, *, ttl: float, wait: float) -> ContextManager[bool]:
        """The session's lock in this process (``ttl`` does not apply: a thread that holds it
        releases it when its block ends, whatever happens in it)."""
        return self._locks.hold(key, wait)
