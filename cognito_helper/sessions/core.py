"""Signed-in web apps, framework-agnostic: :class:`CognitoSessions` and :class:`Session`.

The browser holds only an opaque id (256 random bits) in an ``HttpOnly`` cookie; the user's
tokens stay on the server, in a :class:`~cognito_helper.sessions.SessionStore`. An
integration (Flask, Django, Starlette) maps four calls to routes and a request:

* :meth:`CognitoSessions.begin` (the sign-in route): a pending sign-in and the URL to send
  the browser to;
* :meth:`CognitoSessions.complete` (the callback): a new session and where to go next;
* :meth:`CognitoSessions.load` (each request): the :class:`Session`, or ``None``;
* :meth:`CognitoSessions.end` (sign-out, a same-origin POST): the ``/logout`` URL.

Guarantees: a session is created only after the code exchange and the verification of both
tokens, under a new id; the access token handed out is valid, refreshed when due, once per
session at a time across every process sharing the store (the store's lock), so with refresh
token rotation no request sends a refresh token already rotated away; ``invalid_grant``,
the idle timeout and the absolute timeout end a session.
"""

from __future__ import annotations

import logging
import math
import time
from typing import Any, Callable, Dict, Mapping, Optional

from ..core.errors import (
    CognitoConnectionError,
    ConfigError,
    InvalidGrantError,
    TokenExchangeError,
    TokenVerificationError,
)
from ..oauth.endpoints import get_cognito_tokens, revoke_token
from ..oauth.token_store import refresh_due_at
from ..settings.config import CognitoConfig
from ..settings.default import get_config
from .errors import CallbackError, SessionEndedError, SessionStoreUnavailableError
from .records import (
    PendingSignIn,
    SessionRecord,
    finite_number,
    is_session_id,
    new_session_id,
    storage_key,
)
from .revocation import RevocationList
from .signin import (
    SignedIn,
    SignInStart,
    exchange_code,
    new_record,
    refreshed_record,
    take_callback,
    verify_tokens,
)
from .store import MemorySessionStore, SessionStore
from .web import SIGN_IN_TIMEOUT, CookieSettings, app_origin, cookie_settings, safe_next

__all__ = ["CognitoSessions", "Session"]

log = logging.getLogger("cognito_helper")

_STORE_METHODS = ("load", "create", "update", "delete", "put_pending", "take_pending", "lock")


