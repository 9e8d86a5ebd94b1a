"""Machine to machine: a client-credentials access token, cached until shortly before it expires.

Cognito bills every client-credentials token request, and AWS asks callers to cache the token.
:class:`ClientCredentials` asks Cognito (through :func:`get_client_credentials_token`, the one
token-request path) only when no held token stays valid for a safety margin, and then once
for all the threads that need one. Guarantees:

- a token at or past its ``expires_at`` is never handed out;
- one request at a time per cache key in a process (single flight); the threads that need a
  token meanwhile wait for its answer, or keep using the held token while it is still valid;
- instances with one cache key share its token, cool-downs and single flight, also when each
  is made for one call (:mod:`cognito_helper.oauth.m2m_slots` says what is kept, and how long);
- after a failed request, no new one for ``cooldown`` seconds: callers get the held token while
  it is valid, else the same typed error, without a request;
- a 401 from the API replaces the token at most once per ``cooldown``: an API that refuses
  every token costs one token request per cool-down, not one per call;
- the client secret is never a cache key, a log line or part of a ``repr``.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import json
import logging
import math
import time
import weakref
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Optional,
    Sequence,
    Tuple,
    Union,
)

import requests
import requests.auth

from ..core.errors import CognitoError, ConfigError, TokenExchangeError
from ..settings.config import CognitoConfig
from ..settings.default import get_config
from ..settings.fields import app_client_id, names, scope_tuple
from ..settings.urls import check_resource
from .endpoints import get_client_credentials_token
from .m2m_slots import NOTHING, Fresh, Slot, keep, slot_for
from .token_store import HeldToken, TokenStore, refresh_due_at

if TYPE_CHECKING:
    import httpx

__all__ = ["ClientCredentials"]

log = logging.getLogger("cognito_helper")


def _number(name: str, value: object, *, below: float = math.inf) -> float:
    """A finite number ``0 <= value < below``; ``ValueError`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a number, got {type(value).__name__}")
    if not (math.isfinite(value) and 0 <= value < below):
        limit = f"below {below:g}" if math.isfinite(below) else "finite"
        raise ValueError(f"{name} must be at least 0 and {limit}, got {value!r}")
    return float(value)


def _twin(exc: CognitoError) -> CognitoError:
    """An error of the same type, message and attributes, for another caller.

    Raising one exception object from many threads would make them share (and grow) one
    traceback; a copy starts clean and carries no context.
    """
    try:
        return copy.copy(exc)
    except Exception:  # an error class that cannot be rebuilt from its args
        return exc


def _remembered(failure: CognitoError, wait: float) -> CognitoError:
    """A copy of ``failure``, the error a slot remembers, for a caller within its cool-down:
    its message says that it is remembered and when the next request will be made (``wait``
    seconds from now)."""
    twin = _twin(failure)
    if twin is failure or len(twin.args) != 1 or not isinstance(twin.args[0], str):
        return twin  # not a copy, or a message that cannot be added to
    note = f"the remembered failure of an earlier token request; next attempt in {wait:.1f} s"
    twin.args = (f"{twin.args[0]} ({note})",)
    return twin


def _secrets_digest(secrets: Tuple[str, ...]) -> str:
    """A digest of the configured secrets, in order: of the one secret as before two were
    possible (so that a shared store's keys stay), of the list of them when there are two.

    Over every configured secret, not the one in use: a token stays held (and shared) when
    the second secret takes over from a stale first one, as the token itself stays valid.
    """
    text = secrets[0] if len(secrets) == 1 else json.dumps(list(secrets)) if secrets else ""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _cache_key(config: CognitoConfig, scopes: Tuple[str, ...], resource: Optional[str]) -> str:
    material = [
        config.token_url,
        config.client_id,
        _secrets_digest(config.client_secrets),
        list(scopes),
        resource,
    ]
    return hashlib.sha256(json.dumps(material).encode("utf-8")).hexdigest()


def _bearer_sent(request: requests.PreparedRequest) -> Optional[str]:
    """The token of the ``Authorization: Bearer`` header a request carried, if any."""
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    return token if scheme == "Bearer" and token else None


class ClientCredentials(requests.auth.AuthBase):
    """Access tokens of the client-credentials grant for one app client, scopes and resource.

    ``scopes`` (one or more, space-separated or a sequence; ``None``: every custom scope the app
    client may ask for) and ``resource`` (RFC 8707, an absolute URI) are what each token
    request asks for. ``config`` is read now (default: :func:`get_config`) and needs a
    ``client_secret`` and a ``domain``. ``store`` (a
    :class:`~cognito_helper.oauth.token_store.TokenStore` such as :class:`RedisTokenStore`)
    shares tokens between processes; the in-process cache is always in front of it.

    A held token is used until less than ``refresh_fraction`` of its lifetime or
    ``refresh_margin`` seconds are left, whichever is longer (but at least half its lifetime
    is used); ``expires_in`` decides the lifetime, counted from before the request was sent.
    After a failed request, callers within ``cooldown`` seconds get the still-valid held
    token, or the same typed error, without a new request. ``clock`` is the wall-clock
    function every expiry decision reads (tests move it).

    Instances with the same :attr:`cache_key` share one token in a process; they should use
    the same options (the instance that fetched a token decides when it is due). The token
    outlives the instance: one made per call, ``ClientCredentials(...).access_token()``,
    reuses the token of the one before it. Without an instance, the process keeps the tokens
    of the ``MAX_KEPT`` (128) cache keys most recently used, until they expire. Usable as
    ``requests``' ``auth=`` (adds ``Authorization: Bearer ...``; retries once on a 401) and,
    through :meth:`httpx_auth`, as ``httpx``'s. Safe to use from any number of threads.

    Raises, at construction: :class:`ConfigError` (no secret, no domain, no config),
    ``ValueError`` (bad scopes, a ``resource`` that is not an absolute URI, a bad option),
    ``TypeError`` (a ``store`` without ``obtain``).
    """

    def __init__(
        self,
        scopes: Union[str, Sequence[str], None] = None,
        *,
        resource: Optional[str] = None,
        config: Optional[CognitoConfig] = None,
        store: Optional[TokenStore] = None,
        cooldown: float = 5.0,
        clock: Callable[[], float] = time.time,
        refresh_fraction: float = 0.1,
        refresh_margin: float = 60.0,
    ) -> None:
        """Check everything and compute the cache key; no request is made (see the class)."""
        # the library's one rule for scopes options (None: the client's default scopes)
        asked = () if scopes is None else names("scopes", scopes, ValueError)
        self._scopes: Tuple[str, ...] = tuple(sorted(set(scope_tuple(asked))))
        if resource is not None:
            check_resource("resource", resource)
        cfg = get_config(config)
        app_client_id(cfg.client_id, "the client_credentials grant")
        if not cfg.client_secret:
            raise ConfigError("the client_credentials grant needs client_secret in the config")
        cfg.token_url  # noqa: B018 - raises ConfigError when no domain is set
        if store is not None and not callable(getattr(store, "obtain", None)):
            kind = type(store).__name__
            raise TypeError(f"store must be a TokenStore (with obtain()), got {kind}")
        if not callable(clock):
            raise TypeError("clock must be a function returning wall-clock seconds")
        self._config = cfg
        self._resource = resource
        self._store = store
        self._clock = clock
        self._cooldown = _number("cooldown", cooldown)
        self._fraction = _number("refresh_fraction", refresh_fraction, below=1.0)
        self._margin = _number("refresh_margin", refresh_margin)
        self._key = _cache_key(cfg, self._scopes, resource)
        self._slot = slot_for(self._key, clock())

    # -- what it is -----------------------------------------------------------------------

    @property
    def cache_key(self) -> str:
        """A SHA-256 hex digest of the token URL, client id, a digest of the secret (of both,
        in order, for a config with two), the sorted scopes and the resource: equal for
        instances that may share a token. It does not change when the second secret takes
        over from the first."""
        return self._key

    @property
    def client_id(self) -> str:
        """The app client's id."""
        return app_client_id(self._config.client_id, "ClientCredentials")

    @property
    def scopes(self) -> Tuple[str, ...]:
        """The scopes asked for, sorted (empty: the app client's default ones)."""
        return self._scopes

    @property
    def resource(self) -> Optional[str]:
        """The resource indicator asked for, or ``None``."""
        return self._resource

    def __repr__(self) -> str:
        return (
            f"ClientCredentials(client_id={self.client_id!r}, scopes={self._scopes!r}, "
            f"resource={self._resource!r})"
        )

    # -- tokens ---------------------------------------------------------------------------

    def access_token(self) -> str:
        """A valid access token, from the cache unless it is due for a refresh.

        Raises what :func:`get_client_credentials_token` raises
        (:class:`CognitoConnectionError`, :class:`TokenExchangeError`, ...) when no valid token
        is held and Cognito cannot give one, also (without a request) within the cool-down:
        then a copy of the remembered error, its message ending with when the next attempt
        will be made.
        """
        fresh = self._slot.fresh
        if self._clock() < fresh.refresh_at:
            return fresh.access_token
        return self._renew().access_token

    def token(self) -> HeldToken:
        """Like :meth:`access_token`, with the token's times (:class:`HeldToken`)."""
        fresh = self._slot.fresh
        if fresh.held is not None and self._clock() < fresh.refresh_at:
            return fresh.held
        return self._renew()

    def invalidate(self, access_token: Optional[str] = None) -> None:
        """Drop the held token (say, after the API that got it answered 401).

        With ``access_token``, only when it is still the token held, so that many 401s for
        one token cause one new request. A dropped token is never handed out again, not even
        from a shared ``store``; the next call asks for a new one.
        """
        slot = self._slot
        held = slot.fresh.held
        if held is None or (access_token is not None and held.access_token != access_token):
            return
        slot.rejected = held.access_token
        slot.fresh = NOTHING
        log.debug("client-credentials token of client %s invalidated", self.client_id)

    def _retry_after_401(self, refused: str) -> bool:
        """Whether a request the API answered 401 for ``refused`` is sent again (with the
        token :meth:`access_token` gives then).

        A 401 for a token no longer held is retried with the one held now. A 401 for the held
        token drops it (:meth:`invalidate`), at most once per ``cooldown`` per cache key:
        within the cool-down it is the API's answer and is not retried, so that an API that
        refuses every token costs one token request per cool-down, not one per call.
        """
        slot = self._slot
        with slot.refusals:
            held = slot.fresh.held
            if held is None or held.access_token != refused:
                return True  # replaced (or being replaced) since that request was sent
            now = self._clock()
            if now < slot.replaced_until:
                return False
            slot.replaced_until = now + self._cooldown
            self.invalidate(refused)
        return True

    def _refresh_at(self, held: HeldToken) -> float:
        """When ``held`` is due for a refresh: the margin before ``expires_at``, no earlier
        than half its lifetime."""
        return refresh_due_at(
            held.issued_at, held.expires_at, margin=self._margin, fraction=self._fraction
        )

    def _on_this_clock(self, held: HeldToken) -> HeldToken:
        """``held`` with its times moved back by how far ahead of this process's clock the
        process that fetched it was, as far as it shows (``issued_at`` in the future), and
        its lifetime no longer than a fetched token's (:meth:`HeldToken.capped`).

        A shared store's times are another process's wall clock; a clock ahead of this one
        would otherwise make its token look valid here for that much longer. The skew shows
        only until this clock passes ``issued_at``, so the times found then are kept: the
        held token's, when the store hands the same token again. A store is not trusted with
        a lifetime either: a token it claims lives ten years is used for a day at most.
        """
        known = self._slot.fresh.held
        if known is not None and known.access_token == held.access_token:
            return known if known.expires_at < held.expires_at else held.capped()
        ahead = held.issued_at - self._clock()
        if ahead > 0:
            held = dataclasses.replace(
                held, issued_at=held.issued_at - ahead, expires_at=held.expires_at - ahead
            )
        return held.capped()

    def _usable(self, held: HeldToken) -> bool:
        """Good enough to hand out: not due for a refresh and not invalidated."""
        held = self._on_this_clock(held)
        return held.access_token != self._slot.rejected and self._clock() < self._refresh_at(held)

    def _renew(self) -> HeldToken:
        slot = self._slot
        held = slot.fresh.held
        seen = slot.attempts
        if held is not None and self._clock() < held.expires_at:
            # Due for a refresh but still valid: one thread refreshes, the others go on with
            # the held token rather than wait for it.
            if not slot.lock.acquire(blocking=False):
                return held
        else:
            slot.lock.acquire()
        try:
            return self._renew_locked(slot, seen)
        finally:
            slot.lock.release()

    def _renew_locked(self, slot: Slot, seen: int) -> HeldToken:
        now = self._clock()
        fresh = slot.fresh
        if fresh.held is not None and now < fresh.refresh_at:
            return fresh.held  # another thread got one while this one waited
        held = fresh.held if fresh.held is not None and now < fresh.held.expires_at else None
        failure = slot.failure
        if failure is not None and (slot.attempts != seen or now < slot.failed_until):
            # The request this thread waited for failed, or a cool-down is running.
            if held is not None:
                return held
            if slot.attempts != seen:
                raise _twin(failure)  # the answer to the request this thread waited for
            raise _remembered(failure, slot.failed_until - now)
        try:
            new = self._obtain()
        except CognitoError as exc:
            slot.attempts += 1
            # A clean copy is kept: the error itself holds this call's frames.
            slot.failure, slot.failed_until = _twin(exc), self._clock() + self._cooldown
            if held is None or held.access_token == slot.rejected:
                # invalidate() may have dropped the held token while the request ran.
                raise
            log.warning(
                "could not refresh the client-credentials token of client %s (%s); using the "
                "held one, valid for %.0f s more, and trying again in %g s",
                self.client_id,
                type(exc).__name__,
                held.expires_at - now,
                self._cooldown,
            )
            slot.fresh = Fresh(held, min(slot.failed_until, held.expires_at))
            return held
        slot.attempts += 1
        slot.failure, slot.failed_until = None, -math.inf
        slot.fresh = Fresh(new, self._refresh_at(new))
        keep(self._key, slot)
        return new

    def _obtain(self) -> HeldToken:
        """A token from the store when there is one, else from Cognito; never an expired or
        invalidated one."""
        store = self._store
        if store is None:
            return self._fetch()
        held = self._on_this_clock(store.obtain(self._key, self._fetch, self._usable))
        if held.access_token == self._slot.rejected or not self._clock() < held.expires_at:
            return self._fetch()  # the store broke its promise: do not hand that out
        return held

    def _fetch(self) -> HeldToken:
        """Ask Cognito for a token (one billed request)."""
        issued_at = self._clock()  # before the request: the lifetime errs on the short side
        tokens = get_client_credentials_token(
            self._scopes, config=self._config, resource=self._resource
        )
        lifetime = tokens.expires_in
        if lifetime <= 0:
            raise TokenExchangeError(
                f"the Cognito token endpoint's answer has no valid 'expires_in' ({lifetime})",
                status_code=200,
            )
        held = HeldToken(
            access_token=tokens.access_token,
            token_type=tokens.token_type,
            issued_at=issued_at,
            expires_at=issued_at + lifetime,
            scope=" ".join(self._scopes) or None,
        ).capped()  # more than Cognito's longest lifetime is not believed
        log.info(
            "client-credentials token obtained for client %s (scopes %s, valid %d s)",
            self.client_id,
            " ".join(self._scopes) or "(default)",
            held.expires_at - held.issued_at,
        )
        return held

    # -- requests -------------------------------------------------------------------------

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        """``requests`` auth: add ``Authorization: Bearer <token>``; retry once on a 401.

        The retry invalidates the token that was refused and sends the request again with a
        new one, once, and only when the body can be sent again (none, ``str`` or ``bytes``;
        not a generator or a file). A 401 replaces the token at most once per ``cooldown``
        per cache key: within it, a 401 for the held token is returned as it is (a 401 for a
        token already replaced is retried with the new one). When no token can be had, the
        request is not sent (or not sent again) and the typed error of :meth:`access_token`
        is raised. A 401 answering a redirect (whose Authorization requests strips when the
        host changes) is returned as it is: the token is neither dropped nor sent to that host.
        """
        r.headers["Authorization"] = "Bearer " + self.access_token()
        # The hook answers for this request only: requests copies hooks onto each redirect,
        # whose Authorization it strips when the host changes; a 401 there is no verdict on
        # the token, and a retry there would hand the token to that host.
        sent = weakref.ref(r)
        hook = functools.partial(self._retry_on_401, sent)
        r.register_hook("response", hook)  # type: ignore[no-untyped-call]
        return r

    def _retry_on_401(
        self,
        sent: weakref.ReferenceType[requests.PreparedRequest],
        response: requests.Response,
        **kwargs: Any,
    ) -> requests.Response:
        request = response.request
        body = request.body
        if response.status_code != 401 or request is not sent():
            return response
        refused = _bearer_sent(request)
        if refused is None or not (body is None or isinstance(body, (bytes, str))):
            return response
        if not self._retry_after_401(refused):
            return response  # a 401 replaced the token within the cool-down already
        response.content  # noqa: B018 - read it, so that the connection can be reused
        response.close()
        token = self.access_token()  # no new token: its typed error, not the 401, is raised
        retry = request.copy()
        retry.headers["Authorization"] = "Bearer " + token
        # requests follows a redirect of the retry by copying the first request: the copies
        # carry the new token, not the refused one.
        request.headers["Authorization"] = retry.headers["Authorization"]
        # Sent by the adapter itself, which runs no hooks: this hook cannot retry it again.
        again: requests.Response = response.connection.send(retry, **kwargs)
        again.history.append(response)
        again.request = retry
        return again

    # -- httpx ----------------------------------------------------------------------------

    def httpx_auth(self) -> httpx.Auth:
        """An ``httpx.Auth`` that does for ``httpx.Client`` what this object does for requests.

        It adds the bearer token and retries once on a 401 when the body can be sent again
        (``content`` of bytes or str, ``data``, ``json``; not a generator or ``files``). With
        ``httpx.AsyncClient`` a token request runs in a worker thread. Raises ``ImportError``
        when httpx is not installed (``pip install ".[httpx]"`` from the checkout).
        """
        try:
            from .m2m_httpx import BearerAuth  # imports httpx, an optional dependency
        except ImportError:
            raise ImportError(
                "httpx_auth() needs httpx: pip install '.[httpx]' in the cognito-helper checkout"
            ) from None
        return BearerAuth(self)

    def _cached(self) -> Optional[str]:
        """The held token when it needs no request, else ``None``."""
        fresh = self._slot.fresh
        return fresh.access_token if self._clock() < fresh.refresh_at else None
