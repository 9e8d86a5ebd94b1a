"""The claim rules every verifier shares, each written once: a claim's type (:func:`time_claim`,
:func:`string_claim`), the clock (:func:`check_times`), an untrusted issuer, client or signer
(:func:`untrusted`), and what a call may ask for beyond the standard checks (:func:`check_asked`,
:func:`check_held`, :func:`granted_scopes`).

The options that say what to ask for are read here too, by one rule each: ``leeway``
(:func:`checked_leeway`), ``scopes``/``groups``/``audience`` (:func:`option_names`), the app's
``check`` (:func:`check_hook`, and :func:`refused_by_check` for its answer).

Every refusal is an :class:`InvalidClaimsError` naming the claim, or a
:class:`TokenExpiredError`, with its ``reason``. Which rule runs when, for Cognito tokens and
for an ALB's, is said once, in SECURITY.md.
"""

from __future__ import annotations

import functools
import hmac
import inspect
from types import FunctionType
from typing import (
    Any,
    Callable,
    Dict,
    FrozenSet,
    Iterable,
    Literal,
    Mapping,
    NamedTuple,
    Optional,
    Tuple,
    Union,
    overload,
)

from ..core.encoding import at_hash, octets
from ..core.errors import InvalidClaimsError, TokenExpiredError
from ..settings.fields import names

__all__ = [
    "CLIENT_NOT_TRUSTED",
    "ISSUER_NOT_TRUSTED",
    "MAX_IAT_SKEW",
    "MAX_LEEWAY",
    "MAX_NUMERIC_DATE",
    "REFUSED_BY_CHECK",
    "SIGNER_NOT_TRUSTED",
    "Asked",
    "Check",
    "check_asked",
    "check_held",
    "check_hook",
    "check_times",
    "checked_leeway",
    "granted_scopes",
    "option_names",
    "option_set",
    "refused_by_check",
    "string_claim",
    "time_claim",
    "untrusted",
]

#: How far in the future ``iat`` may lie (clock skew between this host and the issuer).
MAX_IAT_SKEW = 300
#: The largest time claim accepted (9999-12-31T23:59:59Z); time claims are 0 to this.
MAX_NUMERIC_DATE = 253402300799
#: ``leeway`` is a number of seconds from 0 up to (not including) this.
MAX_LEEWAY = 10**9

# The code flags of an ``async def`` function: one that makes a coroutine or an async generator.
_ASYNC_CODE = inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR
#: What a refusal by the app's ``check`` says (a guard sends it to the client: it names no rule).
REFUSED_BY_CHECK = "the app's check refused the token"

Claims = Dict[str, Any]
#: An app's own rule (``check=``): called with the caller's copy of the claims.
Check = Callable[[Dict[str, Any]], Any]


# -- a claim's type -----------------------------------------------------------------------------


@overload
def time_claim(claims: Mapping[str, Any], name: str, *, required: Literal[True]) -> float: ...
@overload
def time_claim(claims: Mapping[str, Any], name: str, *, required: bool) -> Optional[float]: ...


def time_claim(claims: Mapping[str, Any], name: str, *, required: bool) -> Optional[float]:
    """A time claim: a number of seconds from 0 to ``MAX_NUMERIC_DATE``, or ``None`` if absent.

    ``null`` counts as present and wrong. Anything else, NaN, infinities and numbers too
    large to compare with a float included, is an :class:`InvalidClaimsError`.
    """
    value: Any = claims.get(name)
    kind = type(value)
    if kind is int or kind is float:
        if 0 <= value <= MAX_NUMERIC_DATE:  # False for NaN too
            return value  # type: ignore[no-any-return]
        raise InvalidClaimsError(
            f"{name!r} must be a time from 0 to {MAX_NUMERIC_DATE} seconds", claim=name
        )
    if value is None:
        if required or name in claims:
            raise InvalidClaimsError(f"the token has no numeric {name!r} claim", claim=name)
        return None
    raise InvalidClaimsError(f"{name!r} must be a number, found {kind.__name__}", claim=name)


def string_claim(claims: Mapping[str, Any], name: str, reason: str = "claim") -> str:
    """The claim ``name``, which must be a string: else an :class:`InvalidClaimsError` naming
    it (``null`` and absence alike are "no such claim"), with ``reason`` (a claim only an
    asked-for check needs says that check's)."""
    value = claims.get(name)
    if type(value) is not str:
        if value is None:
            raise InvalidClaimsError(f"the token has no {name!r} claim", claim=name, reason=reason)
        raise InvalidClaimsError(
            f"{name!r} must be a string, found {type(value).__name__}", claim=name, reason=reason
        )
    return value


# -- the clock ----------------------------------------------------------------------------------


