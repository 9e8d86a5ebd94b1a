"""Signed-in web apps: the user's tokens kept on the server, refreshed on time, ended everywhere.

A layer above ``oauth`` and ``verification`` and below ``integrations``: framework-agnostic,
so the Flask, Django and Starlette integrations share every rule.

* :class:`CognitoSessions` runs the flow (:meth:`~CognitoSessions.begin`,
  :meth:`~CognitoSessions.complete`, :meth:`~CognitoSessions.load`,
  :meth:`~CognitoSessions.end`); :class:`Session` is one signed-in user's;
* :class:`SessionStore` is what a store does; :class:`MemorySessionStore` (one process,
  the default) and :class:`RedisSessionStore` (a fleet, encrypted at rest) are two;
* :class:`RevocationList` refuses the tokens of ended sessions in offline verification;
* :func:`safe_next`, :func:`cookie_settings`, :func:`app_origin`, :func:`same_origin`,
  :func:`sign_out_refusal`, :func:`accepts_html` and :func:`cookie_value`
  are the web rules every integration applies alike.

Imports oauth, verification, settings and core.
"""

from .core import CognitoSessions, Session
from .errors import CallbackError, SessionEndedError, SessionStoreUnavailableError
from .records import PendingSignIn, SessionRecord, storage_key
from .redis_store import RedisSessionStore
from .revocation import (
    MemoryRevocationStore,
    RedisRevocationStore,
    RevocationList,
    RevocationStore,
)
from .sealing import Sealer
from .signin import SignedIn, SignInStart
from .store import MemorySessionStore, SessionStore
from .web import (
    SIGN_IN_TIMEOUT,
    CookieSettings,
    accepts_html,
    app_origin,
    cookie_settings,
    cookie_value,
    safe_next,
    same_origin,
    sign_out_refusal,
)

__all__ = [
    "SIGN_IN_TIMEOUT",
    "CallbackError",
    "CognitoSessions",
    "CookieSettings",
    "MemoryRevocationStore",
    "MemorySessionStore",
    "PendingSignIn",
    "RedisRevocationStore",
    "RedisSessionStore",
    "RevocationList",
    "RevocationStore",
    "Sealer",
    "Session",
    "SessionEndedError",
    "SessionRecord",
    "SessionStore",
    "SessionStoreUnavailableError",
    "SignInStart",
    "SignedIn",
    "accepts_html",
    "app_origin",
    "cookie_settings",
    "cookie_value",
    "safe_next",
    "same_origin",
    "sign_out_refusal",
    "storage_key",
]
