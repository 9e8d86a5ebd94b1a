"""Verifying Cognito ID and access tokens: :func:`decode_verify_jwt`.

The checks run in this order and stop at the first failure, each stage with its own error:

1. input (:mod:`cognito_helper.verification.jws`, :class:`MalformedTokenError`): a ``str`` of at
most
   ``MAX_TOKEN_CHARS`` characters, three non-empty canonical base64url segments, a header and
   a payload that are JSON objects (strict UTF-8, no ``NaN``/``Infinity``);
2. header (:mod:`cognito_helper.verification.jws`, :class:`MalformedTokenError`): ``alg`` exactly
   ``RS256``, no ``crit``, ``kid`` a string; ``jku``, ``x5u``, ``jwk``, ``x5c`` are ignored;
3. key (:mod:`cognito_helper.verification.jwks`, :class:`UnknownKeyError`, or
   :class:`CognitoConnectionError` when no usable JWKS can be had): the usable RS256
   signing key with that ``kid`` from the configured JWKS URL's cache;
4. signature (:class:`InvalidSignatureError`): RS256 with the cached key object;
5. claims (:mod:`cognito_helper.verification.claims`, :class:`InvalidClaimsError` naming the claim,
or
   :class:`TokenExpiredError`): first every core claim's type (``exp``, ``nbf``, ``iat``,
   ``iss``, ``token_use``, ``aud``/``client_id``, ``sub``, ``auth_time``), then the
   comparisons (``exp``, ``nbf``, ``iat`` against the clock, ``iss`` and the client against
   the configuration, ``token_use``), then what the call asked for (``audience``, ``nonce``,
   ``at_hash``, groups, scopes), then the caller's own ``check``.

So a token that fails two checks reports the earlier one: a bad signature wins over an
expired token, an expired token over a foreign ``iss``, a mistyped claim over any comparison.
``tests/test_check_order.py`` pins this table.

With several configs, the token's unverified ``iss`` and client claim choose the one config
it is checked against (before any key is fetched); every check then runs against that config.

Once the signature has verified, a rejection carries the decoded claims as ``.claims`` (the
caller's copy), so an app can log who was refused; before that, ``.claims`` is ``None``.

A token string that passed before is answered by the verification memo
(:mod:`cognito_helper.verification.memo`) while the key that verified it is still the JWKS cache's
current
key for its kid. The memo keeps what the signed token fixes (stages 1 to 4 and the typed
claims of stage 5); the comparisons of stage 5 run on every call through the same functions,
so both paths fail alike. A header segment that passed stages 1 and 2 is remembered too (a
pool has two), so it is not decoded again.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Literal,
    NamedTuple,
    Optional,
    Tuple,
    TypedDict,
    Union,
    overload,
)

from ..core.claim_types import AccessTokenClaims, IdTokenClaims
from ..core.errors import InvalidSignatureError, TokenVerificationError
from ..settings.config import CognitoConfig
from ..settings.default import get_config
from ..settings.fields import ANY_APP_CLIENT
from . import memo as _memo
from .claims import (
    MAX_IAT_SKEW,
    MAX_NUMERIC_DATE,
    Asked,
    check_asked,
    check_hook,
    compare,
    option_set,
    refused_by_check,
    typed_core,
    untrusted,
)
from .jwks import JwksCache
from .jwks_registry import jwks_cache
from .jws import MAX_TOKEN_CHARS, decode_unverified, parse

if TYPE_CHECKING:  # Python 3.11's; only the type checker reads it
    from typing_extensions import Unpack

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
Check = Callable[[Dict[str, Any]], Any]
Configs = Union[CognitoConfig, Sequence[CognitoConfig], None]


class _Options(NamedTuple):
    """One call's options, validated once."""

    token_use: Optional[str]
    leeway: float
    asked: Optional[Asked]  # None when nothing beyond the standard checks was asked for
    check: Optional[Check]


class VerifyOptions(TypedDict, total=False):
    """The keyword options of :func:`decode_verify_jwt` but ``token_use``, for its overloads."""

    config: Configs
    access_token: Optional[str]
    nonce: Optional[str]
    leeway: float
    groups: Union[str, Iterable[str], None]
    scopes: Union[str, Iterable[str], None]
    audience: Union[str, Iterable[str], None]
    check: Optional[Check]