def check_times(
    exp: float, nbf: Optional[float], iat: Optional[float], now: float, leeway: float
) -> None:
    """The one rule for the clock, every kind of token alike: ``exp`` has not passed
    (``reason`` ``"expired"``), ``nbf`` has (``"not_yet_valid"``) and ``iat`` lies at most
    ``MAX_IAT_SKEW`` seconds in the future (``"issued_in_future"``), each with ``leeway``
    seconds of grace. ``None``: the token has no such claim."""
    if now >= exp + leeway:
        raise TokenExpiredError(f"the token expired {int(now - exp)} s ago (leeway {leeway:g} s)")
    if nbf is not None and now + leeway < nbf:
        raise InvalidClaimsError(
            "the token is not valid yet ('nbf' is in the future)",
            claim="nbf",
            reason="not_yet_valid",
        )
    if iat is not None and iat > now + leeway + MAX_IAT_SKEW:
        raise InvalidClaimsError(
            f"'iat' is {int(iat - now)} s in the future (clock skew allowed: {MAX_IAT_SKEW} s)",
            claim="iat",
            reason="issued_in_future",
        )


# -- trust --------------------------------------------------------------------------------------

#: What a refused token's client learns when its issuer is not trusted (see :func:`untrusted`).
ISSUER_NOT_TRUSTED = "the token's issuer is not trusted"
#: ... when its app client is not trusted (its ``aud`` or ``client_id``, an ALB's ``client``).
CLIENT_NOT_TRUSTED = "the token's app client is not trusted"
#: ... when the load balancer that signed it is not trusted (an ALB data token's ``signer``).
SIGNER_NOT_TRUSTED = "the token's signer is not trusted"
# claim -> (reason, what the client reads); any other claim is the app client's.
_NOT_TRUSTED = {"iss": ("issuer", ISSUER_NOT_TRUSTED), "signer": ("signer", SIGNER_NOT_TRUSTED)}


def untrusted(message: str, claim: str) -> InvalidClaimsError:
    """The refusal of a token whose ``claim`` (``iss``, ``aud`` or ``client_id``; an ALB
    data token's ``signer`` or ``client``) the configuration does not trust: ``reason``
    ``"issuer"``, ``"signer"`` or ``"client"``.

    ``message`` may name the trusted issuers, app clients and load balancers, for the
    server's log; the client reads only :data:`ISSUER_NOT_TRUSTED`,
    :data:`SIGNER_NOT_TRUSTED` or :data:`CLIENT_NOT_TRUSTED` (the error's ``public``), so a
    forged token cannot learn the trust configuration.
    """
    reason, public = _NOT_TRUSTED.get(claim, ("client", CLIENT_NOT_TRUSTED))
    return InvalidClaimsError(message, claim=claim, public=public, reason=reason)


# -- what a call asks for -----------------------------------------------------------------------


class Asked(NamedTuple):
    """What a verifier asks of every token beyond the standard checks (``None``: not asked).
    The ``nonce`` and the access token for ``at_hash`` differ per call: see
    :func:`check_asked`."""

    audience: Optional[FrozenSet[str]] = None
    groups: Optional[FrozenSet[str]] = None
    scopes: Optional[FrozenSet[str]] = None


def check_asked(
    claims: Claims,
    use: str,
    asked: Optional[Asked],
    nonce: Optional[str] = None,
    access_token: Optional[str] = None,
) -> None:
    """The checks the caller asked for, in this order: ``aud`` (``audience``, reason
    ``"audience"``), ``nonce`` (``"nonce"``), ``at_hash`` when ``access_token`` is given and
    the token carries one (``"at_hash"``), then groups and scopes (:func:`check_held`)."""
    audience = groups = scopes = None
    if asked is not None:
        audience, groups, scopes = asked
    if audience is not None:
        _check_audience(claims, use, audience)
    if nonce is not None:
        if use != "id":
            raise _refused("a nonce can only be checked on an ID token", "nonce", "nonce")
        found = string_claim(claims, "nonce", "nonce")
        if not hmac.compare_digest(octets(found), octets(nonce)):
            raise _refused("'nonce' does not match this sign-in's nonce", "nonce", "nonce")
    if access_token is not None and "at_hash" in claims:
        found = string_claim(claims, "at_hash", "at_hash")
        if not hmac.compare_digest(octets(found), at_hash(access_token).encode()):
            raise _refused("'at_hash' does not match the access token given", "at_hash", "at_hash")
    if groups is not None or scopes is not None:
        check_held(claims, groups=groups, scopes=scopes)


def check_held(
    claims: Mapping[str, Any],
    *,
    groups: Optional[FrozenSet[str]] = None,
    scopes: Optional[FrozenSet[str]] = None,
) -> None:
    """The token's ``cognito:groups`` hold one of ``groups`` (else reason ``"group"``), then its
    ``scope`` grants one of ``scopes`` (else ``"scope"``); ``None`` asks nothing. The rule of
    ``groups=`` and ``scopes=``, for a permission checked after verification too."""
    if groups is not None:
        held = claims.get("cognito:groups")
        if not isinstance(held, list) or not all(type(g) is str for g in held):
            raise _refused(
                "the token has no 'cognito:groups' list of strings", "cognito:groups", "group"
            )
        if groups.isdisjoint(held):
            raise _refused(
                f"the user is in none of the groups {sorted(groups)}", "cognito:groups", "group"
            )
    if scopes is not None:
        if scopes.isdisjoint(granted_scopes(claims)):
            message = f"the token grants none of the scopes {sorted(scopes)}"
            raise _refused(message, "scope", "scope")


