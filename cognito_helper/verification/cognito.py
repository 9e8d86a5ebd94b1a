"""The Cognito profile of the verification pipeline: :class:`CognitoVerifier`, and
:func:`decode_verify_jwt`, the door onto it that needs no object.

What a Cognito token adds to :class:`~cognito_helper.verification.pipeline.Verifier`'s
stages is in the methods marked "a profile's": parsing by
:func:`~cognito_helper.verification.jws.parse`, keys from the configured pool's JWKS cache
(:mod:`cognito_helper.verification.jwks`), the typed core
(:meth:`CognitoVerifier._typed_core`), :meth:`CognitoVerifier._compare`, and, with several
configs, the choice of one (:func:`_choose`). What is checked, in which order, and where an
ALB's tokens differ, is written once, in SECURITY.md ("Verifying a token: what is checked, in
this order"); this docstring does not restate it.
"""

from __future__ import annotations

# The pipeline reads the clock as `time.time()`; tests written against the Cognito verifier set
# it through this module's `time` (the same module object), so the name stays here.
import time  # noqa: F401
from collections.abc import Iterable, Sequence
from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Literal,
    Optional,
    Tuple,
    TypedDict,
    Union,
    overload,
)

from ..core.claim_types import AccessTokenClaims, IdTokenClaims
from ..core.errors import ConfigError, InvalidClaimsError, TokenVerificationError
from ..settings.config import CognitoConfig
from ..settings.default import get_config
from ..settings.fields import ANY_APP_CLIENT
from . import memo as _memo
from .claims import (
    MAX_IAT_SKEW,
    MAX_NUMERIC_DATE,
    Asked,
    Check,
    check_asked,
    check_hook,
    check_times,
    checked_leeway,
    option_names,
    string_claim,
    time_claim,
    untrusted,
)
from .jwks_registry import jwks_cache
from .jws import MAX_TOKEN_CHARS, Signed, decode_unverified, key_id, parse
from .memo import TAIL
from .pipeline import Revocations, Verifier, checked_revocations

if TYPE_CHECKING:  # Python 3.11's; only the type checker reads it
    from typing_extensions import Unpack

__all__ = [
    "MAX_IAT_SKEW",
    "MAX_NUMERIC_DATE",
    "MAX_TOKEN_CHARS",
    "CognitoCore",
    "CognitoVerifier",
    "config_list",
    "decode_unverified",
    "decode_verify_jwt",
    "may_fetch",
]

Claims = Dict[str, Any]
Names = Union[str, Iterable[str], None]
Configs = Union[CognitoConfig, Sequence[CognitoConfig], None]
# A verifier's config, checked: one, several (a tuple), or None (the configure() default).
_Config = Union[CognitoConfig, Tuple[CognitoConfig, ...], None]

_TOKEN_USES = ("id", "access")


# -- the profile's field rules -------------------------------------------------------------------


#: What a Cognito token's comparisons read, typed by :meth:`CognitoVerifier._typed_core`:
#: ``(exp, nbf or None, iat, iss, token_use, client)``, the client being ``aud`` (ID token) or
#: ``client_id`` (access token). The memo keeps it with the token.
CognitoCore = Tuple[float, Optional[float], float, str, str, str]


def client_claim(use: Any) -> str:
    """The claim naming a token's app client: ``aud`` for an ID token, else ``client_id``."""
    return "aud" if use == "id" else "client_id"


def _foreign_issuer(iss: str, config: CognitoConfig) -> InvalidClaimsError:
    expected = " or ".join(repr(i) for i in config.issuers)
    return untrusted(f"'iss' must be {expected}, found {iss!r}", "iss")


def _wrong_use(use: str, token_use: Optional[str]) -> InvalidClaimsError:
    wanted = repr(token_use) if token_use else "'id' or 'access'"
    return InvalidClaimsError(
        f"'token_use' must be {wanted}, found {use!r}", claim="token_use", reason="token_use"
    )


def _other_client(use: str, client: str, config: CognitoConfig) -> InvalidClaimsError:
    audience = client_claim(use)
    return untrusted(
        f"{audience!r} must be this app client {config.client_id!r}, found {client!r}", audience
    )


def checked_token_use(token_use: object) -> Optional[str]:
    """``token_use``: ``"id"``, ``"access"`` or ``None`` (either); ``ValueError`` otherwise."""
    if token_use is not None and token_use not in _TOKEN_USES:
        raise ValueError("token_use must be 'id', 'access' or None")
    return token_use