# What a type checker sees: ID and access tokens get their TypedDict (a str token_use, not a
# Literal, is a plain dict, which is why the first two "overlap" the last).
@overload
def decode_verify_jwt(  # type: ignore[overload-overlap]
    token: str, *, token_use: Literal["id"], **options: Unpack[VerifyOptions]
) -> IdTokenClaims: ...
@overload
def decode_verify_jwt(  # type: ignore[overload-overlap]
    token: str, *, token_use: Literal["access"], **options: Unpack[VerifyOptions]
) -> AccessTokenClaims: ...
@overload
def decode_verify_jwt(
    token: str, *, token_use: Optional[str] = None, **options: Unpack[VerifyOptions]
) -> Claims: ...


def decode_verify_jwt(
    token: str,
    *,
    config: Configs = None,
    token_use: Optional[str] = None,
    access_token: Optional[str] = None,
    nonce: Optional[str] = None,
    leeway: float = 0,
    groups: Union[str, Iterable[str], None] = None,
    scopes: Union[str, Iterable[str], None] = None,
    audience: Union[str, Iterable[str], None] = None,
    check: Optional[Check] = None,
) -> Any:
    """Verify a Cognito ID or access token and return its claims.

    ``config`` is one :class:`CognitoConfig`, or a list or tuple of them (several app clients
    or pools): the token is checked against the one whose issuer holds its ``iss`` and whose
    ``client_id`` is its ``aud`` (ID token) or ``client_id`` (access token), else one of that
    pool built with ``client_id=ANY_APP_CLIENT``, which trusts any app client of the pool.
    ``token_use`` ``"id"`` or ``"access"`` requires that kind; ``None`` accepts either (and
    nothing else). ``audience``: the access token's ``aud`` (a resource it is bound to) must
    hold one of these. ``nonce`` must equal the ID token's ``nonce``. ``access_token``, when
    given and the ID token carries ``at_hash``, must match it. ``groups``/``scopes``: the
    token must hold at least one of them. ``audience``, ``groups`` and ``scopes`` are each a
    list of names or one string of space-separated names (``"a b"`` is two), never empty.
    ``leeway`` is seconds of grace on ``exp`` and
    ``nbf`` (and on ``iat``'s 300 s allowance). ``check``, called last with the caller's copy
    of the claims, is the app's own rule: it accepts the token by returning ``None`` or
    ``True`` and refuses it by returning ``False`` (an :class:`InvalidClaimsError` with
    ``claim="check"``) or by raising (a :class:`TokenVerificationError` it raises propagates
    as it is, and so does any other exception: that is the app's bug, not a 401). Any other
    return value is a ``TypeError``; a check returning an awaitable refuses the token. An
    ``async def`` check (or an object whose ``__call__`` is one) is a ``ValueError``:
    verification never awaits, so it would never run.

    The returned dict is the caller's own: changing it affects nothing else.

    A token string that passed before is answered from the verification memo while the key
    that verified it is still current (see :func:`set_verification_memo_size`); the checks
    against the clock, the configuration and these options run on every call.

    Raises a :class:`TokenVerificationError` subclass when the token must be rejected (answer
    401): :class:`MalformedTokenError`, :class:`UnknownKeyError`,
    :class:`InvalidSignatureError`, :class:`TokenExpiredError`, :class:`InvalidClaimsError`
    (the last two carry the claims as ``.claims``); :class:`CognitoConnectionError` when no
    usable JWKS can be had (answer 503); :class:`ConfigError` when nothing is configured;
    ``ValueError`` for invalid options or an empty list of configs.
    """
    options = None
    if leeway == 0 and audience is None and nonce is None:
        if groups is None and scopes is None and check is None and type(leeway) is int:
            # The usual call, with or without an access token for at_hash (a new one with
            # every request, so it travels on its own): options made once, not per call.
            if access_token is None or type(access_token) is str:
                options = _PLAIN.get(token_use)
    if options is None:
        options = _options(token_use, leeway, audience, nonce, access_token, groups, scopes, check)
    if type(config) is CognitoConfig:
        cfg = config
    elif config is None or isinstance(config, CognitoConfig):
        cfg = get_config(config)
    else:
        configs = _config_list(config)
        if len(configs) > 1:
            return _verify_among(token, configs, options, access_token)
        cfg = configs[0]
    cache = jwks_cache(cfg.jwks_url, timeout=cfg.timeout)  # type: ignore[arg-type]  # set
    memo = _MEMO
    tail = None
    if type(token) is str and memo.maxsize > 0:
        # The path most requests take: the very same token string, while its key is still
        # the JWKS cache's current, fresh key for its kid. Stage 5's comparisons run again.
        tail = token[-_TAIL:]
        entry = memo.find(token, tail, cache)
        if entry is not None:
            _checked(entry.claims, entry.core, cfg, options, access_token)
            if options.check is None:
                return entry.copy_claims()
            return _custom(entry.copy_claims(), options)
    return _verify_parsed(token, parse(token), cfg, cache, options, access_token, tail)