def granted_scopes(claims: Mapping[str, Any]) -> FrozenSet[str]:
    """The scopes a token grants: its ``scope`` claim split on white space.

    An :class:`InvalidClaimsError` (``claim="scope"``, reason ``"scope"``) when it has no
    ``scope`` string.
    """
    return frozenset(string_claim(claims, "scope", "scope").split())


def _check_audience(claims: Claims, use: str, audience: FrozenSet[str]) -> None:
    """A resource-bound access token: its ``aud`` (a string or list) holds one of ``audience``."""
    if use != "access":
        raise _refused(
            "audience= applies to access tokens: an ID token's 'aud' is its app client",
            "aud",
            "audience",
        )
    aud = claims.get("aud")
    held = [aud] if type(aud) is str else aud
    if type(held) is not list or not held or not all(type(a) is str for a in held):
        raise _refused(
            "the access token has no 'aud' string or list of strings (it is bound to no "
            "resource: ask for one with resource=)",
            "aud",
            "audience",
        )
    if audience.isdisjoint(held):
        raise InvalidClaimsError(
            f"the access token is bound to {sorted(held)}, none of {sorted(audience)}",
            claim="aud",
            public="the access token is not bound to this resource server",
            reason="audience",
        )


def _refused(message: str, claim: str, reason: str) -> InvalidClaimsError:
    return InvalidClaimsError(message, claim=claim, reason=reason)


# -- the options --------------------------------------------------------------------------------


def checked_leeway(leeway: object) -> float:
    """The one rule for ``leeway``, every verifier's: an ``int`` or ``float`` of seconds from 0
    up to :data:`MAX_LEEWAY` (not a ``bool``). Returns it; ``ValueError`` otherwise."""
    # (``0 <= leeway`` is False for NaN too.)
    if type(leeway) is bool or not isinstance(leeway, (int, float)) or not 0 <= leeway < MAX_LEEWAY:
        raise ValueError("leeway must be a non-negative number of seconds")
    return leeway


def option_names(name: str, value: Union[str, Iterable[str], None]) -> Optional[Tuple[str, ...]]:
    """A ``scopes``, ``groups`` or ``audience`` option read by the library's one rule
    (:func:`cognito_helper.settings.fields.names`: a string is split on whitespace; naming none
    is a ``ValueError``), as a tuple; ``None`` (not asked) stays ``None``."""
    return None if value is None else names(name, value, ValueError)


def option_set(name: str, value: Union[str, Iterable[str], None]) -> Optional[FrozenSet[str]]:
    """:func:`option_names` as a set, as the checks compare it."""
    return None if value is None else frozenset(names(name, value, ValueError))


def check_hook(check: object) -> None:
    """The rule for a ``check=``: a callable that runs when called. ``ValueError`` for anything
    that is not callable, and for an ``async def`` (see :func:`_is_async_callable`):
    verification never awaits, so its coroutine would be dropped and the token pass unchecked.
    """
    if not callable(check):
        raise ValueError("check must be a callable taking the claims")
    if not _is_async_callable(check):
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
    if type(obj) is FunctionType and not obj.__dict__:
        # A plain function is read at its code flags; one with attributes (a wrapper, or one
        # marked with inspect.markcoroutinefunction) is asked the long way.
        return bool(obj.__code__.co_flags & _ASYNC_CODE)
    if _async_function(obj):
        return True
    # An object whose class defines (or inherits) ``async def __call__``.
    call = getattr(type(obj), "__call__", None)  # noqa: B004 - the method itself is wanted
    return not inspect.isroutine(obj) and _async_function(call)


def _async_function(obj: object) -> bool:
    return inspect.iscoroutinefunction(obj) or inspect.isasyncgenfunction(obj)


def refused_by_check(verdict: object) -> Exception:
    """The error to raise for what a check returned, when that is not ``None`` or ``True``
    (which accept the token).

    ``False`` refuses the token: an :class:`InvalidClaimsError` with ``claim="check"``,
    ``reason`` ``"check"`` and a neutral message. So does an awaitable (a check that hides an
    ``async def``), which is closed first, so nothing warns that it was never awaited.
    Anything else is the app's bug, not a verdict: a ``TypeError`` (a 500, never a pass).
    """
    if verdict is False or inspect.isawaitable(verdict):
        close = getattr(verdict, "close", None)
        if callable(close):
            close()  # a coroutine never started: no "never awaited" warning
        return InvalidClaimsError(REFUSED_BY_CHECK, claim="check", reason="check")
    return TypeError("check must return None, True or False, not " + type(verdict).__name__)
