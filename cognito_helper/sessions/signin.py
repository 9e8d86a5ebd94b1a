"""The steps of a sign-in and of a refresh that the sessions core puts together.

A sign-in starts with a pending record (state, nonce, PKCE verifier, where to go next) filed
under a fresh pending id; the callback takes it (single use), checks the redirect against it,
exchanges the code and verifies both tokens. A refresh verifies its tokens the same way.
Every step raises the library's typed errors; none repeats a token, code, state or nonce.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import replace
from typing import Any, Dict, Mapping, NamedTuple, Optional, Tuple

from ..core.errors import (
    InvalidClaimsError,
    TokenExchangeError,
    TokenVerificationError,
)
from ..oauth.endpoints import Tokens, get_cognito_tokens
from ..settings.config import CognitoConfig
from ..verification.cognito import decode_verify_jwt
from .errors import CallbackError
from .records import PendingSignIn, SessionRecord, finite_number, is_session_id, storage_key
from .store import SessionStore
from .web import SIGN_IN_TIMEOUT

__all__ = ["SignInStart", "SignedIn"]

_ERROR_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class SignInStart(NamedTuple):
    """A started sign-in: put ``pending_id`` in a short-lived cookie (``SIGN_IN_TIMEOUT``
    seconds) and redirect the browser to ``url``. ``repr()`` shows neither the id nor the
    URL's query (its state and nonce)."""

    pending_id: str
    url: str

    def __repr__(self) -> str:
        return f"SignInStart(pending_id='***', url={self.url.split('?', 1)[0] + '?...'!r})"


class SignedIn(NamedTuple):
    """A completed sign-in: put ``session_id`` in the session cookie (a new id: no fixation)
    and redirect to ``next_path`` (a path on this app). ``repr()`` hides the id."""

    session_id: str
    next_path: str

    def __repr__(self) -> str:
        return f"SignedIn(session_id='***', next_path={self.next_path!r})"


def _text(query: Mapping[str, Any], name: str) -> Optional[str]:
    value = query.get(name)
    return value if isinstance(value, str) and value else None


def take_callback(
    store: SessionStore, pending_id: object, query: Mapping[str, Any], now: float
) -> Tuple[PendingSignIn, str]:
    """The pending sign-in the callback answers (consumed, whatever follows) and its code.

    Raises :class:`CallbackError`: ``"state"`` when nothing is pending under ``pending_id``
    (unknown, used, expired) or the redirect's ``state`` is another; ``"denied"`` when Cognito
    sent an ``error``; ``"code"`` when there is no code.
    """
    pending = None
    if isinstance(pending_id, str) and is_session_id(pending_id):
        pending = store.take_pending(storage_key(pending_id))
    if pending is None:
        raise CallbackError(
            "no sign-in is pending under this id: unknown, already used or expired",
            reason="state",
        )
    if now >= pending.created_at + SIGN_IN_TIMEOUT:
        raise CallbackError("the sign-in expired: it has 10 minutes", reason="state")
    state = _text(query, "state")
    if state is None or not hmac.compare_digest(
        state.encode("utf-8", "replace"), pending.state.encode("ascii")
    ):
        raise CallbackError("the state on the redirect is not this sign-in's", reason="state")
    error = _text(query, "error")
    if error is not None:
        shown = error if _ERROR_CODE.fullmatch(error) else "unrecognised_error"
        raise CallbackError(f"Cognito sent an error instead of a code: {shown}", reason="denied")
    code = _text(query, "code")
    if code is None:
        raise CallbackError("the redirect carries no code", reason="code")
    return pending, code


def exchange_code(config: CognitoConfig, pending: PendingSignIn, code: str) -> Tokens:
    """The tokens for ``code`` (with the sign-in's PKCE verifier); :class:`CallbackError`
    (``"code"``) when Cognito refuses it or it cannot be a code. Connection trouble
    (:class:`CognitoConnectionError`) propagates: answer 503."""
    try:
        return get_cognito_tokens(code=code, config=config, code_verifier=pending.code_verifier)
    except TokenExchangeError as exc:
        raise CallbackError(f"Cognito refused the code ({exc.error})", reason="code") from exc
    except ValueError:
        raise CallbackError("the code on the redirect cannot be a code", reason="code") from None


def verify_tokens(
    config: CognitoConfig, tokens: Tokens, *, nonce: Optional[str], sub: Optional[str] = None
) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    """The verified claims of ``tokens``' ID token (its ``nonce`` when given, its ``at_hash``
    against the access token when it has one) and access token (``token_use="access"``).

    Both must name one user, ``sub`` when given (the session's). Raises
    :class:`TokenVerificationError` (or :class:`CognitoConnectionError` for the JWKS).
    """
    if tokens.id_token is None:
        raise TokenVerificationError(
            "Cognito returned no ID token: the config's scopes must include 'openid'"
        )
    user = decode_verify_jwt(
        tokens.id_token,
        config=config,
        token_use="id",
        nonce=nonce,
        access_token=tokens.access_token,
    )
    access = decode_verify_jwt(tokens.access_token, config=config, token_use="access")
    # Both tokens verified, so both have a string 'sub' (a claim the verification requires).
    if access.get("sub") != user.get("sub") or (sub is not None and user.get("sub") != sub):
        raise InvalidClaimsError("the ID and access tokens are not of this user", claim="sub")
    return dict(user), dict(access)


def _time(claims: Mapping[str, Any], name: str, default: float) -> float:
    value = finite_number(claims.get(name))
    return default if value is None else value


def _jti(claims: Mapping[str, Any], name: str) -> Optional[str]:
    value = claims.get(name)
    return value if isinstance(value, str) and 0 < len(value) <= 512 else None


def new_record(
    tokens: Tokens,
    user: Dict[str, Any],
    access: Dict[str, Any],
    now: float,
    ends_at: float,
) -> SessionRecord:
    """The record of a session that starts ``now`` with these verified tokens."""
    assert tokens.id_token is not None  # verify_tokens refused a grant without one
    exp = _time(access, "exp", now)
    return SessionRecord(
        id_token=tokens.id_token,
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        user=user,
        access_issued_at=min(_time(access, "iat", now), exp),
        access_expires_at=exp,
        created_at=now,
        last_seen=now,
        ends_at=ends_at,
        origin_jti=_jti(access, "origin_jti") or _jti(user, "origin_jti"),
        access_jti=_jti(access, "jti"),
    )


def refreshed_record(
    record: SessionRecord,
    tokens: Tokens,
    user: Dict[str, Any],
    access: Dict[str, Any],
    now: float,
) -> SessionRecord:
    """``record`` after a refresh grant: the new tokens (the rotated refresh token, when
    Cognito sent one), the new ID token's claims, the session's own times kept."""
    fresh = new_record(tokens, user, access, now, record.ends_at)
    return replace(
        fresh,
        refresh_token=tokens.refresh_token or record.refresh_token,
        created_at=record.created_at,
        origin_jti=fresh.origin_jti or record.origin_jti,
    )
