"""Verifying Cognito ID and access tokens.

:func:`decode_verify_jwt` runs, in this order, and stops at the first failure:

1. input: a ``str`` of at most ``MAX_TOKEN_CHARS`` characters (checked before any decoding),
   three non-empty base64url segments, header and payload JSON objects;
2. header: ``alg`` exactly ``RS256``, ``kid`` a string, no ``crit``; ``jku``, ``x5u``,
   ``jwk`` and ``x5c`` are ignored: keys come only from the configured ``jwks_url``;
3. key: the usable RS256 signing key with that ``kid`` from the cached JWKS;
4. signature: RS256 through python-jose's cryptography backend, with the cached key object;
5. claims, type-checked: ``exp`` (with ``leeway``), ``nbf``, ``iat``, ``iss``, ``token_use``,
   ``aud`` (ID) or ``client_id`` (access), ``sub``, then ``nonce``, ``at_hash``, ``groups``
   and ``scopes`` when asked for.

Each stage fails with its own :class:`TokenVerificationError` subclass; no message contains
the token.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import time
from typing import Any, Dict, Iterable, Optional, Tuple, Union, cast

from ._encoding import b64url_decode, b64url_encode, json_object
from .config import CognitoConfig, get_config
from .errors import (
    InvalidClaimsError,
    InvalidSignatureError,
    MalformedTokenError,
    TokenExpiredError,
)
from .jwks_cache import jwks_cache

__all__ = ["decode_verify_jwt", "decode_unverified", "MAX_TOKEN_CHARS"]

MAX_TOKEN_CHARS = 64 * 1024
#: How far in the future ``iat`` may lie (clock skew between this host and Cognito).
MAX_IAT_SKEW = 300

_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_URL_HEADERS = ("jku", "x5u", "jwk", "x5c")  # never followed; listed for the docs
_TOKEN_USES = ("id", "access")

Claims = Dict[str, Any]


def _decompose(token: object, max_chars: int) -> Tuple[Claims, Claims, bytes, bytes]:
    """Split and decode a compact JWS: (header, payload, signing input, signature)."""
    if not isinstance(token, str):
        raise MalformedTokenError(f"a token must be a str, not {type(token).__name__}")
    if len(token) > max_chars:
        raise MalformedTokenError(f"the token is longer than {max_chars} characters")
    if not _SHAPE.fullmatch(token):
        count = token.count(".") + 1
        if count != 3:
            raise MalformedTokenError(f"a JWT has 3 dot-separated segments, this has {count}")
        raise MalformedTokenError("a JWT segment is empty or not base64url (A-Z a-z 0-9 - _)")
    head_b64, payload_b64, sig_b64 = token.split(".")
    try:
        header = json_object(b64url_decode(head_b64))
    except ValueError as exc:
        raise MalformedTokenError(f"the JWT header is not a JSON object: {exc}") from None
    try:
        payload = json.loads(b64url_decode(payload_b64))
    except (ValueError, RecursionError) as exc:
        raise MalformedTokenError(f"the JWT payload is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise MalformedTokenError("the JWT payload is not a JSON object")
    try:
        signature = b64url_decode(sig_b64)
    except ValueError:
        raise MalformedTokenError("the JWT signature is not base64url") from None
    return header, payload, (head_b64 + "." + payload_b64).encode("ascii"), signature


def _check_header(header: Claims) -> str:
    alg = header.get("alg")
    if alg != "RS256":
        raise MalformedTokenError(f"alg must be 'RS256', found {alg!r}")
    if "crit" in header:
        raise MalformedTokenError("the 'crit' header is not supported")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise MalformedTokenError("the header has no 'kid' string naming its key")
    return kid


def decode_unverified(token: str) -> Tuple[Claims, Claims]:
    """Return ``(header, claims)`` WITHOUT verifying anything. Never trust the result.

    For display and debugging only (what people paste into jwt.io). Raises
    :class:`MalformedTokenError` for input that is not a compact JWS.
    """
    header, payload, _, _ = _decompose(token, MAX_TOKEN_CHARS)
    return header, payload


def _number(claims: Claims, name: str, *, required: bool) -> Optional[float]:
    value = claims.get(name)
    if value is None:
        if required or name in claims:
            raise InvalidClaimsError(f"the token has no numeric {name!r} claim", claim=name)
        return None
    kind = type(value)
    if kind is int or (kind is float and math.isfinite(value)):
        return value  # type: ignore[no-any-return]
    raise InvalidClaimsError(f"{name!r} must be a number, found {kind.__name__}", claim=name)


def _string(claims: Claims, name: str) -> str:
    value = claims.get(name)
    if type(value) is not str:
        if value is None:
            raise InvalidClaimsError(f"the token has no {name!r} claim", claim=name)
        raise InvalidClaimsError(
            f"{name!r} must be a string, found {type(value).__name__}", claim=name
        )
    return value


def _at_hash(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode("ascii", "replace")).digest()
    return b64url_encode(digest[: len(digest) // 2])


def _as_set(name: str, value: Union[str, Iterable[str], None]) -> Optional[frozenset[str]]:
    if value is None:
        return None
    items = (value,) if isinstance(value, str) else tuple(value)
    if not items or not all(isinstance(item, str) and item for item in items):
        raise ValueError(f"{name} must be a non-empty string or list of non-empty strings")
    return frozenset(items)


def _check_claims(
    claims: Claims,
    config: CognitoConfig,
    now: float,
    *,
    token_use: Optional[str],
    leeway: float,
    nonce: Optional[str],
    access_token: Optional[str],
    groups: Optional[frozenset[str]],
    scopes: Optional[frozenset[str]],
) -> None:
    exp = _number(claims, "exp", required=True)
    assert exp is not None
    if now >= exp + leeway:
        raise TokenExpiredError(f"the token expired {int(now - exp)} s ago (leeway {leeway:g} s)")
    nbf = _number(claims, "nbf", required=False)
    if nbf is not None and now + leeway < nbf:
        raise InvalidClaimsError("the token is not valid yet ('nbf' is in the future)", claim="nbf")
    iat = _number(claims, "iat", required=True)
    assert iat is not None
    if iat > now + leeway + MAX_IAT_SKEW:
        raise InvalidClaimsError(
            f"'iat' is {int(iat - now)} s in the future (clock skew allowed: {MAX_IAT_SKEW} s)",
            claim="iat",
        )
    iss = _string(claims, "iss")
    if iss not in config.issuers:
        expected = " or ".join(repr(i) for i in config.issuers)
        raise InvalidClaimsError(f"'iss' must be {expected}, found {iss!r}", claim="iss")
    use = _string(claims, "token_use")
    if use not in _TOKEN_USES or (token_use is not None and use != token_use):
        wanted = repr(token_use) if token_use else "'id' or 'access'"
        raise InvalidClaimsError(f"'token_use' must be {wanted}, found {use!r}", claim="token_use")
    audience = "aud" if use == "id" else "client_id"
    client = _string(claims, audience)
    if client != config.client_id:
        raise InvalidClaimsError(
            f"{audience!r} must be this app client {config.client_id!r}, found {client!r}",
            claim=audience,
        )
    _string(claims, "sub")
    if "auth_time" in claims:
        _number(claims, "auth_time", required=False)

    if nonce is not None:
        if use != "id":
            raise InvalidClaimsError("a nonce can only be checked on an ID token", claim="nonce")
        found = _string(claims, "nonce")
        if not hmac.compare_digest(found.encode(), nonce.encode()):
            raise InvalidClaimsError("'nonce' does not match this sign-in's nonce", claim="nonce")
    if access_token is not None and "at_hash" in claims:
        found = _string(claims, "at_hash")
        if not hmac.compare_digest(found.encode(), _at_hash(access_token).encode()):
            raise InvalidClaimsError(
                "'at_hash' does not match the access token given", claim="at_hash"
            )
    if groups is not None:
        held = claims.get("cognito:groups")
        if not isinstance(held, list) or not all(type(g) is str for g in held):
            raise InvalidClaimsError(
                "the token has no 'cognito:groups' list of strings", claim="cognito:groups"
            )
        if groups.isdisjoint(held):
            raise InvalidClaimsError(
                f"the user is in none of the groups {sorted(groups)}", claim="cognito:groups"
            )
    if scopes is not None:
        granted = _string(claims, "scope").split()
        if scopes.isdisjoint(granted):
            raise InvalidClaimsError(
                f"the token grants none of the scopes {sorted(scopes)}", claim="scope"
            )


def decode_verify_jwt(
    token: str,
    *,
    config: Optional[CognitoConfig] = None,
    token_use: Optional[str] = None,
    access_token: Optional[str] = None,
    nonce: Optional[str] = None,
    leeway: float = 0,
    groups: Union[str, Iterable[str], None] = None,
    scopes: Union[str, Iterable[str], None] = None,
) -> Claims:
    """Verify a Cognito ID or access token and return its claims.

    ``token_use`` ``"id"`` or ``"access"`` requires that kind; ``None`` accepts either (and
    nothing else). ``nonce`` must equal the ID token's ``nonce``. ``access_token``, when given
    and the ID token carries ``at_hash``, must match it. ``groups``/``scopes``: the token must
    hold at least one of them. ``leeway`` is seconds of grace on ``exp``, ``nbf`` and ``iat``.

    The returned dict is the caller's own: changing it affects nothing else.

    Raises a :class:`TokenVerificationError` subclass when the token must be rejected (answer
    401): :class:`MalformedTokenError`, :class:`UnknownKeyError`,
    :class:`InvalidSignatureError`, :class:`TokenExpiredError`, :class:`InvalidClaimsError`;
    :class:`CognitoConnectionError` when no usable JWKS can be had (answer 503);
    :class:`ConfigError` when nothing is configured; ``ValueError`` for invalid options.
    """
    if token_use not in (None, "id", "access"):
        raise ValueError("token_use must be 'id', 'access' or None")
    if isinstance(leeway, bool) or not isinstance(leeway, (int, float)) or not 0 <= leeway < 1e9:
        raise ValueError("leeway must be a non-negative number of seconds")
    if nonce is not None and not isinstance(nonce, str):
        raise ValueError("nonce must be a string")
    if access_token is not None and not isinstance(access_token, str):
        raise ValueError("access_token must be a string")
    group_set = _as_set("groups", groups)
    scope_set = _as_set("scopes", scopes)
    cfg = get_config(config)

    header, claims, signing_input, signature = _decompose(token, MAX_TOKEN_CHARS)
    kid = _check_header(header)
    key = jwks_cache(cast(str, cfg.jwks_url), timeout=cfg.timeout).get_key(kid)
    try:
        valid = key.verify(signing_input, signature)
    except Exception:  # cryptography refuses some malformed signatures outright
        valid = False
    if not valid:
        raise InvalidSignatureError(f"the RS256 signature does not verify with key {kid!r}")
    _check_claims(
        claims,
        cfg,
        time.time(),
        token_use=token_use,
        leeway=leeway,
        nonce=nonce,
        access_token=access_token,
        groups=group_set,
        scopes=scope_set,
    )
    return claims