def _seconds(name: str, value: object, *, zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds")
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        raise ValueError(f"{name} must be a {'non-negative' if zero else 'positive'} number")
    return float(value)


class Session:
    """One signed-in user's session, as loaded for a request.

    :attr:`user` is the ID token's claims (updated by each refresh); :meth:`access_token`
    a valid access token. ``repr()`` shows the user's ``sub`` and no token.
    """

    __slots__ = ("_owner", "_key", "_record")

    def __init__(self, owner: CognitoSessions, key: str, record: SessionRecord) -> None:
        self._owner = owner
        self._key = key
        self._record = record

    @property
    def user(self) -> Dict[str, Any]:
        """The signed-in user's ID-token claims (a copy): ``sub``, ``cognito:username``,
        ``email``, ``cognito:groups``..."""
        return dict(self._record.user)

    @property
    def ends_at(self) -> float:
        """When the session ends at the latest (its absolute timeout), wall-clock seconds."""
        return self._record.ends_at

    def access_token(self) -> str:
        """A valid access token: the one held, or, when fewer than ``refresh_margin`` seconds
        are left (at most half its lifetime), a refreshed one.

        One refresh per session at a time (see :class:`CognitoSessions`). Raises
        :class:`SessionEndedError` when the refresh token is expired or revoked (the session is
        deleted: sign in again), :class:`CognitoConnectionError` when Cognito is unreachable
        and the held token has expired, :class:`SessionStoreUnavailableError` when the store
        is.
        """
        token = self.access_token_if_fresh()
        if token is not None:
            return token
        return self._owner._renew(self)

    def access_token_if_fresh(self) -> Optional[str]:
        """The access token held, when no refresh is due; else ``None``. Never does I/O: an
        async integration calls it on the event loop and hands :meth:`access_token` (which
        may refresh: the network, the store's lock) to a worker thread only when it is
        ``None``."""
        record = self._record
        if self._owner.clock() < self._owner.refresh_at(record):
            return record.access_token
        return None

    def __repr__(self) -> str:
        return f"Session(sub={self._record.user.get('sub')!r}, ends_at={self._record.ends_at!r})"


class CognitoSessions:
    """Server-side sessions for a web app signed in through the hosted UI.

    ``config`` (default: :func:`get_config`) needs ``domain``, ``redirect_uri`` (an http(s)
    URL on the app: the callback), ``logout_uri`` and the ``openid`` scope. ``store``
    (default: a new :class:`MemorySessionStore`, one process) keeps sessions and pending
    sign-ins. ``idle_timeout`` (default 8 h) ends a session unused that long (measured to
    one touch interval: a minute, or a tenth of the timeout if shorter, early at worst);
    ``absolute_timeout`` (default 30 days, Cognito's default refresh-token lifetime: set
    your app client's) ends it that long after sign-in. ``refresh_margin`` (default 60 s):
    an access token is refreshed when fewer seconds are left, never before half its lifetime.
    ``revocations`` (a :class:`RevocationList`) gets each ended session's ``origin_jti``.
    ``clock`` is wall-clock seconds (tests move it).

    Raises :class:`ConfigError` for a config that cannot run a signed-in app, ``TypeError``
    and ``ValueError`` for bad options. Safe to share between threads and requests.
    """

    def __init__(
        self,
        config: Optional[CognitoConfig] = None,
        *,
        store: Optional[SessionStore] = None,
        idle_timeout: float = 8 * 3600,
        absolute_timeout: float = 30 * 86400,
        refresh_margin: float = 60,
        revocations: Optional[RevocationList] = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        cfg = get_config(config)
        if "openid" not in cfg.scopes:
            raise ConfigError("a signed-in web app needs the 'openid' scope (for the ID token)")
        self._cookie = cookie_settings(cfg)  # needs an http(s) redirect_uri
        self._origin = app_origin(cfg)
        self._logout_url = cfg.logout_url()  # needs domain, client id and logout_uri
        if store is not None and not all(callable(getattr(store, m, None)) for m in _STORE_METHODS):
            raise TypeError(f"store must be a SessionStore (with {', '.join(_STORE_METHODS)})")
        if revocations is not None and not callable(getattr(revocations, "add", None)):
            raise TypeError("revocations must be a RevocationList")
        if not callable(clock):
            raise TypeError("clock must be a function returning wall-clock seconds")
        self._config = cfg
        self._store: SessionStore = store if store is not None else MemorySessionStore()
        self._idle = _seconds("idle_timeout", idle_timeout)
        self._absolute = _seconds("absolute_timeout", absolute_timeout)
        self._margin = _seconds("refresh_margin", refresh_margin, zero=True)
        self._revocations = revocations
        self.clock = clock
        self._touch_every = min(60.0, self._idle / 10)
        # A refresh holds the session's lock through a token request and maybe a JWKS fetch.
        self._lock_ttl = 2 * cfg.timeout + 5
        self._lock_wait = self._lock_ttl + 1

    # -- what it is -----------------------------------------------------------------------

    @property
    def config(self) -> CognitoConfig:
        """The app client's configuration."""
        return self._config

    @property
    def store(self) -> SessionStore:
        """Where sessions are kept."""
        return self._store

    @property
    def cookie(self) -> CookieSettings:
        """The attributes of the cookies an integration sets (:func:`cookie_settings`)."""
        return self._cookie

    @property
    def origin(self) -> str:
        """The app's origin, from ``redirect_uri`` (:func:`app_origin`): sign-out checks it."""
        return self._origin

    def __repr__(self) -> str:
        return f"CognitoSessions(client_id={self._config.client_id!r}, store={self._store!r})"

    def refresh_at(self, record: SessionRecord) -> float:
        """When ``record``'s access token is due for a refresh (the package's one rule,
        :func:`~cognito_helper.oauth.token_store.refresh_due_at`, with ``refresh_margin``)."""
        return refresh_due_at(
            record.access_issued_at, record.access_expires_at, margin=self._margin
        )

    def _ttl(self, record: SessionRecord, now: float) -> float:
        return max(1.0, min(self._idle, record.ends_at - now))

    # -- sign-in --------------------------------------------------------------------------

    def begin(self, next_path: object = "/", **options: Any) -> SignInStart:
        """Start a sign-in that returns to ``next_path`` (made safe: :func:`safe_next`).

        State, nonce and PKCE verifier are kept in the store under a fresh pending id for
        ``SIGN_IN_TIMEOUT`` (10 minutes). ``options`` are :meth:`CognitoConfig.login_url`'s
        (``prompt``, ``login_hint``, ``identity_provider``...), except ``redirect_uri``.
        """
        if "redirect_uri" in options:
            raise TypeError("begin() signs in through the config's redirect_uri only")
        login = self._config.start_login(**options)
        pending_id = new_session_id()
        pending = PendingSignIn(
            login.state, login.nonce, login.code_verifier, safe_next(next_path), self.clock()
        )
        self._store.put_pending(storage_key(pending_id), pending, SIGN_IN_TIMEOUT)
        return SignInStart(pending_id, login.url)

    def complete(self, pending_id: object, query: Mapping[str, Any]) -> SignedIn:
        """Complete the sign-in pending under ``pending_id`` with the callback's ``query``.

        The pending sign-in is consumed first (single use). Then: the ``state`` must be its
        own; the code is exchanged (with its PKCE verifier); the ID token (its nonce, its
        ``at_hash``) and the access token are verified; and only then is a session created,
        under a new id. Raises :class:`CallbackError` (answer 400; nothing was created),
        :class:`CognitoConnectionError` (503).
        """
        now = self.clock()
        pending, code = take_callback(self._store, pending_id, query, now)
        tokens = exchange_code(self._config, pending, code)
        try:
            user, access = verify_tokens(self._config, tokens, nonce=pending.nonce)
        except TokenVerificationError as exc:
            raise CallbackError(
                f"the tokens of this sign-in did not verify ({type(exc).__name__})",
                reason="tokens",
            ) from exc
        record = new_record(tokens, user, access, now, now + self._absolute)
        session_id = new_session_id()
        self._store.create(storage_key(session_id), record, self._ttl(record, now))
        log.debug("a session started")
        return SignedIn(session_id, pending.next_path)

    # -- each request ---------------------------------------------------------------------

    def load(self, session_id: object) -> Optional[Session]:
        """The session whose id the browser sent, or ``None`` (no such session, timed out).

        A timed-out session is deleted. Raises :class:`SessionStoreUnavailableError` when the
        store cannot be reached (answer 503, not a sign-in).
        """
        if not isinstance(session_id, str) or not is_session_id(session_id):
            return None
        key = storage_key(session_id)
        record = self._store.load(key)
        if record is None:
            return None
        now = self.clock()
        if now >= record.ends_at or now - record.last_seen >= self._idle:
            self._store.delete(key)
            return None
        if now - record.last_seen >= self._touch_every:
            touched = self._touch(key, record, now)
            if touched is None:
                return None
            record = touched
        return Session(self, key, record)

    def _touch(self, key: str, record: SessionRecord, now: float) -> Optional[SessionRecord]:
        """``record`` marked as used ``now``, written under the session's lock (so that it
        never overwrites a refresh); skipped while a refresh holds the lock (it writes)."""
        with self._store.lock(key, ttl=self._lock_ttl, wait=0) as held:
            if not held:
                return record
            latest = self._store.load(key)
            if latest is None:
                return None
            touched = latest.seen(now)
            return touched if self._store.update(key, touched, self._ttl(touched, now)) else None

    def _renew(self, session: Session) -> str:
        """A fresh access token for ``session``: refreshed by this caller under the session's
        lock, or by whoever held it (read back from the store)."""
        record = session._record
        valid = self.clock() < record.access_expires_at
        # Still valid: do not wait for a refresh another request runs; use the token held.
        wait = 0.0 if valid else self._lock_wait
        with self._store.lock(session._key, ttl=self._lock_ttl, wait=wait) as held:
            if held:
                session._record = self._refreshed(session._key)
                return session._record.access_token
        if self.clock() < record.access_expires_at:
            return record.access_token
        raise SessionStoreUnavailableError(
            "another request has held this session's refresh lock too long; try again later"
        )

    def _refreshed(self, key: str) -> SessionRecord:
        """Under the session's lock: the stored record, refreshed when it is due."""
        now = self.clock()
        latest = self._store.load(key)
        if latest is None or now >= latest.ends_at or now - latest.last_seen >= self._idle:
            raise SessionEndedError("the session has ended")
        if now < self.refresh_at(latest):
            return latest  # another request refreshed it while this one waited
        if latest.refresh_token is None:
            if now < latest.access_expires_at:
                return latest
            self._store.delete(key)
            raise SessionEndedError("the access token expired and there is no refresh token")
        try:
            tokens = get_cognito_tokens(refresh_token=latest.refresh_token, config=self._config)
        except InvalidGrantError:
            self._store.delete(key)
            log.info("a session ended: its refresh token is expired or revoked")
            raise SessionEndedError("the refresh token is expired or revoked") from None
        except CognitoConnectionError:
            if now < latest.access_expires_at:
                return latest  # the next call tries again
            raise
        user, access = verify_tokens(
            self._config, tokens, nonce=None, sub=str(latest.user.get("sub"))
        )
        renewed = refreshed_record(latest, tokens, user, access, now)
        if not self._store.update(key, renewed, self._ttl(renewed, now)):
            raise SessionEndedError("the session was ended while its tokens were refreshed")
        return renewed

    # -- sign-out -------------------------------------------------------------------------

    def end(self, session_id: object) -> str:
        """End the session: list its tokens in ``revocations`` (until their ``exp``), delete
        it, and revoke its refresh token at Cognito (``/oauth2/revoke``; a failure there is
        logged, the session is gone either way). Returns Cognito's ``/logout`` URL (with
        ``client_id`` and ``logout_uri``) to redirect the browser to, also when there was no
        session. Raises :class:`SessionStoreUnavailableError` when the store cannot be reached
        (nothing was deleted: try again).
        """
        if not isinstance(session_id, str) or not is_session_id(session_id):
            return self._logout_url
        key = storage_key(session_id)
        with self._store.lock(key, ttl=self._lock_ttl, wait=self._lock_wait):
            record = self._store.load(key)
            if record is not None:
                self._list_revoked(record)
                self._store.delete(key)
        if record is not None and record.refresh_token is not None:
            try:
                revoke_token(record.refresh_token, config=self._config)
            except (CognitoConnectionError, TokenExchangeError) as exc:
                log.warning(
                    "the refresh token of an ended session was not revoked at Cognito (%s); "
                    "the session is deleted",
                    type(exc).__name__,
                )
        log.debug("a session ended (signed out)")
        return self._logout_url

    def _list_revoked(self, record: SessionRecord) -> None:
        if self._revocations is None:
            return
        until = max(record.access_expires_at, finite_number(record.user.get("exp")) or 0.0)
        if record.origin_jti is not None:
            self._revocations.add(record.origin_jti, until)
            return
        for jti in (record.access_jti, record.user.get("jti")):
            if isinstance(jti, str) and jti:
                self._revocations.add(jti, until)
