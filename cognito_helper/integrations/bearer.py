"""RFC 6750 for resource servers: read a bearer token, verify it, answer a refusal.

Every framework guard (``cognito_helper.flask``, ``.fastapi``, ``.django``, ``.aws_lambda``)
goes through this one mapping, so they answer alike:

==========================================================  ======  =============================
situation                                                   status  ``WWW-Authenticate``
==========================================================  ======  =============================
no ``Authorization`` header, or another scheme              401     ``Bearer``
``Bearer`` with no token, two tokens, a header over 64 KiB  400     ``error="invalid_request"``
a Bearer credential beside another (a repeated header)      400     ``error="invalid_request"``
the token fails verification                                401     ``error="invalid_token"``
verified, but none of the required scopes (or groups)       403     ``error="insufficient_scope"``
no usable JWKS (:class:`CognitoConnectionError`)            503     none; ``Retry-After`` set
==========================================================  ======  =============================

The body is JSON ``{"error": ..., "error_description": ...}``; the description is the error's
:attr:`~cognito_helper.TokenVerificationError.client_message` (what a client may be told: never
the token, nor the trusted issuers or app clients the exception keeps for the server's log),
and a fixed sentence for a 503. A 403's challenge names in ``scope=`` only the required scopes
the token lacks, and no ``scope=`` at all when a group is missing. The scheme name is matched
case-insensitively; the token itself is not altered. A repeated ``Authorization`` header is
read as HTTP joins it (``a, b``), whether the server hands over one joined value or a list.

Nothing configured is a :class:`ConfigError` for every request, with a token or without one
(the configuration is resolved before the header is read). It and ``ValueError`` (the app's
configuration or options are wrong) are not refusals: they propagate, and the framework
answers 500.
"""

from __future__ import annotations

import json
import logging
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterable,
    List,
    NamedTuple,
    Optional,
    Sequence,
    Tuple,
    TypedDict,
    Union,
)

from ..core.errors import CognitoConnectionError, InvalidClaimsError, TokenVerificationError
from ..settings.default import get_config
from ..verification.claims import check_hook, granted_scopes
from ..verification.cognito import CognitoVerifier

if TYPE_CHECKING:
    from typing_extensions import Unpack

__all__ = [
    "Guard",
    "GuardOptions",
    "MAX_HEADER_CHARS",
    "OPTION_NAMES",
    "VERIFYING",
    "VerifierOptions",
    "BearerRefusal",
    "Refusal",
    "bearer_token",
    "log_refusal",
    "naming_claims",
    "refusal",
    "verify_bearer",
]

#: The longest ``Authorization`` header value read (a Cognito token is a few KB).
MAX_HEADER_CHARS = 64 * 1024
#: Seconds a client is asked to wait after a 503 (the JWKS cool-down).
RETRY_AFTER = 10

#: The ``error_description`` of a 503: the cause (a URL, a connection error) is the server's.
UNAVAILABLE = "the token's signing keys could not be had; try again later"

log = logging.getLogger("cognito_helper")

_FORBIDDEN_CLAIMS = frozenset({"scope", "cognito:groups"})
# RFC 6750 section 3: error_description and scope values hold %x20-21 / %x23-5B / %x5D-7E.
_QUOTABLE = frozenset(chr(c) for c in range(0x20, 0x7F)) - {'"', "\\"}


class Refusal(NamedTuple):
    """What to answer instead of the resource: ``status``, ``headers`` and a JSON ``body``."""

    status: int
    headers: Dict[str, str]
    body: Dict[str, str]

    def json(self) -> str:
        """The body as JSON text."""
        return json.dumps(self.body)


class BearerRefusal(Exception):  # noqa: N818 - a refusal to send, not an error of the app
    """The request must be refused with :attr:`refusal`; ``cause`` is the library's error."""

    def __init__(self, refusal: Refusal, cause: Optional[BaseException] = None) -> None:
        super().__init__(refusal.body.get("error_description") or refusal.body["error"])
        self.refusal = refusal
        self.cause = cause


def _quoted(text: str) -> str:
    """``text`` as an RFC 6750 quoted-string value: characters it cannot hold are dropped."""
    return "".join(c for c in text if c in _QUOTABLE)[:400]


