"""The ALB profile of the verification pipeline: :class:`AlbVerifier`, which verifies what an
Application Load Balancer forwards, and the doors that need no object, :func:`verify_alb_jwt`
and :func:`verify_alb_request`.

After a Cognito (or OIDC) ``authenticate`` action, the ALB forwards each request with
``x-amzn-oidc-data`` (a JWT it signs with ES256), ``x-amzn-oidc-accesstoken`` (the Cognito
access token) and ``x-amzn-oidc-identity`` (the user's ``sub``). Anyone who can reach the
backend without passing the ALB can send these headers too, so the data JWT must be verified
before anything in it is trusted.

What a data token adds to :class:`~cognito_helper.verification.pipeline.Verifier`'s stages
is in the methods marked "a profile's": :meth:`AlbVerifier._read` (the header and the
signature's form), the typed core :class:`AlbCore`, :meth:`AlbVerifier._compare`, and
:meth:`AlbVerifier.verify_request` (the identity header). What is checked, in which order, and
where Cognito tokens differ, is written once, in SECURITY.md ("Behind an Application Load
Balancer: what verify_alb_jwt checks, in this order"); this docstring does not restate it.

A data token seen again is answered from :data:`memo`, a memo of its own.
"""

from __future__ import annotations

from typing import Any, Dict, FrozenSet, List, Mapping, NamedTuple, Optional, Sequence, Union

from ..core.errors import InvalidClaimsError, InvalidSignatureError, MalformedTokenError
from ..core.headers import header_values
from ..settings.config import CognitoConfig
from .alb_keys import (
    ALB_KID,
    DEFAULT_KEY_URL,
    DEFAULT_TIMEOUT,
    GOVCLOUD_KEY_URL,
    AlbKey,
    AlbKeyCache,
    AlbKeyFetcher,
    alb_key_cache,
    alb_key_url,
    fetch_alb_key,
    forget_alb_key_caches,
)
from .alb_settings import AlbSettings, alb_settings, checked_timeout
from .claims import Check, check_times, checked_leeway, string_claim, time_claim, untrusted
from .cognito import CognitoVerifier
from .jws import MAX_TOKEN_CHARS, Signed, check_alg, decompose, shown
from .memo import VerificationMemo
from .pipeline import Verifier

__all__ = [
    "ACCESS_TOKEN_HEADER",
    "DATA_HEADER",
    "DEFAULT_KEY_URL",
    "GOVCLOUD_KEY_URL",
    "IDENTITY_HEADER",
    "AlbCore",
    "AlbIdentity",
    "AlbKey",
    "AlbKeyCache",
    "AlbKeyFetcher",
    "AlbVerifier",
    "alb_key_cache",
    "alb_key_url",
    "fetch_alb_key",
    "forget_alb_key_caches",
    "verify_alb_jwt",
    "verify_alb_request",
]

#: The request headers an ALB's authenticate action adds (lower case; looked up in any case).
DATA_HEADER = "x-amzn-oidc-data"
ACCESS_TOKEN_HEADER = "x-amzn-oidc-accesstoken"
IDENTITY_HEADER = "x-amzn-oidc-identity"

#: ES256 signatures in JOSE form: r and s, 32 bytes each.
ES256_SIGNATURE_BYTES = 64
#: Data tokens the memo keeps: the bound the ALB path has always had, apart from the bound
#: of :func:`~cognito_helper.set_verification_memo_size`, which is Cognito tokens'.
MEMO_SIZE = 1024

#: The ALB data tokens' verification memo. A second instance rather than the process-wide
#: Cognito one: its entries hold an :class:`AlbCore`, not a Cognito core, and that memo's
#: readers (a Cognito verifier among several configs) read an entry's core before they know
#: its key cache; the public size setting and counters stay Cognito tokens' alone.
memo = VerificationMemo(MEMO_SIZE)

Claims = Dict[str, Any]
Strings = Union[str, Sequence[str]]


class AlbCore(NamedTuple):
    """What a data token's comparisons read, typed by :meth:`AlbVerifier._typed_core`: the
    times, then the header's ``signer``, ``client`` and ``iss`` as found, the payload's
    ``iss``."""

    exp: float  # the earlier of the header's and the payload's
    nbf: Optional[float]
    iat: Optional[float]
    signer: Any
    client: Any
    header_iss: Any
    iss: Optional[str]


class AlbIdentity(NamedTuple):
    """What :func:`verify_alb_request` established about a request.

    ``claims``: the verified payload of ``x-amzn-oidc-data`` (the user's claims as the IdP's
    userInfo endpoint gave them to the ALB, with ``exp`` and ``iss``), whose ``sub`` equals
    ``x-amzn-oidc-identity``. ``access_claims``: the verified claims of
    ``x-amzn-oidc-accesstoken`` when a Cognito ``config`` was given, else ``None`` (the access
    token was then not looked at).
    """

    claims: Claims
    access_claims: Optional[Claims] = None


