"""Verifying what an Application Load Balancer forwards: :func:`verify_alb_jwt` and
:func:`verify_alb_request`.

After a Cognito (or OIDC) ``authenticate`` action, the ALB forwards each request with
``x-amzn-oidc-data`` (a JWT it signs with ES256), ``x-amzn-oidc-accesstoken`` (the Cognito
access token) and ``x-amzn-oidc-identity`` (the user's ``sub``). Anyone who can reach the
backend without passing the ALB can send these headers too, so the data JWT must be verified
before anything in it is trusted. The checks run in this order and stop at the first failure:

1. input (:class:`MalformedTokenError`): a ``str`` of at most ``MAX_TOKEN_CHARS`` characters,
   three non-empty base64url segments that may end in ``=`` padding of exactly the right
   length (the ALB pads; ``=`` anywhere else is refused), canonical (unused bits zero), a
   header and a payload that are JSON objects by the package's one JSON rule;
2. header, before any key is fetched: ``alg`` exactly ``ES256``, no ``crit``, ``kid`` a UUID
   as an ALB's are (it goes into the key URL: no ``/``, ``.``, ``%`` or white space)
   (:class:`MalformedTokenError`); ``signer`` one of the configured ALB ARNs,
   ``client`` the configured app client and ``iss`` the configured issuer when they are
   given (:class:`InvalidClaimsError` naming ``signer``, ``client`` or ``iss``; its
   ``client_message``, as that of stage 6's ``iss``, names none of the configuration, which
   stays in the message for the server's log); so a token of another load balancer causes no
   request;
3. signature shape (:class:`InvalidSignatureError`): exactly 64 bytes, the JOSE ``r || s``
   form (a DER signature is refused, before any key is fetched);
4. key (:class:`UnknownKeyError`, or :class:`CognitoConnectionError` when the key endpoint
   cannot be used or the budget for fetching new kids is spent: answer 503): the PEM EC P-256
   public key at the key URL for that ``kid`` (AWS's
   ``https://public-keys.auth.elb.{region}.amazonaws.com/{kid}``, the documented S3 endpoint
   in the GovCloud regions), fetched through the package's one HTTP path and cached by
   :class:`AlbKeyCache` (a kid the endpoint does not have is refused for its cool-down
   without a request; no other kid is);
5. signature (:class:`InvalidSignatureError`): ES256 over the header and payload segments
   exactly as received, padding included, with python-jose's cryptography backend;
6. times and claims (:class:`InvalidClaimsError` naming the claim, or
   :class:`TokenExpiredError`): first the types (``exp`` in the header and in the payload,
   ``nbf`` and ``iat`` when present: numbers from 0 to ``MAX_NUMERIC_DATE``; ``iss``, ``sub``,
   ``jti``, ``scope`` strings and ``aud`` a string or list of strings when present), then
   the values: both ``exp`` (with ``leeway``), ``nbf``, and the payload's ``iss`` equal to
   ``issuer`` when that is given.

Once the signature has verified, a rejection carries the payload as ``.claims``. Messages
never contain the token.

A data JWT seen again is answered from a
:class:`~cognito_helper.verification.memo.VerificationMemo` of
its own (the class of ``decode_verify_jwt``'s memo: see :data:`memo`) while the key that
verified it is still the one cached for its kid under the same key URL.
It skips what the signed token fixes (stages 1, 3 to 5, the forms of stage 2 and the types of
stage 6); the comparisons with the call's options (``signer``, ``client``, ``iss``) and with
the clock (``exp``, ``nbf``) run on every call, through the same functions as a new token's,
so both paths fail alike.
"""

from __future__ import annotations

import time
from typing import Any, Dict, FrozenSet, List, Mapping, NamedTuple, Optional, Sequence, Union, cast

from ..core.errors import (
    InvalidClaimsError,
    InvalidSignatureError,
    MalformedTokenError,
    TokenVerificationError,
)
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
from .alb_settings import AlbSettings, alb_settings, checked_leeway, checked_timeout
from .claims import expired_error, not_yet_valid_error, string_claim, time_claim, untrusted
from .jws import MAX_TOKEN_CHARS, check_alg, decompose, shown
from .memo import TAIL, MemoEntry, VerificationMemo, json_copy