def _challenge(realm: Optional[str], **params: str) -> str:
    fields = ([f'realm="{_quoted(realm)}"'] if realm else []) + [
        f'{name}="{_quoted(value)}"' for name, value in params.items()
    ]
    return "Bearer " + ", ".join(fields) if fields else "Bearer"


def _answer(status: int, code: str, description: str, realm: Optional[str], **more: str) -> Refusal:
    """A refusal whose challenge carries ``error=code`` (and ``more``), as its body does."""
    challenge = _challenge(realm, error=code, **more)
    return Refusal(
        status, {"WWW-Authenticate": challenge}, {"error": code, "error_description": description}
    )


#: An ``Authorization`` header as a framework gives it: one value, every value sent, or none.
Authorization = Union[str, Sequence[str], None]


def bearer_token(authorization: Authorization, *, realm: Optional[str] = None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header value, exactly as sent.

    ``authorization`` is the header's value, or the list of its values when it was sent more
    than once (read as HTTP joins them, ``a, b``). Raises :class:`BearerRefusal`: 401 (no error
    code) for no header or another scheme, 400 ``invalid_request`` for ``Bearer`` with no token
    or two, a Bearer credential beside another one (a comma never occurs in a Bearer token),
    or a header over :data:`MAX_HEADER_CHARS`.
    """
    if authorization is not None and not isinstance(authorization, str):
        authorization = ", ".join(authorization)
    if not authorization or not authorization.strip():
        raise BearerRefusal(
            _unauthorized("no bearer token: send 'Authorization: Bearer <access token>'", realm)
        )
    if len(authorization) > MAX_HEADER_CHARS:
        raise BearerRefusal(
            _answer(400, "invalid_request", "the Authorization header is too long", realm)
        )
    if "," in authorization and any(_is_bearer(part) for part in authorization.split(",")):
        raise BearerRefusal(
            _answer(400, "invalid_request", "the Authorization header holds two credentials", realm)
        )
    scheme, _, rest = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        raise BearerRefusal(_unauthorized("the Authorization header is not a Bearer token", realm))
    parts = rest.split()
    if len(parts) != 1:
        what = "no token" if not parts else "more than one token"
        raise BearerRefusal(
            _answer(400, "invalid_request", f"the Bearer header holds {what}", realm)
        )
    return parts[0]


def _is_bearer(credential: str) -> bool:
    words = credential.split(None, 1)
    return bool(words) and words[0].lower() == "bearer"


def _unauthorized(description: str, realm: Optional[str]) -> Refusal:
    # RFC 6750 section 3.1: no error code when the request had no authentication.
    return Refusal(
        401,
        {"WWW-Authenticate": _challenge(realm)},
        {"error": "unauthorized", "error_description": description},
    )


def refusal(
    exc: BaseException,
    *,
    realm: Optional[str] = None,
    scopes: Optional[Iterable[str]] = None,
) -> Refusal:
    """The answer for a verification error (``scopes``: the required ones, for a 403).

    :class:`InvalidClaimsError` for ``scope`` or ``cognito:groups`` is a 403
    ``insufficient_scope``; any other :class:`TokenVerificationError` a 401 ``invalid_token``;
    :class:`CognitoConnectionError` a 503 with ``Retry-After``. Anything else is re-raised.
    The description is the error's ``client_message``. A refusal for ``scope`` names in
    ``scope=`` the ones of ``scopes`` the token does not grant (its ``claims``, when known).
    """
    if isinstance(exc, BearerRefusal):
        return exc.refusal
    if isinstance(exc, InvalidClaimsError) and exc.claim in _FORBIDDEN_CLAIMS:
        text = exc.client_message
        more = {"error_description": text}
        if exc.claim == "scope":
            missing = " ".join(_lacking(scopes or (), exc.claims))
            if missing:
                more["scope"] = missing
        return _answer(403, "insufficient_scope", text, realm, **more)
    if isinstance(exc, TokenVerificationError):
        text = exc.client_message
        return _answer(401, "invalid_token", text, realm, error_description=text)
    if isinstance(exc, CognitoConnectionError):
        return Refusal(
            503,
            {"Retry-After": str(RETRY_AFTER)},
            {"error": "temporarily_unavailable", "error_description": UNAVAILABLE},
        )
    raise exc


def _lacking(scopes: Iterable[str], claims: Optional[Dict[str, Any]]) -> List[str]:
    """The scopes of ``scopes`` that ``claims`` do not grant (all of them, claims unknown)."""
    try:
        held = granted_scopes(claims) if claims is not None else frozenset()
    except InvalidClaimsError:  # no scope string: it grants none
        held = frozenset()
    return sorted(set(scopes) - held)


Strings = Union[str, Sequence[str], None]
Check = Callable[[Dict[str, Any]], Any]


class VerifierOptions(TypedDict, total=False):
    """The verification options every guard takes (Flask, FastAPI, DRF, Lambda), declared once.

    ``token_use`` (``"access"`` by default; ``"id"``, or ``None`` for either), ``scopes``,
    ``groups``, ``audience``, ``config`` and ``check`` are
    :class:`~cognito_helper.CognitoVerifier`'s; ``revocations`` is handed to it when given.
    ``verifier``, a :class:`~cognito_helper.CognitoVerifier` built by the app, replaces all of
    them: giving it beside any of them is a ``TypeError``.
    """

    token_use: Optional[str]
    scopes: Strings
    groups: Strings
    audience: Strings
    config: Any
    check: Optional[Check]
    revocations: Any
    verifier: Any


class GuardOptions(VerifierOptions, total=False):
    """:class:`VerifierOptions` and ``realm``, put into every ``WWW-Authenticate`` challenge."""

    realm: Optional[str]


#: The names of the options a ``verifier=`` replaces.
VERIFYING = ("token_use", "scopes", "groups", "audience", "config", "check", "revocations")
#: Every guard option's name (:class:`GuardOptions`).
OPTION_NAMES = (*VERIFYING, "verifier", "realm")


class Guard:
    """A guard: the :class:`~cognito_helper.CognitoVerifier` it verifies with (``verifier``),
    built once, and the ``realm`` of its challenges. Make one with :meth:`of`."""

    __slots__ = ("verifier", "realm")

    def __init__(self, verifier: CognitoVerifier, realm: Optional[str] = None) -> None:
        if not isinstance(verifier, CognitoVerifier):
            raise TypeError(f"verifier must be a CognitoVerifier, not {type(verifier).__name__}")
        self.verifier = verifier
        self.realm = realm

    def __repr__(self) -> str:
        return f"Guard({self.verifier!r}, realm={self.realm!r})"

    @property
    def scopes(self) -> Optional[Tuple[str, ...]]:
        """The verifier's ``scopes`` (a tuple of names, or ``None``)."""
        return self.verifier.scopes

    @property
    def groups(self) -> Optional[Tuple[str, ...]]:
        """The verifier's ``groups`` (a tuple of names, or ``None``)."""
        return self.verifier.groups

    @property
    def audience(self) -> Optional[Tuple[str, ...]]:
        """The verifier's ``audience`` (a tuple of names, or ``None``)."""
        return self.verifier.audience

    @classmethod
    def of(cls, **options: Unpack[GuardOptions]) -> Guard:
        """The guard of :class:`GuardOptions` (``token_use`` ``"access"`` by default).

        ``ValueError`` now for an invalid option, ``TypeError`` for an unknown one, for a
        ``verifier`` beside an option it replaces, or one that is not a ``CognitoVerifier``.
        ``scopes``, ``groups`` and ``audience`` become tuples of names (a string is split on
        whitespace, as everywhere in the library) and a list of configs a tuple of them, so a
        caller changing its own list later changes nothing.
        """
        given: Dict[str, Any] = dict(options)
        unknown = sorted(set(given) - set(OPTION_NAMES))
        if unknown:
            raise TypeError(f"unknown guard options {unknown}; the options are {OPTION_NAMES}")
        realm = given.pop("realm", None)
        verifier = given.pop("verifier", None)
        if verifier is None:
            return cls(_verifier(**given), realm)
        if given:
            raise TypeError(
                f"verifier= replaces the options {sorted(given)}: give the verifier, built "
                "with them, or the options, not both"
            )
        return cls(verifier, realm)

    def verify(
        self,
        authorization: Authorization,
        *,
        check: Optional[Check] = None,
        verify: Optional[Callable[..., Dict[str, Any]]] = None,
    ) -> Dict[str, Any]:
        """Read the bearer token of ``authorization`` and verify it; return its claims.

        ``authorization`` is the header's value, or every value when it was sent more than
        once. ``check`` replaces the verifier's own for this call. The configuration is
        resolved first: nothing configured is a ``ConfigError`` whatever the header holds.
        Raises :class:`BearerRefusal` with the answer to send for every refusal in the
        module's table; a ``ConfigError`` or ``ValueError`` propagates. ``verify`` replaces
        the verifier (a function called as ``decode_verify_jwt``, with the verifier's
        options: for a test).
        """
        verifier = self.verifier
        config = verifier.config if verifier.config is not None else get_config()
        token = bearer_token(authorization, realm=self.realm)
        try:
            if verify is not None:
                options = _options_of(verifier, check)
                return verify(token, **{**options, "config": config})
            if check is not None:
                verifier = CognitoVerifier(**_options_of(verifier, check))
            return verifier.verify(token)
        except (TokenVerificationError, CognitoConnectionError) as exc:
            raise BearerRefusal(
                refusal(exc, realm=self.realm, scopes=verifier.scopes), exc
            ) from None


def _verifier(token_use: Optional[str] = "access", **options: Any) -> CognitoVerifier:
    """The verifier of the options (``revocations`` handed on only when given)."""
    check = options.pop("check", None)
    if check is not None:
        check_hook(check)  # its own ValueError, before it is wrapped
        options["check"] = naming_claims(check)
    if options.get("revocations", 0) is None:
        del options["revocations"]
    return CognitoVerifier(options.pop("config", None), token_use=token_use, **options)


def _options_of(verifier: CognitoVerifier, check: Optional[Check]) -> Dict[str, Any]:
    """``verifier``'s options as keywords, its ``check`` replaced by ``check`` when given."""
    options: Dict[str, Any] = {
        "config": verifier.config,
        "token_use": verifier.token_use,
        "scopes": verifier.scopes,
        "groups": verifier.groups,
        "audience": verifier.audience,
        "check": verifier.check if check is None else naming_claims(check),
        "leeway": verifier.leeway,
    }
    revocations = getattr(verifier, "revocations", None)
    if revocations is not None:
        options["revocations"] = revocations
    return options


def log_refusal(who: str, refused: BearerRefusal, what: str = "refused") -> None:
    """Log ``refused`` on the ``cognito_helper`` logger (INFO), as one line: ``who``,
    ``what`` and the status, the server's detail (the whole message, which never holds the
    token), and the reason: the error's ``reason`` (``"unavailable"`` for no usable JWKS; for
    a bad header, the body's ``error``)."""
    cause = refused.cause
    body = refused.refusal.body
    if isinstance(cause, TokenVerificationError):
        reason, detail = cause.reason, str(cause)
    elif cause is not None:
        reason, detail = "unavailable", str(cause)
    else:
        reason, detail = body["error"], body.get("error_description", "")
    status = refused.refusal.status
    log.info("%s: %s (%d): %s (reason: %s)", who, what, status, detail, reason)


def naming_claims(check: Check) -> Check:
    """``check``, whose refusals carry the claims it was given (``claims``, when unset): a
    guard's answer can then name the caller, and the scopes the token lacks."""

    def checked(claims: Dict[str, Any]) -> Any:
        known = dict(claims)  # before ``check`` can change its copy
        try:
            return check(claims)
        except TokenVerificationError as exc:
            if exc.claims is None:
                exc.claims = known
            raise

    return checked


def verify_bearer(
    authorization: Authorization,
    *,
    verify: Optional[Callable[..., Dict[str, Any]]] = None,
    **options: Unpack[GuardOptions],
) -> Dict[str, Any]:
    """``Guard.of(**options).verify(authorization, verify=verify)``: one request, one call.

    The options are :class:`GuardOptions`. Raises :class:`BearerRefusal` for every refusal
    of the module's table; a ``ConfigError`` or ``ValueError`` propagates.
    """
    return Guard.of(**options).verify(authorization, verify=verify)
