"""Stage 5 of verification: the claims, typed once, then compared on every call.

Two steps, each a function that both the full path and the memo-hit path of
:func:`~cognito_helper.decode_verify_jwt` call, so each rule exists once:

1. :func:`typed_core` reads the claims every check needs and checks their types, in this
   order: ``exp``, ``nbf``, ``iat`` (numbers of seconds from 0 to ``MAX_NUMERIC_DATE``),
   ``iss``, ``token_use`` (``id`` or ``access``), ``aud`` (ID token) or ``client_id`` (access
   token), ``sub`` (strings), ``auth_time`` (a number, when present). A signed token fixes all
   of this, so the memo keeps the result.
2. :func:`compare` compares the typed claims with the clock, the configuration and the call's
   options, in this order: ``exp`` (with ``leeway``), ``nbf``, ``iat`` (at most
   ``MAX_IAT_SKEW`` plus ``leeway`` in the future), ``iss``, ``token_use``, the client; then
   :func:`check_asked`: ``nonce``, ``at_hash``, groups, scopes when asked for. These run on
   every call, memo or not.

Every failure is an :class:`InvalidClaimsError` naming the claim, or a
:class:`TokenExpiredError`.

The app's own ``check=`` runs after both: :func:`check_hook` says whether a callable may be one
(never an ``async def``, which would never run), :func:`refused_by_check` what its answer means.
"""

from __future__ import annotations

import functools
import hmac
import inspect
from types import FunctionType
from typing import Any, Dict, FrozenSet, Iterable, NamedTuple, Optional, Tuple, Union

from ..core.encoding import at_hash, octets
from ..core.errors import InvalidClaimsError, TokenExpiredError
from ..settings.config import CognitoConfig
from ..settings.fields import ANY_APP_CLIENT, names

__all__ = [
    "CLIENT_NOT_TRUSTED",
    "ISSUER_NOT_TRUSTED",
    "MAX_IAT_SKEW",
    "MAX_NUMERIC_DATE",
    "REFUSED_BY_CHECK",
    "SIGNER_NOT_TRUSTED",
    "Asked",
    "Core",
    "check_asked",
    "check_hook",
    "compare",
    "expired_error",
    "not_yet_valid_error",
    "option_names",
    "option_set",
    "refused_by_check",
    "string_claim",
    "time_claim",
    "typed_core",
    "untrusted",
]

#: How far in the future ``iat`` may lie (clock skew between this host and Cognito).
MAX_IAT_SKEW = 300
#: The largest time claim accepted (9999-12-31T23:59:59Z); time claims are 0 to this.
MAX_NUMERIC_DATE = 253402300799

_TOKEN_USES = ("id", "access")
# The code flags of an ``async def`` function: one that makes a coroutine or an async generator.
_ASYNC_CODE = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
#: What a refusal by the app's ``check`` says (a guard sends it to the client: it names no rule).
REFUSED_BY_CHECK = "the app's check refused the token"

Claims = Dict[str, Any]

#: The claims every comparison needs, typed: (exp, nbf or None, iat, iss, token_use, client).
Core = Tuple[float, Optional[float], float, str, str, str]


def time_claim(claims: Claims, name: str, *, required: bool) -> Optional[float]:
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


def string_claim(claims: Claims, name: str) -> str:
    """The claim ``name``, which must be a string: else an :class:`InvalidClaimsError` naming
    it (``null`` and absence alike are "no such claim")."""
    value = claims.get(name)
    if type(value) is not str:
        if value is None:
            raise InvalidClaimsError(f"the token has no {name!r} claim", claim=name)
        raise InvalidClaimsError(
            f"{name!r} must be a string, found {type(value).__name__}", claim=name
        )
    return value


def typed_core(claims: Claims) -> Core:
    """Step 1: the core claims with their types checked, in the documented order.

    Each claim is read once; the helper (which raises the precise error, or accepts a float)
    is called only when the claim is not of the usual exact type and range.
    """
    get = claims.get
    exp = get("exp")
    if type(exp) is not int or not 0 <= exp <= MAX_NUMERIC_DATE:
        exp = time_claim(claims, "exp", required=True)
    nbf = time_claim(claims, "nbf", required=False) if "nbf" in claims else None
    iat = get("iat")
    if type(iat) is not int or not 0 <= iat <= MAX_NUMERIC_DATE:
        iat = time_claim(claims, "iat", required=True)
    iss = get("iss")
    if type(iss) is not str:
        iss = string_claim(claims, "iss")
    use = get("token_use")
    if type(use) is not str:
        use = string_claim(claims, "token_use")
    if use not in _TOKEN_USES:
        raise _wrong_use(use, None)
    audience = "aud" if use == "id" else "client_id"
    client = get(audience)
    if type(client) is not str:
        client = string_claim(claims, audience)
    if type(get("sub")) is not str:
        string_claim(claims, "sub")
    auth_time = get("auth_time")
    if (type(auth_time) is not int or not 0 <= auth_time <= MAX_NUMERIC_DATE) and (
        "auth_time" in claims
    ):
        time_claim(claims, "auth_time", required=False)
    return exp, nbf, iat, iss, use, client  # type: ignore[return-value]  # None excluded above