__all__ = [
    "ACCESS_TOKEN_HEADER",
    "DATA_HEADER",
    "DEFAULT_KEY_URL",
    "GOVCLOUD_KEY_URL",
    "IDENTITY_HEADER",
    "AlbIdentity",
    "AlbKey",
    "AlbKeyCache",
    "AlbKeyFetcher",
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
#: ``_memo.memo``: its entries hold an :class:`AlbCore`, not a Cognito ``Core``, and that
#: memo's readers (``decode_verify_jwt`` among several configs) read an entry's core before
#: they know its key cache; the public size setting and counters stay Cognito tokens' alone.
memo = VerificationMemo(MEMO_SIZE)

Claims = Dict[str, Any]


# -- the checks: what the token fixes, once; what the call compares, on every call -------------


class AlbCore(NamedTuple):
    """What a data token's checks compare on every call, memo hit or not.

    The header's ``signer``, ``client`` and ``iss`` as found (compared with the call's
    ``alb_arn``, ``client_id`` and ``issuer``), the earlier of the header's and the payload's
    ``exp``, the payload's ``nbf`` and ``iss``, all typed by :func:`_typed_core`.
    """

    signer: Any
    client: Any
    header_iss: Any
    expires: float
    nbf: Optional[float]
    iss: Optional[str]


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
    """Stage 2's comparisons: the header's ``signer``, ``client`` and ``iss`` with the call's.

    Both paths call it: a new token before its key is fetched, a remembered one on every hit.
    """
    if type(signer) is not str:
        raise InvalidClaimsError(
            "the header has no 'signer' string (the ARN of the load balancer that signed it)",
            claim="signer",
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


def _check_signature(key: AlbKey, signing_input: bytes, signature: bytes) -> None:
    """Stage 5: ES256 by ``key``; :class:`InvalidSignatureError` otherwise."""
    try:
        valid = key.verify(signing_input, signature)
    except Exception:  # never let a backend's exception stand for a verdict
        valid = False
    if not valid:
        raise InvalidSignatureError(f"the ES256 signature does not verify with ALB key {key.kid!r}")


def _header_time(header: Claims, name: str) -> float:
    try:
        value = time_claim(header, name, required=True)
    except InvalidClaimsError as exc:
        raise InvalidClaimsError(f"in the JWT header: {exc}", claim=name) from None
    assert value is not None  # required
    return value


def _typed_core(header: Claims, payload: Claims) -> AlbCore:
    """Stage 6's types, fixed by the signed token: the header's ``exp``, the payload's ``exp``,
    ``nbf``, ``iat``, then ``iss``, ``sub``, ``jti``, ``scope`` and ``aud`` when present."""
    header_exp = _header_time(header, "exp")
    exp = time_claim(payload, "exp", required=True)
    assert exp is not None  # required
    nbf = time_claim(payload, "nbf", required=False)
    time_claim(payload, "iat", required=False)
    for name in ("iss", "sub", "jti", "scope"):
        if name in payload:
            string_claim(payload, name)
    if "aud" in payload:
        aud = payload["aud"]
        if type(aud) is not str and (type(aud) is not list or not all(type(a) is str for a in aud)):
            raise InvalidClaimsError("'aud' must be a string or a list of strings", claim="aud")
    return AlbCore(
        header.get("signer"),
        header.get("client"),
        header.get("iss"),
        min(exp, header_exp),
        nbf,
        payload.get("iss"),
    )


def _compare_claims(core: AlbCore, claims: Claims, settings: AlbSettings, leeway: float) -> None:
    """Stage 6's comparisons, on both paths: ``exp`` (with ``leeway``), ``nbf``, the payload's
    ``iss``. A rejection carries (a copy of) ``claims``."""
    now = time.time()
    try:
        if now >= core.expires + leeway:
            raise expired_error(now, core.expires, leeway)
        if core.nbf is not None and now + leeway < core.nbf:
            raise not_yet_valid_error()
        # A payload without `iss` is refused even when the signed header's `iss` matches
        # (issue 19 S8, kept): aws-jwt-verify's AlbJwtVerifier checks the payload's `iss`
        # alone and refuses one that is missing, the ALB writes it in the payload, and the
        # payload's claims are what the caller reads.
        if settings.issuer is not None and core.iss != settings.issuer:
            raise untrusted(f"'iss' must be {settings.issuer!r}, found {shown(core.iss)}", "iss")
    except TokenVerificationError as exc:
        exc.claims = json_copy(claims)
        raise


# -- the two paths ------------------------------------------------------------------------------


def _remembered(entry: MemoEntry, settings: AlbSettings, leeway: float) -> Claims:
    """A memo hit: every comparison with the call and the clock again, then the claims."""
    core: AlbCore = entry.core  # type: ignore[assignment]  # this memo holds AlbCore only
    _compare_header(core.signer, core.client, core.header_iss, settings)
    _compare_claims(core, entry.claims, settings, leeway)
    return entry.copy_claims()


def _verified(
    token: Any,
    settings: AlbSettings,
    cache: AlbKeyCache,
    leeway: float,
    timeout: float,
    tail: Optional[str],
) -> Claims:
    """Every stage in order for a token not remembered; remember it if it passes."""
    header, payload, signing_input, signature = decompose(token, MAX_TOKEN_CHARS, padded=True)
    kid = _header_kid(header)
    _compare_header(header.get("signer"), header.get("client"), header.get("iss"), settings)
    if len(signature) != ES256_SIGNATURE_BYTES:
        raise InvalidSignatureError(
            f"an ES256 signature is {ES256_SIGNATURE_BYTES} bytes (r || s), this one is "
            f"{len(signature)} (a DER-encoded signature is not the JOSE form)"
        )
    key = cache.get_key(kid, timeout)
    _check_signature(key, signing_input, signature)
    try:
        core = _typed_core(header, payload)
    except TokenVerificationError as exc:
        exc.claims = json_copy(payload)
        raise
    _compare_claims(core, payload, settings, leeway)
    if tail is None:
        return payload  # decoded for this call alone: the caller's own
    return memo.add(token, key, cache, payload, core, tail=tail)  # the caller gets a copy


# -- the public functions -----------------------------------------------------------------------


def verify_alb_jwt(
    header_value: str,
    *,
    alb_arn: Union[str, Sequence[str]],
    region: Optional[str] = None,
    client_id: Union[str, Sequence[str], None] = None,
    issuer: Optional[str] = None,
    leeway: float = 0,
    key_url: Optional[str] = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> Claims:
    """Verify an ALB's ``x-amzn-oidc-data`` JWT and return its payload (the user's claims).

    ``alb_arn``: the ARN of the load balancer whose tokens are accepted, or a list of them
    (several load balancers); the header's ``signer`` must be one of them. ``client_id``
    (one or a list) and ``issuer``, when given, must equal the header's ``client`` and ``iss``
    (and ``issuer`` the payload's ``iss``). ``leeway``: seconds of grace on ``exp`` and
    ``nbf``. ``key_url``: where keys are fetched, a template with ``{kid}`` (and optionally
    ``{region}``); default AWS's endpoint for ``region``, which defaults to the ARN's.
    ``timeout``: seconds a key fetch may take. See the module docstring for the checks and
    their order.

    The returned dict is the caller's own. Raises :class:`MalformedTokenError`,
    :class:`UnknownKeyError`, :class:`InvalidSignatureError`, :class:`TokenExpiredError` or
    :class:`InvalidClaimsError` (answer 401); :class:`CognitoConnectionError` when the key
    cannot be fetched (answer 503); :class:`ConfigError` for a malformed ARN, region, client
    id, issuer or key URL; ``ValueError`` for a bad ``leeway`` or ``timeout``.
    """
    settings = alb_settings(alb_arn, region, client_id, issuer, key_url)
    grace = checked_leeway(leeway)
    timeout = checked_timeout(timeout)
    cache = alb_key_cache(settings.key_url)
    tail = None
    if type(header_value) is str and memo.maxsize > 0:
        tail = header_value[-TAIL:]
        entry = memo.find(header_value, tail, cache)
        if entry is not None:
            return _remembered(entry, settings, grace)
    return _verified(header_value, settings, cache, grace, timeout, tail)


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


def _request_header(headers: Mapping[str, Any], name: str) -> Optional[str]:
    """The one value of header ``name`` (any case); MalformedTokenError if repeated or not str."""
    try:
        items = headers.items()
    except AttributeError:
        raise MalformedTokenError(
            f"headers must be a mapping of header names to values, not {type(headers).__name__}"
        ) from None
    found: List[Any] = [v for k, v in items if isinstance(k, str) and k.lower() == name]
    if not found:
        return None
    if len(found) > 1:
        raise MalformedTokenError(f"the request has {len(found)} {name} headers, not one")
    value = found[0]
    if not isinstance(value, str):
        raise MalformedTokenError(f"the {name} header must be a str, not {type(value).__name__}")
    return value


def verify_alb_request(
    headers: Mapping[str, Any],
    *,
    alb_arn: Union[str, Sequence[str]],
    region: Optional[str] = None,
    client_id: Union[str, Sequence[str], None] = None,
    issuer: Optional[str] = None,
    leeway: float = 0,
    key_url: Optional[str] = None,
    timeout: float = DEFAULT_TIMEOUT,
    config: Union[CognitoConfig, Sequence[CognitoConfig], None] = None,
) -> AlbIdentity:
    """Verify the identity headers an ALB's authenticate action added to a request.

    ``headers``: the request's headers, any mapping (Flask's ``request.headers``, a plain
    dict); names are matched in any case. ``x-amzn-oidc-data`` is verified by
    :func:`verify_alb_jwt` with the other options; ``x-amzn-oidc-identity`` must equal its
    ``sub``. With ``config`` (a :class:`CognitoConfig` or a list of them),
    ``x-amzn-oidc-accesstoken`` is verified too, by ``decode_verify_jwt(token_use="access")``
    with the same ``leeway``, and its ``sub`` must be the same user's.

    Returns an :class:`AlbIdentity`. Raises what :func:`verify_alb_jwt` and
    :func:`~cognito_helper.decode_verify_jwt` raise; :class:`MalformedTokenError` for a
    header that is missing, repeated or not a ``str``; :class:`InvalidClaimsError`
    (``claim="sub"``, carrying the data claims) when the identity or the access token's
    ``sub`` is another user's.
    """
    data = _request_header(headers, DATA_HEADER)
    if data is None:
        raise MalformedTokenError(
            f"the request has no {DATA_HEADER} header: it did not come through an ALB "
            "authenticate action"
        )
    identity = _request_header(headers, IDENTITY_HEADER)
    access_token = _request_header(headers, ACCESS_TOKEN_HEADER) if config is not None else None
    claims = verify_alb_jwt(
        data,
        alb_arn=alb_arn,
        region=region,
        client_id=client_id,
        issuer=issuer,
        leeway=leeway,
        key_url=key_url,
        timeout=timeout,
    )
    sub = claims.get("sub")
    if type(sub) is not str:
        raise _other_user("the ALB's claims have no 'sub' string", claims)
    if identity is None:
        raise MalformedTokenError(f"the request has no {IDENTITY_HEADER} header")
    if identity != sub:
        raise _other_user(f"the {IDENTITY_HEADER} header is not the signed claims' 'sub'", claims)
    if config is None:
        return AlbIdentity(claims)
    return AlbIdentity(claims, _access_claims(access_token, config, leeway, claims))


def _access_claims(token: Optional[str], config: Any, leeway: float, claims: Claims) -> Claims:
    """The access token's verified claims, which must be the data ``claims``' user's."""
    if token is None:
        raise MalformedTokenError(f"the request has no {ACCESS_TOKEN_HEADER} header")
    from .cognito import decode_verify_jwt

    access = decode_verify_jwt(token, config=config, token_use="access", leeway=leeway)
    if access.get("sub") != claims["sub"]:
        raise _other_user("the access token's 'sub' is not the signed claims' 'sub'", claims)
    return cast(Claims, access)


def _other_user(message: str, claims: Claims) -> InvalidClaimsError:
    error = InvalidClaimsError(message, claim="sub")
    error.claims = json_copy(claims)
    return error