def config_list(configs: Any) -> Tuple[CognitoConfig, ...]:
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


def _checked_config(config: Any) -> _Config:
    """One config, a tuple of them (a copy of the list given), or None."""
    if config is None or isinstance(config, CognitoConfig):
        return config
    return config_list(config)


# -- the verifier --------------------------------------------------------------------------------


class CognitoVerifier(Verifier):
    """Verifies Cognito ID and access tokens; its options are checked once, when it is built.

    ``config``: one :class:`CognitoConfig`, a list of them (several app clients or pools: the
    token is checked against the one whose issuer holds its ``iss`` and whose ``client_id`` is
    its ``aud`` or ``client_id``, else one of that pool built with
    ``client_id=ANY_APP_CLIENT``), or ``None`` for the :func:`~cognito_helper.configure`
    default, read on every call. ``token_use`` is required: ``"id"`` or ``"access"`` requires
    that kind, ``None`` (given explicitly) accepts either. ``audience``: the access token's
    ``aud`` (a resource it is bound to) must hold one of these; ``groups``/``scopes``: the
    token must hold one of them; each a list of names or a string of space-separated names,
    never empty. ``check``: the app's own rule, a plain ``def`` called last with the caller's
    copy of the claims (``None`` or ``True`` accepts; ``False`` or raising refuses).
    ``leeway``: seconds of grace on ``exp``, ``nbf`` and ``iat``'s allowance.
    ``revocations``: an object with ``is_revoked(claims)`` (a
    :class:`~cognito_helper.sessions.RevocationList`), asked of every token that passed the
    other checks, a remembered one too, before ``check``: a revoked token is refused with an
    :class:`InvalidClaimsError` of reason ``"revoked"``; a list that cannot be read raises its
    :class:`CognitoConnectionError` (503), never accepts.

    Raises ``ValueError`` for an invalid option (``TypeError`` for a missing ``token_use`` or
    ``revocations`` without a callable ``is_revoked``).
    The attributes hold the options as checked (``scopes`` a tuple of names, ``config`` one
    config, a tuple of them, or ``None``); the verifier holds no other state (the JWKS caches
    and the memo are the process's) and is safe to share between threads.
    """

    __slots__ = ("config", "token_use", "scopes", "groups", "audience", "_asked", "revocations")

    alg = "RS256"
    memo = _memo.memo  # the process's, whose size set_verification_memo_size sets

    def __init__(
        self,
        config: Configs = None,
        *,
        token_use: Optional[str],
        scopes: Names = None,
        groups: Names = None,
        audience: Names = None,
        check: Optional[Check] = None,
        leeway: float = 0,
        revocations: Optional[Revocations] = None,
    ) -> None:
        self.token_use = checked_token_use(token_use)
        self.revocations = checked_revocations(revocations)
        self.leeway = checked_leeway(leeway)
        if check is not None:
            check_hook(check)
        self.check = check
        self.scopes = option_names("scopes", scopes)
        self.groups = option_names("groups", groups)
        self.audience = option_names("audience", audience)
        self.config: _Config = _checked_config(config)
        asked = (self.audience, self.groups, self.scopes)
        self._asked = None if asked == (None, None, None) else Asked(*map(_as_set, asked))

    def __repr__(self) -> str:
        return f"CognitoVerifier(config={self.config!r}, token_use={self.token_use!r})"

    def verify(
        self, token: str, *, access_token: Optional[str] = None, nonce: Optional[str] = None
    ) -> Claims:
        """Verify ``token`` and return its claims (a dict of the caller's own).

        ``nonce`` must equal the ID token's ``nonce``; ``access_token``, when the ID token
        carries ``at_hash``, must match it. Raises a :class:`TokenVerificationError` subclass
        to answer 401 (its ``reason`` says why), :class:`CognitoConnectionError` when no
        usable JWKS can be had or the revocation list cannot be read (503),
        :class:`ConfigError` when nothing is configured, ``ValueError`` for a ``nonce`` or
        ``access_token`` that is not a string.
        """
        return self._verify(self.config, token, access_token, nonce)

    def may_fetch(self, token: str) -> bool:
        """Whether :meth:`verify` may wait for the network: see :func:`may_fetch`."""
        return may_fetch(token, self.config)

    def _verify(
        self, config: _Config, token: Any, access_token: Optional[str], nonce: Optional[str]
    ) -> Claims:
        asked: Any = None
        if nonce is not None or access_token is not None:
            if nonce is not None and not isinstance(nonce, str):
                raise ValueError("nonce must be a string")
            if access_token is not None and not isinstance(access_token, str):
                raise ValueError("access_token must be a string")
            asked = (self._asked, nonce, access_token)
        elif self._asked is not None:
            asked = (self._asked, None, None)
        if isinstance(config, tuple):
            if len(config) > 1:
                return self._verify_among(token, config, asked)
            config = config[0]
        cfg = get_config() if config is None else config  # None: the default, read now
        if len(cfg.issuers) > 1:  # the token's trusted iss chooses the JWKS: as among configs
            return self._verify_among(token, (cfg,), asked)
        cache = jwks_cache(cfg.jwks_url, timeout=cfg.timeout)  # type: ignore[arg-type]  # set
        return self._verify_token(token, cfg, cache, cfg.timeout, asked)

    def _verify_among(self, token: Any, configs: Tuple[CognitoConfig, ...], asked: Any) -> Claims:
        """Verify ``token`` against the one of ``configs`` its ``iss`` and client claim name."""
        memo = self.memo
        tail = None
        if type(token) is str and memo.maxsize > 0:
            tail = token[-TAIL:]
            entry = memo.peek(token, tail)
            if entry is not None:
                # The remembered claims choose the config; find() then asks its JWKS cache.
                _, _, _, iss, use, client = entry.core
                # One config: _settle compares iss (a foreign one finds no key of its caches).
                if len(configs) > 1:
                    cfg = _choose(configs, iss, client_claim(use), client)
                else:
                    cfg = configs[0]
                url = cfg.jwks_url_for(iss) or cfg.jwks_url  # iss: a str (the typed core)
                cache = jwks_cache(url, timeout=cfg.timeout)  # type: ignore[arg-type]
                entry = memo.find(token, tail, cache)  # the same string: the same claims
                if entry is not None:
                    return self._settle(entry.claims, cfg, asked, entry)
            else:
                memo.misses += 1
        signed = parse(token)
        claims = signed.payload
        audience = client_claim(claims.get("token_use"))
        iss = claims.get("iss")
        cfg = _choose(configs, iss, audience, claims.get(audience))
        cache = _cache_of(cfg, iss)
        return self._verify_signed(token, signed, cfg, cache, cfg.timeout, asked, tail)

    # -- the profile's stages -------------------------------------------------------------------

    def _read(self, token: object, trust: Any) -> Signed:
        return parse(token)

    def _typed_core(self, signed: Signed) -> CognitoCore:
        """The core claims with their types checked, in this order: ``exp``, ``nbf``, ``iat``,
        ``iss``, ``token_use`` (``id`` or ``access``), the client claim, ``sub``,
        ``auth_time``. An :class:`InvalidClaimsError` names the first that is wrong."""
        claims = signed.payload
        exp = time_claim(claims, "exp", required=True)
        nbf = time_claim(claims, "nbf", required=False)
        iat = time_claim(claims, "iat", required=True)
        iss = string_claim(claims, "iss")
        use = string_claim(claims, "token_use")
        if use not in _TOKEN_USES:
            raise _wrong_use(use, None)
        client = string_claim(claims, client_claim(use))
        string_claim(claims, "sub")
        time_claim(claims, "auth_time", required=False)
        return exp, nbf, iat, iss, use, client

    def _compare(self, core: CognitoCore, config: CognitoConfig, now: float) -> None:
        """The clock, then ``iss`` (one of the config's issuers), ``token_use``, the client."""
        exp, nbf, iat, iss, use, client = core
        check_times(exp, nbf, iat, now, self.leeway)
        if iss != config.issuer and iss not in config.issuers:
            raise _foreign_issuer(iss, config)
        if self.token_use is not None and use != self.token_use:
            raise _wrong_use(use, self.token_use)
        client_id = config.client_id
        if client != client_id and client_id is not ANY_APP_CLIENT:
            raise _other_client(use, client, config)

    def _check_asked(self, claims: Claims, core: CognitoCore, asked: Any) -> None:
        options, nonce, access_token = asked
        check_asked(claims, core[4], options, nonce, access_token)  # core[4]: its token_use