_new = tuple.__new__  # a NamedTuple without its Python-level __new__ (about 0.1 us less)

# The options of a call that asks for nothing but (perhaps) a token_use, made once.
_PLAIN: Dict[Optional[str], _Options] = {
    use: _Options(use, 0, None, None) for use in (None, "id", "access")
}


def _options(
    token_use: Optional[str],
    leeway: float,
    audience: Union[str, Iterable[str], None],
    nonce: Optional[str],
    access_token: Optional[str],
    groups: Union[str, Iterable[str], None],
    scopes: Union[str, Iterable[str], None],
    check: Optional[Check],
) -> _Options:
    """The call's options, checked; ``ValueError`` for an invalid one."""
    # Cheap exact-type tests first; the general test only for what they do not settle.
    if token_use is not None and token_use != "access" and token_use != "id":
        raise ValueError("token_use must be 'id', 'access' or None")
    if (type(leeway) is not int or not 0 <= leeway < 1e9) and (
        isinstance(leeway, bool) or not isinstance(leeway, (int, float)) or not 0 <= leeway < 1e9
    ):
        raise ValueError("leeway must be a non-negative number of seconds")
    if check is not None:
        check_hook(check)  # a callable, and not an async def (which would never run)
    if nonce is not None and not isinstance(nonce, str):
        raise ValueError("nonce must be a string")
    if access_token is not None and not isinstance(access_token, str):
        raise ValueError("access_token must be a string")
    if audience is None and groups is None and scopes is None:
        # A sign-in's nonce: tuples made directly, no set to build.
        if nonce is None:
            return _new(_Options, (token_use, leeway, None, check))
        asked = _new(Asked, (None, nonce, None, None))
        return _new(_Options, (token_use, leeway, asked, check))
    asked = Asked(
        option_set("audience", audience),
        nonce,
        option_set("groups", groups),
        option_set("scopes", scopes),
    )
    return _Options(token_use, leeway, asked, check)


def _verify_parsed(
    token: str,
    parsed: Tuple[str, Claims, bytes, bytes, bool],
    cfg: CognitoConfig,
    cache: JwksCache,
    options: _Options,
    access_token: Optional[str],
    tail: Optional[str],
) -> Claims:
    """Stages 3 to 5 for a token that passed stages 1 and 2; remember it if it passes."""
    kid, claims, signing_input, signature, flat = parsed
    key = cache.get_key(kid, cfg.timeout)
    try:
        valid = key.verify(signing_input, signature)
    except Exception:  # cryptography refuses some malformed signatures outright
        valid = False
    if not valid:
        raise InvalidSignatureError(f"the RS256 signature does not verify with key {kid!r}")
    try:
        core = typed_core(claims)
    except TokenVerificationError as exc:
        exc.claims = _memo.json_copy(claims)
        raise
    _checked(claims, core, cfg, options, access_token)
    if tail is None:
        return _custom(claims, options)  # claims nobody else holds: the caller's own
    return _custom(_MEMO.add(token, key, cache, claims, core, flat, tail), options)