# -- the verifier -------------------------------------------------------------------------------


class AlbVerifier(Verifier):
    """Verifies an ALB's ``x-amzn-oidc-data`` JWTs; its options are checked once, when built.

    ``alb_arn``: the ARN of the load balancer whose tokens are accepted, or a list of them
    (several load balancers); the header's ``signer`` must be one of them. ``client_id``
    (one or a list) and ``issuer``, when given, must equal the header's ``client`` and ``iss``
    (and ``issuer`` the payload's ``iss``). ``leeway``: seconds of grace on ``exp``, ``nbf``
    and ``iat``'s allowance. ``key_url``: where keys are fetched, a template with ``{kid}``
    (and optionally ``{region}``); default AWS's endpoint for ``region``, which defaults to
    the ARN's. ``timeout``: seconds a key fetch may take (at most 300).

    Raises :class:`ConfigError` for a malformed ARN, region, client id, issuer or key URL and
    ``ValueError`` for a bad ``leeway`` or ``timeout``. Safe to share between threads.
    """

    __slots__ = ("settings", "timeout")

    alg = "ES256"
    memo = memo  # the module's: data tokens have a memo of their own

    def __init__(
        self,
        *,
        alb_arn: Strings,
        region: Optional[str] = None,
        client_id: Union[str, Sequence[str], None] = None,
        issuer: Optional[str] = None,
        leeway: float = 0,
        key_url: Optional[str] = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.settings: AlbSettings = alb_settings(alb_arn, region, client_id, issuer, key_url)
        self.leeway = checked_leeway(leeway)
        self.timeout = checked_timeout(timeout)
        self.check = None

    def __repr__(self) -> str:
        return f"AlbVerifier(alb_arn={sorted(self.settings.arns)!r})"

    def verify(self, header_value: str) -> Claims:
        """Verify an ``x-amzn-oidc-data`` JWT and return its payload (the user's claims, a
        dict of the caller's own).

        Raises :class:`MalformedTokenError`, :class:`UnknownKeyError`,
        :class:`InvalidSignatureError`, :class:`TokenExpiredError` or
        :class:`InvalidClaimsError` (answer 401; ``reason`` says why);
        :class:`CognitoConnectionError` when the key cannot be fetched (answer 503).
        """
        cache = alb_key_cache(self.settings.key_url)
        return self._verify_token(header_value, self.settings, cache, self.timeout, None)

    def verify_request(
        self,
        headers: Mapping[str, Any],
        *,
        config: Union[CognitoConfig, Sequence[CognitoConfig], None] = None,
    ) -> AlbIdentity:
        """Verify the identity headers an ALB's authenticate action added to a request.

        ``headers``: the request's headers, any mapping (Flask's ``request.headers``, a plain
        dict); names are matched in any case. ``x-amzn-oidc-data`` is verified as by
        :meth:`verify`, and ``x-amzn-oidc-identity`` must equal its ``sub``. With ``config``
        (a :class:`CognitoConfig` or a list of them), ``x-amzn-oidc-accesstoken`` is verified
        too, as a Cognito access token with this verifier's ``leeway``, and its ``sub`` must be
        the same user's.

        Returns an :class:`AlbIdentity`. Raises what :meth:`verify` and
        :meth:`CognitoVerifier.verify` raise; :class:`MalformedTokenError` for a header that
        is missing, repeated or not a ``str``; :class:`InvalidClaimsError` (``claim="sub"``,
        ``reason`` ``"claim"``) when the identity or the access token's ``sub`` is another
        user's.
        """
        data = _request_header(headers, DATA_HEADER)
        if data is None:
            raise MalformedTokenError(
                f"the request has no {DATA_HEADER} header: it did not come through an ALB "
                "authenticate action"
            )
        identity = _request_header(headers, IDENTITY_HEADER)
        access_token = _request_header(headers, ACCESS_TOKEN_HEADER) if config is not None else None
        cache = alb_key_cache(self.settings.key_url)
        claims = self._verify_token(data, self.settings, cache, self.timeout, (identity,))
        if config is None:
            return AlbIdentity(claims)
        if access_token is None:
            raise MalformedTokenError(f"the request has no {ACCESS_TOKEN_HEADER} header")
        same_user = CognitoVerifier(
            config, token_use="access", leeway=self.leeway, check=_user_of(claims["sub"])
        )
        return AlbIdentity(claims, same_user.verify(access_token))

    # -- the profile's stages -------------------------------------------------------------------

    def _read(self, token: object, settings: AlbSettings) -> Signed:
        """Stages 1 and 2, before any key is fetched: padded segments, the header's form, its
        ``signer``, ``client`` and ``iss``, the signature's shape."""
        header, payload, signing_input, signature = decompose(token, MAX_TOKEN_CHARS, padded=True)
        kid = _header_kid(header)
        _compare_header(header.get("signer"), header.get("client"), header.get("iss"), settings)
        if len(signature) != ES256_SIGNATURE_BYTES:
            raise InvalidSignatureError(
                f"an ES256 signature is {ES256_SIGNATURE_BYTES} bytes (r || s), this one is "
                f"{len(signature)} (a DER-encoded signature is not the JOSE form)"
            )
        return Signed(kid, header, payload, signing_input, signature, False)

    def _typed_core(self, signed: Signed) -> AlbCore:
        """The header's ``exp``, the payload's ``exp``, ``nbf``, ``iat``, then ``iss``, ``sub``,
        ``jti``, ``scope`` and ``aud`` when present."""
        header, payload = signed.header or {}, signed.payload
        header_exp = _header_time(header, "exp")
        exp = time_claim(payload, "exp", required=True)
        nbf = time_claim(payload, "nbf", required=False)
        iat = time_claim(payload, "iat", required=False)
        for name in ("iss", "sub", "jti", "scope"):
            if name in payload:
                string_claim(payload, name)
        if "aud" in payload:
            aud = payload["aud"]
            if type(aud) is not str and (
                type(aud) is not list or not all(type(a) is str for a in aud)
            ):
                raise InvalidClaimsError("'aud' must be a string or a list of strings", claim="aud")
        return AlbCore(
            min(exp, header_exp),
            nbf,
            iat,
            header.get("signer"),
            header.get("client"),
            header.get("iss"),
            payload.get("iss"),
        )

    def _compare(self, core: AlbCore, settings: AlbSettings, now: float) -> None:
        """The header's ``signer``, ``client`` and ``iss`` (again: a remembered token has not
        been through stage 2), the clock, then the payload's ``iss``."""
        _compare_header(core.signer, core.client, core.header_iss, settings)
        check_times(core.exp, core.nbf, core.iat, now, self.leeway)
        # A payload without `iss` is refused even when the signed header's `iss` matches
        # (issue 19 S8, kept): aws-jwt-verify's AlbJwtVerifier checks the payload's `iss`
        # alone and refuses one that is missing, the ALB writes it in the payload, and the
        # payload's claims are what the caller reads.
        if settings.issuer is not None and core.iss != settings.issuer:
            raise untrusted(f"'iss' must be {settings.issuer!r}, found {shown(core.iss)}", "iss")

    def _check_asked(self, claims: Claims, core: AlbCore, asked: Any) -> None:
        """:meth:`verify_request`'s: the identity header (``asked[0]``) is the claims' ``sub``."""
        (identity,) = asked
        sub = claims.get("sub")
        if type(sub) is not str:
            raise InvalidClaimsError("the ALB's claims have no 'sub' string", claim="sub")
        if identity is None:
            raise MalformedTokenError(f"the request has no {IDENTITY_HEADER} header")
        if identity != sub:
            raise InvalidClaimsError(
                f"the {IDENTITY_HEADER} header is not the signed claims' 'sub'", claim="sub"
            )


def _header_kid(header: Claims) -> str:
    """Stage 2's forms, fixed by the token: ``alg``, no ``crit``, the ``kid``; returns it."""
    check_alg(header, "ES256")
    kid = header.get("kid")
    if type(kid) is not str or not ALB_KID.fullmatch(kid):
        raise MalformedTokenError(
            "the header's 'kid' must be a UUID (an ALB's key id, which names the key in the "
            f"key URL), found {shown(kid)}"
        )
    return kid


def _compare_header(signer: Any, client: Any, iss: Any, settings: AlbSettings) -> None:
    """The header's ``signer``, ``client`` and ``iss`` against the verifier's settings."""
    if type(signer) is not str:
        raise InvalidClaimsError(
            "the header has no 'signer' string (the ARN of the load balancer that signed it)",
            claim="signer",
            reason="signer",
        )
    if signer not in settings.arns:
        raise untrusted(
            f"'signer' must be {_one_of(settings.arns)}, found {shown(signer)}: another "
            "load balancer signed this token",
            "signer",
        )
    if settings.clients is not None and (type(client) is not str or client not in settings.clients):
        raise untrusted(
            f"the header's 'client' must be {_one_of(settings.clients)}, found {shown(client)}",
            "client",
        )
    if settings.issuer is not None and iss != settings.issuer:
        raise untrusted(
            f"the header's 'iss' must be {settings.issuer!r}, found {shown(iss)}", "iss"
        )


def _one_of(values: FrozenSet[str]) -> str:
    return " or ".join(repr(v) for v in sorted(values))


def _header_time(header: Claims, name: str) -> float:
    try:
        return time_claim(header, name, required=True)
    except InvalidClaimsError as exc:
        raise InvalidClaimsError(f"in the JWT header: {exc}", claim=name) from None


def _request_header(headers: Mapping[str, Any], name: str) -> Optional[str]:
    """The one value of header ``name`` (any case); MalformedTokenError if repeated or not str."""
    try:
        found: List[Any] = header_values(headers, name)
    except AttributeError:
        raise MalformedTokenError(
            f"headers must be a mapping of header names to values, not {type(headers).__name__}"
        ) from None
    if not found:
        return None
    if len(found) > 1:
        raise MalformedTokenError(f"the request has {len(found)} {name} headers, not one")
    value = found[0]
    if not isinstance(value, str):
        raise MalformedTokenError(f"the {name} header must be a str, not {type(value).__name__}")
    return value


def _user_of(sub: str) -> Check:
    """The check of :meth:`AlbVerifier.verify_request`'s access token: ``sub``'s own."""

    def same_user(access: Claims) -> None:
        if access.get("sub") != sub:
            raise InvalidClaimsError(
                "the access token's 'sub' is not the signed claims' 'sub'",
                claim="sub",
                reason="claim",
            )

    return same_user


# -- the doors that need no object ----------------------------------------------------------------

# The verifiers the doors built, by their options, as `re` keeps the patterns it compiled:
# checking an ARN and key URL costs about 40 us, many times a remembered token's verification.
# The option types are part of the key, so a `True` never finds the verifier of a `1`.
_verifiers: Dict[Any, AlbVerifier] = {}
_MAX_VERIFIERS = 64


def forget_alb_verifiers() -> None:
    """Forget the verifiers the doors built (``cognito_helper.testing.reset()`` calls it)."""
    _verifiers.clear()


def _verifier(
    alb_arn: Any, region: Any, client_id: Any, issuer: Any, leeway: Any, key_url: Any, timeout: Any
) -> AlbVerifier:
    """The :class:`AlbVerifier` for these options: built once (a bad option raises as it does)."""
    arns = tuple(alb_arn) if isinstance(alb_arn, (list, tuple)) else alb_arn
    clients = tuple(client_id) if isinstance(client_id, (list, tuple)) else client_id
    options: Any = (arns, region, clients, issuer, key_url)
    options += (leeway, type(leeway), timeout, type(timeout))
    try:
        verifier = _verifiers.get(options)
    except TypeError:  # something unhashable: building the verifier names it
        options = None
        verifier = None
    if verifier is None:
        verifier = AlbVerifier(
            alb_arn=alb_arn,
            region=region,
            client_id=client_id,
            issuer=issuer,
            leeway=leeway,
            key_url=key_url,
            timeout=timeout,
        )
        if options is not None:
            if len(_verifiers) >= _MAX_VERIFIERS:
                _verifiers.clear()
            _verifiers[options] = verifier
    return verifier


def verify_alb_jwt(
    header_value: str,
    *,
    alb_arn: Strings,
    region: Optional[str] = None,
    client_id: Union[str, Sequence[str], None] = None,
    issuer: Optional[str] = None,
    leeway: float = 0,
    key_url: Optional[str] = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Claims:
    """``AlbVerifier(**options).verify(header_value)``: verify an ALB's ``x-amzn-oidc-data`` JWT
    and return its payload. The options, checks and errors are :class:`AlbVerifier`'s; the
    verifier for a set of options is built once and kept."""
    verifier = _verifier(alb_arn, region, client_id, issuer, leeway, key_url, timeout)
    return verifier.verify(header_value)


def verify_alb_request(
    headers: Mapping[str, Any],
    *,
    alb_arn: Strings,
    region: Optional[str] = None,
    client_id: Union[str, Sequence[str], None] = None,
    issuer: Optional[str] = None,
    leeway: float = 0,
    key_url: Optional[str] = None,
    timeout: float = DEFAULT_TIMEOUT,
    config: Union[CognitoConfig, Sequence[CognitoConfig], None] = None,
) -> AlbIdentity:
    """``AlbVerifier(**options).verify_request(headers, config=config)``: verify the identity
    headers an ALB added to a request (see :meth:`AlbVerifier.verify_request`)."""
    verifier = _verifier(alb_arn, region, client_id, issuer, leeway, key_url, timeout)
    return verifier.verify_request(headers, config=config)