def _as_set(names: Optional[Tuple[str, ...]]) -> Any:
    return None if names is None else frozenset(names)


def _cache_of(cfg: CognitoConfig, iss: Any) -> Any:
    """The JWKS cache of ``iss`` when ``cfg`` trusts it (each trusted issuer's keys are at
    its own URL), else of ``cfg.jwks_url``, whose keys the full checks then refuse."""
    url = cfg.jwks_url_for(iss) if type(iss) is str else None
    return jwks_cache(url or cfg.jwks_url, timeout=cfg.timeout)  # type: ignore[arg-type]


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


def may_fetch(token: str, config: Configs = None) -> bool:
    """Whether verifying ``token`` with ``config`` (as :class:`CognitoVerifier` takes it) may
    wait for the network: its ``kid`` is not a current key of the JWKS cache of every pool
    configured. Never fetches; ``False`` when verification would fail before keys are looked
    up (the token's form or header, the configuration), as it then makes no request."""
    try:
        kid = key_id(token)
        checked = _checked_config(config)
        configs = checked if type(checked) is tuple else (get_config(checked),)  # type: ignore[arg-type]
        entry = _memo.memo.peek(token, token[-TAIL:])  # its iss names the JWKS it needs
        iss = parse(token).payload.get("iss") if entry is None else entry.core[3]
    except (TokenVerificationError, ConfigError, ValueError):
        return False
    return any(_cache_of(cfg, iss).get_key_if_current(kid) is None for cfg in configs)