def _checked(
    claims: Claims, core: Any, cfg: CognitoConfig, options: _Options, access_token: Optional[str]
) -> None:
    """Stage 5's comparisons, then the asked-for checks; a rejection carries the claims.

    The same function for a new token and a remembered one, so both fail alike.
    """
    try:
        compare(core, cfg, time.time(), options.token_use, options.leeway)
        if options.asked is not None or access_token is not None:
            check_asked(claims, core[4], options.asked, access_token)
    except TokenVerificationError as exc:
        exc.claims = _memo.json_copy(claims)  # the caller's copy, for logging who it was
        raise


def _custom(result: Claims, options: _Options) -> Claims:
    """The caller's ``check``, last, on the caller's own copy of the claims: ``None`` or
    ``True`` accepts, anything else is refused (see :func:`refused_by_check`)."""
    check = options.check
    if check is not None:
        verdict = check(result)
        if verdict is not None and verdict is not True:
            raise refused_by_check(verdict, result)
    return result


# -- several configs ------------------------------------------------------------------------


def _config_list(configs: Any) -> Tuple[CognitoConfig, ...]:
    """``config=`` given as a list or tuple: its configs; ``ValueError`` when empty or wrong."""
    if not isinstance(configs, (list, tuple)):
        raise ValueError(
            f"config must be a CognitoConfig or a list of them, not {type(configs).__name__}"
        )
    if not configs:
        raise ValueError("config is an empty list: give at least one CognitoConfig")
    for one in configs:
        if not isinstance(one, CognitoConfig):
            raise ValueError(f"config lists a {type(one).__name__}, not a CognitoConfig")
    return tuple(configs)


def _verify_among(
    token: str,
    configs: Tuple[CognitoConfig, ...],
    options: _Options,
    access_token: Optional[str],
) -> Claims:
    """Verify ``token`` against the one of ``configs`` its ``iss`` and client claim name."""
    memo = _MEMO
    tail = None
    if type(token) is str and memo.maxsize > 0:
        tail = token[-_TAIL:]
        entry = memo.peek(token, tail)
        if entry is not None:
            # The remembered claims choose the config; find() then asks its JWKS cache.
            iss, use, client = entry.core[3:6]
            cfg = _choose(configs, iss, "aud" if use == "id" else "client_id", client)
            cache = jwks_cache(cfg.jwks_url, timeout=cfg.timeout)  # type: ignore[arg-type]
            entry = memo.find(token, tail, cache)  # the same token string: the same claims
            if entry is not None:
                _checked(entry.claims, entry.core, cfg, options, access_token)
                return _custom(entry.copy_claims(), options)
        else:
            memo.misses += 1
    parsed = parse(token)
    claims = parsed[1]
    audience = "aud" if claims.get("token_use") == "id" else "client_id"
    cfg = _choose(configs, claims.get("iss"), audience, claims.get(audience))
    cache = jwks_cache(cfg.jwks_url, timeout=cfg.timeout)  # type: ignore[arg-type]
    return _verify_parsed(token, parsed, cfg, cache, options, access_token, tail)


def _choose(
    configs: Tuple[CognitoConfig, ...], iss: Any, audience: str, client: Any
) -> CognitoConfig:
    """The config for a token's (still unverified) ``iss`` and client claim.

    The pool's config for that client, else its config for ``ANY_APP_CLIENT``. No config for
    the ``iss`` is an :class:`InvalidClaimsError` (``claim="iss"``), and so is no config of
    that pool for the client (naming the client claim): no key is fetched for either. A claim
    of the wrong type picks the first config of the pool (or of the list), so the full checks
    report it with their usual error.
    """
    if type(iss) is not str:
        return configs[0]
    pool = [cfg for cfg in configs if iss in cfg.issuers]
    if not pool:
        trusted = sorted({i for cfg in configs for i in cfg.issuers})
        raise untrusted(f"'iss' {iss!r} is none of the trusted issuers {trusted}", "iss")
    if type(client) is not str:
        return pool[0]
    for cfg in pool:
        if cfg.client_id == client:
            return cfg
    for cfg in pool:  # an exact match first, then a config that trusts any client
        if cfg.client_id is ANY_APP_CLIENT:
            return cfg
    clients = sorted(c for c in (cfg.client_id for cfg in pool) if isinstance(c, str))
    raise untrusted(
        f"{audience!r} {client!r} is none of this pool's trusted app clients {clients}", audience
    )
