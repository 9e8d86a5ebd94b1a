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

A token string that passed before is answered by the verification memo
(:mod:`cognito_helper._memo`) while the key that verified it is still the JWKS cache's current
key for its kid. What the memo keeps is fixed by the signed token: that stages 1 to 4 passed,
the decoded claims and that their types are right. Every comparison of stage 5 still runs on
every call, in the same order and with the same errors: ``exp``, ``nbf`` and ``iat`` against
the clock, ``iss`` and the client against the configuration, ``token_use``, ``nonce``,
``at_hash``, ``groups`` and ``scopes`` against the call's options. A header segment that passed
stages 1 and 2 is remembered too (a pool has two), so it is not decoded again.
"""

from __future__ import annotations

import hmac
import time
from typing import Any, Dict, Iterable, Optional, Tuple, Union, cast

from . import _memo
from ._encoding import COMPACT_JWS, at_hash, b64url_decode, json_claims, json_object, octets
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
#: The largest time claim accepted (9999-12-31T23:59:59Z); time claims are 0 to this.
MAX_NUMERIC_DATE = 253402300799

_SHAPE = COMPACT_JWS
_B64URL_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_TOKEN_USES = ("id", "access")
_MEMO = _memo.memo
_memo_entry = _MEMO.entry
_TAIL = _memo.TAIL

Claims = Dict[str, Any]

# Header segment -> kid, for header segments that passed stages 1 and 2. A pool signs with two
# keys, so a handful of entries is all a real pool ever needs; junk cannot grow it past the cap.
_header_kids: Dict[str, str] = {}
_MAX_HEADER_KIDS = 64


def _decode_payload(segment: str) -> Claims:
    return _decode_payload_flat(segment)[0]


def _decode_payload_flat(segment: str) -> Tuple[Claims, bool]:
    """The payload object, and whether it is flat: no value is an array or an object.

    "Flat" is read off the JSON bytes: no ``[`` and no ``{`` but the first byte. That can only
    err towards "not flat" (a bracket inside a string), which costs a scan, never a mistake.
    """
    try:
        data = b64url_decode(segment)
        payload = json_claims(data)
    except ValueError as exc:
        raise MalformedTokenError(f"the JWT payload is not a JSON object: {exc}") from None
    return payload, b"[" not in data and data.find(b"{", 1) < 0


def _decode_signature(segment: str) -> bytes:
    try:
        return b64url_decode(segment)
    except ValueError:
        raise MalformedTokenError("the JWT signature is not base64url") from None


def _decompose(token: object, max_chars: int) -> Tuple[Claims, Claims, bytes, bytes]:
    """Split and decode a compact JWS: (header, payload, signing input, signature)."""
    if not isinstance(token, str):
        raise MalformedTokenError(f"a token must be a str, not {type(token).__name__}")
    if len(token) > max_chars:
        raise MalformedTokenError(f"the token is longer than {max_chars} characters")
    if not _SHAPE.fullmatch(token):
        _refuse_wrapped(token)
        count = token.count(".") + 1
        if count != 3:
            raise MalformedTokenError(f"a JWT has 3 dot-separated segments, this has {count}")
        raise MalformedTokenError("a JWT segment is empty or not base64url (A-Z a-z 0-9 - _)")
    head_b64, payload_b64, sig_b64 = token.split(".")
    try:
        header = json_object(b64url_decode(head_b64))
    except ValueError as exc:
        raise MalformedTokenError(f"the JWT header is not a JSON object: {exc}") from None
    payload = _decode_payload(payload_b64)
    signature = _decode_signature(sig_b64)
    return header, payload, (head_b64 + "." + payload_b64).encode("ascii"), signature


def _refuse_wrapped(token: str) -> None:
    """Name the usual ways a good token arrives wrapped: an HTTP scheme, quotes, spaces."""
    if token[:7].lower() == "bearer ":
        raise MalformedTokenError(
            "the token starts with 'Bearer ': remove that prefix (it belongs to the "
            "Authorization header, not to the token)"
        )
    stripped = token.strip()
    if len(stripped) >= 2 and stripped[0] == stripped[-1] and stripped[0] in "\"'":
        raise MalformedTokenError("the token is wrapped in quotes: remove the quotes")
    if stripped != token and _SHAPE.fullmatch(stripped):
        raise MalformedTokenError("the token has white space around it: remove it")


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


def _parse(token: object) -> Tuple[str, Claims, bytes, bytes, bool]:
    """Stages 1 and 2: ``(kid, payload, signing input, signature, payload is flat)``.

    A header segment remembered in ``_header_kids`` decoded to a JSON object that passed
    every header check, so the same segment needs neither again; the payload and signature
    are decoded and checked as always, so the first failure is the one ``_decompose`` and
    ``_check_header`` would report. The shape test here accepts exactly what ``_SHAPE``
    does: ASCII, nothing but base64url characters and two dots, no empty segment.
    """
    if type(token) is str and len(token) <= MAX_TOKEN_CHARS and token.isascii():
        raw = token.encode("ascii")
        if raw.translate(None, _B64URL_ALPHABET) == b"..":
            first, second = token.index("."), token.rindex(".")
            kid = _header_kids.get(token[:first])
            if kid is not None and second > first + 1 and second < len(token) - 1:
                payload, flat = _decode_payload_flat(token[first + 1 : second])
                signature = _decode_signature(token[second + 1 :])
                return kid, payload, raw[:second], signature, flat
    header, payload, signing_input, signature = _decompose(token, MAX_TOKEN_CHARS)
    kid = _check_header(header)
    if len(_header_kids) >= _MAX_HEADER_KIDS:
        _header_kids.clear()
    _header_kids[cast(str, token)[: cast(str, token).index(".")]] = kid
    return kid, payload, signing_input, signature, False


def decode_unverified(token: str) -> Tuple[Claims, Claims]:
    """Return ``(header, claims)`` WITHOUT verifying anything. Never trust the result.

    For display and debugging only (what people paste into jwt.io). Raises
    :class:`MalformedTokenError` for input that is not a compact JWS.
    """
    header, payload, _, _ = _decompose(token, MAX_TOKEN_CHARS)
    return header, payload


def _number(claims: Claims, name: str, *, required: bool) -> Optional[float]:
    """A time claim: a number of seconds from 0 to ``MAX_NUMERIC_DATE``, or ``None`` if absent.

    ``null`` counts as present and wrong. Anything else, NaN, infinities and numbers too
    large to compare with a float included, is an :class:`InvalidClaimsError`.
    """
    value = claims.get(name)
    if value is None:
        if required or name in claims:
            raise InvalidClaimsError(f"the token has no numeric {name!r} claim", claim=name)
        return None
    kind = type(value)
    if kind is not int and kind is not float:
        raise InvalidClaimsError(f"{name!r} must be a number, found {kind.__name__}", claim=name)
    if not 0 <= value <= MAX_NUMERIC_DATE:  # False for NaN too
        raise InvalidClaimsError(
            f"{name!r} must be a time from 0 to {MAX_NUMERIC_DATE} seconds", claim=name
        )
    return value  # type: ignore[no-any-return]


def _string(claims: Claims, name: str) -> str:
    value = claims.get(name)
    if type(value) is not str:
        if value is None:
            raise InvalidClaimsError(f"the token has no {name!r} claim", claim=name)
        raise InvalidClaimsError(
            f"{name!r} must be a string, found {type(value).__name__}", claim=name
        )
    return value





def _as_set(name: str, value: Union[str, Iterable[str], None]) -> Optional[frozenset[str]]:
    if value is None:
        return None
    try:
        items = (value,) if isinstance(value, str) else tuple(value)
    except TypeError:
        raise ValueError(f"{name} must be a string or a list of strings") from None
    if not items or not all(isinstance(item, str) and item for item in items):
        raise ValueError(f"{name} must be a non-empty string or list of non-empty strings")
    return frozenset(items)


# The claims every later check needs, typed: (exp, nbf or None, iat, iss, token_use, client).
_Core = Tuple[float, Optional[float], float, str, str, str]


def _expired(now: float, exp: float, leeway: float) -> TokenExpiredError:
    return TokenExpiredError(f"the token expired {int(now - exp)} s ago (leeway {leeway:g} s)")


def _not_yet_valid() -> InvalidClaimsError:
    return InvalidClaimsError("the token is not valid yet ('nbf' is in the future)", claim="nbf")


def _issued_in_future(iat: float, now: float) -> InvalidClaimsError:
    return InvalidClaimsError(
        f"'iat' is {int(iat - now)} s in the future (clock skew allowed: {MAX_IAT_SKEW} s)",
        claim="iat",
    )


def _foreign_issuer(iss: str, config: CognitoConfig) -> InvalidClaimsError:
    expected = " or ".join(repr(i) for i in config.issuers)
    return InvalidClaimsError(f"'iss' must be {expected}, found {iss!r}", claim="iss")


def _wrong_use(use: str, token_use: Optional[str]) -> InvalidClaimsError:
    wanted = repr(token_use) if token_use else "'id' or 'access'"
    return InvalidClaimsError(f"'token_use' must be {wanted}, found {use!r}", claim="token_use")


def _other_client(use: str, client: str, config: CognitoConfig) -> InvalidClaimsError:
    audience = "aud" if use == "id" else "client_id"
    return InvalidClaimsError(
        f"{audience!r} must be this app client {config.client_id!r}, found {client!r}",
        claim=audience,
    )


def _check_claims(
    claims: Claims,
    config: CognitoConfig,
    now: float,
    token_use: Optional[str],
    leeway: float,
    nonce: Optional[str],
    access_token: Optional[str],
    groups: Optional[frozenset[str]],
    scopes: Optional[frozenset[str]],
) -> _Core:
    """Stage 5 in full, in the documented order; return the typed core claims.

    Each claim is read once; the helper (which raises the precise error, or accepts a float)
    is called only when the claim is not of the usual exact type.
    """
    get = claims.get
    exp = get("exp")
    if type(exp) is not int or not 0 <= exp <= MAX_NUMERIC_DATE:
        exp = _number(claims, "exp", required=True)
        assert exp is not None
    if now >= exp + leeway:
        raise _expired(now, exp, leeway)
    nbf = None
    if "nbf" in claims:
        nbf = _number(claims, "nbf", required=False)
        if nbf is not None and now + leeway < nbf:
            raise _not_yet_valid()
    iat = get("iat")
    if type(iat) is not int or not 0 <= iat <= MAX_NUMERIC_DATE:
        iat = _number(claims, "iat", required=True)
        assert iat is not None
    if iat > now + leeway + MAX_IAT_SKEW:
        raise _issued_in_future(iat, now)
    iss = get("iss")
    if type(iss) is not str:
        iss = _string(claims, "iss")
    issuer = config.issuer
    if iss != issuer and (type(issuer) is str or iss not in config.issuers):
        raise _foreign_issuer(iss, config)
    use = get("token_use")
    if type(use) is not str:
        use = _string(claims, "token_use")
    if use not in _TOKEN_USES or (token_use is not None and use != token_use):
        raise _wrong_use(use, token_use)
    client = get("aud" if use == "id" else "client_id")
    if type(client) is not str:
        client = _string(claims, "aud" if use == "id" else "client_id")
    if client != config.client_id:
        raise _other_client(use, client, config)
    if type(get("sub")) is not str:
        _string(claims, "sub")
    auth_time = get("auth_time")
    if (type(auth_time) is not int or not 0 <= auth_time <= MAX_NUMERIC_DATE) and (
        "auth_time" in claims
    ):
        _number(claims, "auth_time", required=False)
    if nonce is not None or access_token is not None or groups is not None or scopes is not None:
        _check_asked(claims, use, nonce, access_token, groups, scopes)
    return exp, nbf, iat, iss, use, client


def _check_asked(
    claims: Claims,
    use: str,
    nonce: Optional[str],
    access_token: Optional[str],
    groups: Optional[frozenset[str]],
    scopes: Optional[frozenset[str]],
) -> None:
    """The checks the caller asked for: ``nonce``, ``at_hash``, groups, scopes."""
    if nonce is not None:
        if use != "id":
            raise InvalidClaimsError("a nonce can only be checked on an ID token", claim="nonce")
        found = _string(claims, "nonce")
        if not hmac.compare_digest(octets(found), octets(nonce)):
            raise InvalidClaimsError("'nonce' does not match this sign-in's nonce", claim="nonce")
    if access_token is not None and "at_hash" in claims:
        found = _string(claims, "at_hash")
        if not hmac.compare_digest(octets(found), at_hash(access_token).encode()):
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
        group_set = _as_set("groups", groups)
        asked = True
    if scopes is not None:
        scope_set = _as_set("scopes", scopes)
        asked = True
    cfg = config if type(config) is CognitoConfig else get_config(config)
    jwks_url: str = cfg.jwks_url  # type: ignore[assignment]  # always set once built
    memo = _MEMO

    tail = None
    if type(token) is str and memo.maxsize > 0:
        # The path most requests take. An entry counts only for the very same token string
        # and only while its key is still the JWKS cache's current, fresh key for its kid.
        tail = token[-_TAIL:]
        entry = _memo_entry(tail)
        if entry is not None and entry.token == token:
            key = entry.key
            if jwks_cache(jwks_url, timeout=cfg.timeout).get_key_if_current(key.kid) is key:
                entry.used = True
                memo.hits += 1
                # Stage 5 again. The claims and their types are fixed by the signed token and
                # passed before, so only the comparisons with the clock, the configuration and
                # this call's options can fail now: they run here, in the order of
                # _check_claims, and raise the same errors.
                exp, nbf, iat, iss, use, client = entry.core
                now = time.time()
                if now >= exp + leeway:
                    raise _expired(now, exp, leeway)
                if nbf is not None and now + leeway < nbf:
                    raise _not_yet_valid()
                if iat > now + leeway + MAX_IAT_SKEW:
                    raise _issued_in_future(iat, now)
                issuer = cfg.issuer
                if iss != issuer and (type(issuer) is str or iss not in cfg.issuers):
                    raise _foreign_issuer(iss, cfg)
                if token_use is not None and use != token_use:
                    raise _wrong_use(use, token_use)
                if client != cfg.client_id:
                    raise _other_client(use, client, cfg)
                claims = entry.claims
                if asked:
                    _check_asked(claims, use, nonce, access_token, group_set, scope_set)
                result = claims.copy()  # the caller's own: nothing mutable is shared
                if entry.mutable:
                    for name, copier in entry.mutable:
                        result[name] = copier(result[name])
                return result
        memo.misses += 1

    kid, claims, signing_input, signature, flat = _parse(token)
    cache = jwks_cache(jwks_url, timeout=cfg.timeout)
    key = cache.get_key(kid, cfg.timeout)
    try:
        valid = key.verify(signing_input, signature)
    except Exception:  # cryptography refuses some malformed signatures outright
        valid = False
    if not valid:
        raise InvalidSignatureError(f"the RS256 signature does not verify with key {kid!r}")
    core = _check_claims(
        claims, cfg, time.time(), token_use, leeway, nonce, access_token, group_set, scope_set
    )
    if tail is not None:
        return memo.add(token, key, cache, claims, core, flat, tail)
    return claims