# -- the door that needs no object ---------------------------------------------------------------

# The verifiers of a call that asks for nothing but (perhaps) a token_use, as PyJWT's `decode`
# is its default instance's: built once, their config chosen per call.
_KINDS = (None, *_TOKEN_USES)
_DEFAULTS = {use: CognitoVerifier(token_use=use) for use in _KINDS}


class VerifyOptions(TypedDict, total=False):
    """The keyword options of :func:`decode_verify_jwt` but ``token_use``, for its overloads."""

    config: Configs
    access_token: Optional[str]
    nonce: Optional[str]
    leeway: float
    groups: Names
    scopes: Names
    audience: Names
    check: Optional[Check]
    revocations: Optional[Revocations]


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
    groups: Names = None,
    scopes: Names = None,
    audience: Names = None,
    check: Optional[Check] = None,
    revocations: Optional[Revocations] = None,
) -> Any:
    """Verify a Cognito ID or access token and return its claims: the door onto
    :class:`CognitoVerifier`, for a call that needs no object.

    ``decode_verify_jwt(token, config=c, token_use=u, nonce=n, access_token=a, **options)``
    is ``CognitoVerifier(c, token_use=u, **options).verify(token, nonce=n, access_token=a)``:
    the same checks, options, errors and memo (see :class:`CognitoVerifier`); ``token_use``
    defaults to ``None`` (either kind). A call that asks for nothing but a ``token_use`` uses
    a verifier built once; any other builds one per call, so a hot path with options is
    faster through a :class:`CognitoVerifier` built once.

    Raises a :class:`TokenVerificationError` subclass when the token must be rejected (answer
    401): :class:`MalformedTokenError`, :class:`UnknownKeyError`,
    :class:`InvalidSignatureError`, :class:`TokenExpiredError`, :class:`InvalidClaimsError`
    (the last two carry the claims as ``.claims``; reason ``"revoked"``: ``revocations``
    lists the token); :class:`CognitoConnectionError` when no usable JWKS can be had or the
    revocation list cannot be read (answer 503); :class:`ConfigError` when nothing is configured;
    ``ValueError`` for invalid options or an empty list of configs.
    """
    if (
        token_use in _KINDS
        and type(leeway) is int  # the default, no leeway (another value builds a verifier,
        and leeway == 0  # which checks it)
        and groups is None
        and scopes is None
        and audience is None
        and check is None
        and revocations is None
    ):
        verifier = _DEFAULTS[token_use]
    else:
        verifier = CognitoVerifier(
            token_use=token_use,
            scopes=scopes,
            groups=groups,
            audience=audience,
            check=check,
            leeway=leeway,
            revocations=revocations,
        )
    if config is not None:
        config = _checked_config(config)
    return verifier._verify(config, token, access_token, nonce)
