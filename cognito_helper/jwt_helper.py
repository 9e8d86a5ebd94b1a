"""Verifying Cognito ID and access tokens: :func:`decode_verify_jwt`.

The checks run in this order and stop at the first failure, each stage with its own error:

1. input (:mod:`cognito_helper._jws`, :class:`MalformedTokenError`): a ``str`` of at most
   ``MAX_TOKEN_CHARS`` characters, three non-empty canonical base64url segments, a header and
   a payload that are JSON objects (strict UTF-8, no ``NaN``/``Infinity``);
2. header (:mod:`cognito_helper._jws`, :class:`MalformedTokenError`): ``alg`` exactly
   ``RS256``, no ``crit``, ``kid`` a string; ``jku``, ``x5u``, ``jwk``, ``x5c`` are ignored;
3. key (:mod:`cognito_helper.jwks`, :class:`UnknownKeyError`, or
   :class:`CognitoConnectionError` when no usable JWKS can be had): the usable RS256
   signing key with that ``kid`` from the configured JWKS URL's cache;
4. signature (:class:`InvalidSignatureError`): RS256 with the cached key object;
5. claims (:mod:`cognito_helper._claims`, :class:`InvalidClaimsError` naming the claim, or
   :class:`TokenExpiredError`): first every core claim's type (``exp``, ``nbf``, ``iat``,
   ``iss``, ``token_use``, ``aud``/``client_id``, ``sub``, ``auth_time``), then the
   comparisons (``exp``, ``nbf``, ``iat`` against the clock, ``iss`` and the client against
   the configuration, ``token_use``), then what the call asked for (``nonce``, ``at_hash``,
   groups, scopes).

So a token that fails two checks reports the earlier one: a bad signature wins over an
expired token, an expired token over a foreign ``iss``, a mistyped claim over any comparison.
``tests/test_check_order.py`` pins this table.

A token string that passed before is answered by the verification memo
(:mod:`cognito_helper._memo`) while the key that verified it is still the JWKS cache's current
key for its kid. The memo keeps what the signed token fixes (stages 1 to 4 and the typed
claims of stage 5); the comparisons of stage 5 run on every call through the same functions,
so both paths fail alike. A header segment that passed stages 1 and 2 is remembered too (a
pool has two), so it is not decoded again.
"""

from __future__ import annotations

import time
from typing import Any, Dict, Iterable, Optional, Union

from . import _memo
from ._claims import MAX_IAT_SKEW, MAX_NUMERIC_DATE, check_asked, compare, option_set, typed_core
from ._jws import MAX_TOKEN_CHARS, decode_unverified, parse
from ._jws import _header_kids as _header_kids  # tests and tools reach it here too
from .config import CognitoConfig, get_config
from .errors import InvalidSignatureError
from .jwks import jwks_cache

__all__ = [
    "MAX_IAT_SKEW",
    "MAX_NUMERIC_DATE",
    "MAX_TOKEN_CHARS",
    "decode_unverified",
    "decode_verify_jwt",
]

_MEMO = _memo.memo
_TAIL = _memo.TAIL

Claims = Dict[str, Any]


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

    A token string that passed before is answered from the verification memo while the key
    that verified it is still current (see :func:`set_verification_memo_size`); the checks
    against the clock, the configuration and these options run on every call.

    Raises a :class:`TokenVerificationError` subclass when the token must be rejected (answer
    401): :class:`MalformedTokenError`, :class:`UnknownKeyError`,
    :class:`InvalidSignatureError`, :class:`TokenExpiredError`, :class:`InvalidClaimsError`;
    :class:`CognitoConnectionError` when no usable JWKS can be had (answer 503);
    :class:`ConfigError` when nothing is configured; ``ValueError`` for invalid options.
    """
    # Cheap exact-type tests first; the general test only for what they do not settle.
    if token_use is not None and token_use != "access" and token_use != "id":
        raise ValueError("token_use must be 'id', 'access' or None")
    if (type(leeway) is not int or not 0 <= leeway < 1e9) and (
        isinstance(leeway, bool) or not isinstance(leeway, (int, float)) or not 0 <= leeway < 1e9
    ):
        raise ValueError("leeway must be a non-negative number of seconds")
    asked = False  # whether any check beyond the standard ones was asked for
    if nonce is not None:
        if not isinstance(nonce, str):
            raise ValueError("nonce must be a string")
        asked = True
    if access_token is not None:
        if not isinstance(access_token, str):
            raise ValueError("access_token must be a string")
        asked = True
    group_set = scope_set = None
    if groups is not None:
        group_set = option_set("groups", groups)
        asked = True
    if scopes is not None:
        scope_set = option_set("scopes", scopes)
        asked = True
    cfg = config if type(config) is CognitoConfig else get_config(config)
    jwks_url: str = cfg.jwks_url  # type: ignore[assignment]  # always set once built
    cache = jwks_cache(jwks_url, timeout=cfg.timeout)
    memo = _MEMO

    tail = None
    if type(token) is str and memo.maxsize > 0:
        # The path most requests take: the very same token string, while its key is still
        # the JWKS cache's current, fresh key for its kid. Stage 5's comparisons run again.
        tail = token[-_TAIL:]
        entry = memo.find(token, tail, cache)
        if entry is not None:
            compare(entry.core, cfg, time.time(), token_use, leeway)
            if asked:
                check_asked(entry.claims, entry.core[4], nonce, access_token, group_set, scope_set)
            return entry.copy_claims()

    kid, claims, signing_input, signature, flat = parse(token)
    key = cache.get_key(kid, cfg.timeout)
    try:
        valid = key.verify(signing_input, signature)
    except Exception:  # cryptography refuses some malformed signatures outright
        valid = False
    if not valid:
        raise InvalidSignatureError(f"the RS256 signature does not verify with key {kid!r}")
    core = typed_core(claims)
    compare(core, cfg, time.time(), token_use, leeway)
    if asked:
        check_asked(claims, core[4], nonce, access_token, group_set, scope_set)
    if tail is not None:
        return memo.add(token, key, cache, claims, core, flat, tail)
    return claims
