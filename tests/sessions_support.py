"""What the tests of ``cognito_helper.sessions`` share: a movable clock, a sign-in through
LocalCognito's hosted UI as a browser makes it, and a store that counts its calls."""

from __future__ import annotations

import time
from typing import Any, Callable, ContextManager, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

from cognito_helper.sessions import (
    CognitoSessions,
    PendingSignIn,
    SessionRecord,
    SessionStore,
    SignedIn,
)
from cognito_helper.testing import LocalCognito

from .helpers import PASSWORD, USER


class Clock:
    """Wall-clock seconds plus ``offset``: what a test gives as ``clock=`` to move time."""

    def __init__(self, offset: float = 0.0) -> None:
        self.offset = offset

    def __call__(self) -> float:
        return time.time() + self.offset


def callback_query(redirect: str) -> Dict[str, str]:
    """The query of the redirect back to the app, as a framework hands it over."""
    return {k: v[0] for k, v in parse_qs(urlsplit(redirect).query).items()}


def browse_to_callback(lc: LocalCognito, url: str) -> Dict[str, str]:
    """Sign the standard user in at ``url`` (the hosted UI); the callback's query."""
    return callback_query(lc.sign_in(url, USER, PASSWORD))


def sign_in(lc: LocalCognito, sessions: CognitoSessions, next_path: object = "/") -> SignedIn:
    """The whole sign-in: begin, the hosted UI over HTTP, complete."""
    start = sessions.begin(next_path)
    return sessions.complete(start.pending_id, browse_to_callback(lc, start.url))


def expiring_sign_in(lc: LocalCognito, sessions: CognitoSessions, seconds_left: float) -> SignedIn:
    """A sign-in whose tokens have ``seconds_left`` of their lifetime left (LocalCognito's
    clock is moved back while it issues them, then restored)."""
    lc.advance_clock(seconds_left - lc.token_lifetime)
    try:
        return sign_in(lc, sessions)
    finally:
        lc.clock = time.time


class CountingStore:
    """A :class:`SessionStore` that forwards to ``inner`` and records every call's name."""

    def __init__(self, inner: SessionStore) -> None:
        self.inner = inner
        self.calls: List[str] = []

    def load(self, key: str) -> Optional[SessionRecord]:
        self.calls.append("load")
        return self.inner.load(key)

    def create(self, key: str, record: SessionRecord, ttl: float) -> None:
        self.calls.append("create")
        self.inner.create(key, record, ttl)

    def update(self, key: str, record: SessionRecord, ttl: float) -> bool:
        self.calls.append("update")
        return self.inner.update(key, record, ttl)

    def delete(self, key: str) -> None:
        self.calls.append("delete")
        self.inner.delete(key)

    def put_pending(self, key: str, pending: PendingSignIn, ttl: float) -> None:
        self.calls.append("put_pending")
        self.inner.put_pending(key, pending, ttl)

    def take_pending(self, key: str) -> Optional[PendingSignIn]:
        self.calls.append("take_pending")
        return self.inner.take_pending(key)

    def lock(self, key: str, *, ttl: float, wait: float) -> ContextManager[bool]:
        self.calls.append("lock")
        return self.inner.lock(key, ttl=ttl, wait=wait)


def run_together(count: int, work: Callable[[], Any]) -> Tuple[List[Any], List[BaseException]]:
    """Run ``work`` in ``count`` threads released at once; (results, errors)."""
    import threading

    barrier = threading.Barrier(count)
    results: List[Any] = []
    errors: List[BaseException] = []
    guard = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            value = work()
        except BaseException as exc:
            with guard:
                errors.append(exc)
        else:
            with guard:
                results.append(value)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results, errors