def compare(
    core: Core, config: CognitoConfig, now: float, token_use: Optional[str], leeway: float
) -> None:
    """Step 2: the typed claims against the clock, the configuration and ``token_use``."""
    exp, nbf, iat, iss, use, client = core
    if now >= exp + leeway:
        raise expired_error(now, exp, leeway)
    if nbf is not None and now + leeway < nbf:
        raise not_yet_valid_error()
    if iat > now + leeway + MAX_IAT_SKEW:
        raise _issued_in_future(iat, now)
    issuer = config.issuer
    if iss != issuer and (type(issuer) is str or iss not in config.issuers):
        raise _foreign_issuer(iss, config)
    if token_use is not None and use != token_use:
        raise _wrong_use(use, token_use)
    if client != config.client_id and config.client_id is not ANY_APP_CLIENT:
        raise _other_client(use, client, config)


class Asked(NamedTuple):
    """The checks a call asked for beyond the standard ones (``None``: not asked); the
    access token whose ``at_hash`` an ID token must carry travels on its own (see
    :func:`check_asked`), as an API gives a new one with every request."""

    audience: Optional[FrozenSet[str]] = None
    nonce: Optional[str] = None
    groups: Optional[FrozenSet[str]] = None
    scopes: Optional[FrozenSet[str]] = None


def check_asked(
    claims: Claims, use: str, asked: Optional[Asked], access_token: Optional[str] = None
) -> None:
    """The checks the caller asked for, in this order: ``aud`` (``audience``), ``nonce``,
    ``at_hash`` (when ``access_token`` is given and the token carries one), groups, scopes."""
    audience = nonce = groups = scopes = None
    if asked is not None:
        audience, nonce, groups, scopes = asked
    if audience is not None:
        _check_audience(claims, use, audience)
    if nonce is not None:
        if use != "id":
            raise InvalidClaimsError("a nonce can only be checked on an ID token", claim="nonce")
        found = string_claim(claims, "nonce")
        if not hmac.compare_digest(octets(found), octets(nonce)):
            raise InvalidClaimsError("'nonce' does not match this sign-in's nonce", claim="nonce")
    if access_token is not None and "at_hash" in claims:
        found = string_claim(claims, "at_hash")
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
        granted = string_claim(claims, "scope").split()
        if scopes.isdisjoint(granted):
            raise InvalidClaimsError(
                f"the token grants none of the scopes {sorted(scopes)}", claim="scope"
            )


def _check_audience(claims: Claims, use: str, audience: FrozenSet[str]) -> None:
    """A resource-bound access token: its ``aud`` (a string or list) holds one of ``audience``."""
    if use != "access":
        raise InvalidClaimsError(
            "audience= applies to access tokens: an ID token's 'aud' is its app client",
            claim="aud",
        )
    aud = claims.get("aud")
    held = [aud] if type(aud) is str else aud
    if type(held) is not list or not held or not all(type(a) is str for a in held):
        raise InvalidClaimsError(
            "the access token has no 'aud' string or list of strings (it is bound to no "
            "resource: ask for one with resource=)",
            claim="aud",
        )
    if audience.isdisjoint(held):
        raise InvalidClaimsError(
            f"the access token is bound to {sorted(held)}, none of {sorted(audience)}",
            claim="aud",
            public="the access token is not bound to this resource server",
        )


def expired_error(now: float, exp: float, leeway: float) -> TokenExpiredError:
    """The rejection of a token that expired at ``exp`` (``now`` is at or past ``exp + leeway``)."""
    return TokenExpiredError(f"the token expired {int(now - exp)} s ago (leeway {leeway:g} s)")


def not_yet_valid_error() -> InvalidClaimsError:
    """The rejection of a token whose ``nbf`` lies beyond ``now + leeway``."""
    return InvalidClaimsError("the token is not valid yet ('nbf' is in the future)", claim="nbf")


def _issued_in_future(iat: float, now: float) -> InvalidClaimsError:
    return InvalidClaimsError(
        f"'iat' is {int(iat - now)} s in the future (clock skew allowed: {MAX_IAT_SKEW} s)",
        claim="iat",
    )


#: What a refused token's client learns when its issuer is not trusted (see :func:`untrusted`).
ISSUER_NOT_TRUSTED = "the token's issuer is not trusted"
#: ... when its app client is not trusted (its ``aud`` or ``client_id``, an ALB's ``client``).
CLIENT_NOT_TRUSTED = "the token's app client is not trusted"
#: ... when the load balancer that signed it is not trusted (an ALB data token's ``signer``).
SIGNER_NOT_TRUSTED = "the token's signer is not trusted"
_NOT_TRUSTED = {"iss": ISSUER_NOT_TRUSTED, "signer": SIGNER_NOT_TRUSTED}


def untrusted(message: str, claim: str) -> InvalidClaimsError:
    """The refusal of a token whose ``claim`` (``iss``, ``aud`` or ``client_id``; an ALB
    data token's ``signer`` or ``client``) the configuration does not trust.

    ``message`` may name the trusted issuers, app clients and load balancers, for the
    server's log; the client reads only :data:`ISSUER_NOT_TRUSTED`,
    :data:`SIGNER_NOT_TRUSTED` or :data:`CLIENT_NOT_TRUSTED` (the error's ``public``), so a
    forged token cannot learn the trust configuration.
    """
    public = _NOT_TRUSTED.get(claim, CLIENT_NOT_TRUSTED)
    return InvalidClaimsError(message, claim=claim, public=public)


def _foreign_issuer(iss: str, config: CognitoConfig) -> InvalidClaimsError:
    expected = " or ".join(repr(i) for i in config.issuers)
    return untrusted(f"'iss' must be {expected}, found {iss!r}", "iss")


def _wrong_use(use: str, token_use: Optional[str]) -> InvalidClaimsError:
    wanted = repr(token_use) if token_use else "'id' or 'access'"
    return InvalidClaimsError(f"'token_use' must be {wanted}, found {use!r}", claim="token_use")


def _other_client(use: str, client: str, config: CognitoConfig) -> InvalidClaimsError:
    audience = "aud" if use == "id" else "client_id"
    return untrusted(
        f"{audience!r} must be this app client {config.client_id!r}, found {client!r}", audience
    )


def option_names(name: str, value: Union[str, Iterable[str], None]) -> Optional[Tuple[str, ...]]:
    """A ``scopes``, ``groups`` or ``audience`` option read by the library's one rule
    (:func:`cognito_helper.settings.fields.names`: a string is split on whitespace; naming none is a
    ``ValueError``), as a tuple; ``None`` (not asked) stays ``None``."""
    return None if value is None else names(name, value, ValueError)


def option_set(name: str, value: Union[str, Iterable[str], None]) -> Optional[FrozenSet[str]]:
    """:func:`option_names` as a set, as the checks compare it."""
    return None if value is None else frozenset(names(name, value, ValueError))


# -- the app's check ----------------------------------------------------------------------------


def check_hook(check: object) -> None:
    """The rule for a ``check=``: a callable that runs when called. ``ValueError`` for anything
    that is not callable, and for an ``async def`` (see :func:`_is_async_callable`):
    verification never awaits, so its coroutine would be dropped and the token pass unchecked.
    """
    if type(check) is FunctionType and not check.__dict__:
        # The usual check, a plain function, read at its code flags (it is asked on every call
        # that passes a check); one with attributes (a wrapper, or one marked with
        # inspect.markcoroutinefunction) is asked the long way.
        if not check.__code__.co_flags & _ASYNC_CODE:
            return
    elif not callable(check):
        raise ValueError("check must be a callable taking the claims")
    elif not _is_async_callable(check):
        return
    name = getattr(check, "__qualname__", type(check).__qualname__)  # no repr: no arguments
    raise ValueError(
        f"check must be a plain function, not async: {name} would never run (its coroutine "
        "is never awaited); write it as a def (verification never awaits)"
    )


def _is_async_callable(obj: object) -> bool:
    """Whether calling ``obj`` only makes a coroutine (or an async generator) and runs nothing:
    an ``async def`` function or method, an object whose ``__call__`` is one, or a
    ``functools.partial`` of any of them."""
    while isinstance(obj, functools.partial):
        obj = obj.func
    if _async_function(obj):
        return True
    # An object whose class defines (or inherits) ``async def __call__``.
    call = getattr(type(obj), "__call__", None)  # noqa: B004 - the method itself is wanted
    return not inspect.isroutine(obj) and _async_function(call)


def _async_function(obj: object) -> bool:
    return inspect.iscoroutinefunction(obj) or inspect.isasyncgenfunction(obj)


def refused_by_check(verdict: object, claims: Claims) -> Exception:
    """The error to raise for what a check returned, when that is not ``None`` or ``True``
    (which accept the token).

    ``False`` refuses the token: an :class:`InvalidClaimsError` with ``claim="check"``, a
    neutral message and ``claims`` as its ``.claims``. So does an awaitable (a check that hides
    an ``async def``), which is closed first, so nothing warns that it was never awaited.
    Anything else is the app's bug, not a verdict: a ``TypeError`` (a 500, never a pass).
    """
    if verdict is False or inspect.isawaitable(verdict):
        close = getattr(verdict, "close", None)
        if callable(close):
            close()  # a coroutine never started: no "never awaited" warning
        refusal = InvalidClaimsError(REFUSED_BY_CHECK, claim="check")
        refusal.claims = claims
        return refusal
    return TypeError("check must return None, True or False, not " + type(verdict).__name__)
