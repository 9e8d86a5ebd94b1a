"""The exception hierarchy: catch :class:`CognitoError` for everything, or a subclass for one cause.

=========================  ===========================================================
``ConfigError``            the library is misconfigured; fix the configuration
``CognitoConnectionError`` Cognito or its JWKS could not be used: answer 503, retry later
``TokenExchangeError``     ``/oauth2/*`` refused a request (``error``, ``description``,
                           ``status_code``)
``InvalidGrantError``      the code or refresh token is dead: the user must sign in again
``TokenVerificationError`` the JWT must not be trusted: answer 401
=========================  ===========================================================

Messages name what was expected and what was found; they never contain a token, code,
verifier, client secret or refresh token.
"""

from __future__ import annotations

from typing import Any, Dict, FrozenSet, Optional

__all__ = [
    "REASONS",
    "CognitoError",
    "ConfigError",
    "CognitoConnectionError",
    "TokenExchangeError",
    "InvalidGrantError",
    "TokenVerificationError",
    "MalformedTokenError",
    "InvalidSignatureError",
    "TokenExpiredError",
    "InvalidClaimsError",
    "UnknownKeyError",
]


class CognitoError(Exception):
    """Base class of every error this library raises on purpose."""


class ConfigError(CognitoError):
    """The configuration is missing or invalid; the message names the field and how to fix it."""


class OverrideValueError(ConfigError, ValueError):
    """A value given to a call in place of one of its config's settings (``redirect_uri=``,
    ``logout_uri=``, ``login_redirect_uri=``) breaks that setting's rule.

    An invalid value given to a call: a ``ValueError``. It is also the :class:`ConfigError`
    that these calls raised for it before the policy of docs/errors.md, so an
    ``except ConfigError`` written then still catches it. The message starts with the name.
    """


class WrongTypeError(TypeError, ValueError):
    """A call was given a value of the wrong type: a ``TypeError``.

    It is also a ``ValueError``, which these calls raised for a wrong type before the policy
    of docs/errors.md, so an ``except ValueError`` written then still catches
    it. A setting of the wrong type, found while a config is built, is a :class:`ConfigError`.
    """


class CognitoConnectionError(CognitoError):
    """Cognito could not be reached or answered unusably (network failure, timeout, 3xx, 5xx,
    or no usable JWKS). Not the caller's fault: answer 503, not 401."""


class TokenExchangeError(CognitoError):
    """An ``/oauth2/*`` endpoint refused the request.

    ``error`` is Cognito's OAuth error code (``invalid_request``, ``invalid_client``,
    ``invalid_grant``, ``unauthorized_client``, ``unsupported_grant_type``, ``invalid_token`` ...)
    or ``None`` when the response carried none; ``description`` its ``error_description``
    (scrubbed of anything secret); ``status_code`` the HTTP status.
    """

    def __init__(
        self,
        message: str,
        *,
        error: Optional[str] = None,
        description: Optional[str] = None,
        status_code: Optional[int] = None,
    ) -> None:
        super().__init__(message)
        self.error = error
        self.description = description
        self.status_code = status_code


class InvalidGrantError(TokenExchangeError):
    """The authorization code or refresh token was used, expired, revoked or never existed.
    Retrying cannot help: send the user through sign-in again."""


#: Every value of :attr:`TokenVerificationError.reason`: why a token was refused, in words a
#: metric or a log can count (docs/verifying.md's reason table says when each applies).
REASONS: FrozenSet[str] = frozenset(
    {
        "malformed",
        "unknown_key",
        "signature",
        "expired",
        "not_yet_valid",
        "issued_in_future",
        "claim",
        "issuer",
        "client",
        "token_use",
        "audience",
        "nonce",
        "at_hash",
        "scope",
        "group",
        "check",
        "signer",
        "revoked",
    }
)


class TokenVerificationError(CognitoError):
    """The JWT failed verification and must not be trusted: answer 401.

    ``reason``: why, one of :data:`REASONS`, the same for a new token and a remembered one
    and for Cognito and ALB tokens alike. Each subclass has its own (``"malformed"``,
    ``"unknown_key"``, ``"signature"``, ``"expired"``; ``"claim"`` for
    :class:`InvalidClaimsError`), and the library gives the precise one where it raises
    (``"issuer"``, ``"scope"`` ...). An error an app's ``check`` raises without one of its own
    says ``"check"``. ``reason=`` outside :data:`REASONS` is a ``ValueError``.

    ``claims``: once the signature has verified, the token's decoded claims (a copy of its
    own), so an app can log *who* was refused; ``None`` before that. Never the raw token, and
    neither ``str()`` nor ``repr()`` shows the claims.
    """

    claims: Optional[Dict[str, Any]] = None
    #: A sentence that may be sent to the client instead of the message (``None``: the message
    #: itself is safe to send). Set where the message holds what only the server's log may see,
    #: such as the trusted issuers or app clients.
    public: Optional[str] = None
    #: Why the token was refused (see the class docstring): this class's own unless given.
    reason: str = "check"

    def __init__(
        self, *args: object, public: Optional[str] = None, reason: Optional[str] = None
    ) -> None:
        super().__init__(*args)
        if public is not None:
            self.public = public
        if reason is not None:
            if reason not in REASONS:
                raise ValueError(f"reason must be one of {sorted(REASONS)}, not {reason!r}")
            self.reason = reason

    @property
    def client_message(self) -> str:
        """What a guard sends as ``error_description``: :attr:`public`, else the message."""
        return self.public if self.public is not None else str(self)


class MalformedTokenError(TokenVerificationError):
    """The input is not a well-formed compact JWS of the expected kind (wrong type, too large,
    bad segments, bad base64url or JSON, a disallowed header such as another ``alg`` or
    ``crit``). ``reason`` ``"malformed"``."""

    reason = "malformed"


class InvalidSignatureError(TokenVerificationError):
    """The signature does not verify with the key named by ``kid``. ``reason``
    ``"signature"``."""

    reason = "signature"


class TokenExpiredError(TokenVerificationError):
    """``exp`` has passed (beyond ``leeway``). Refresh the tokens or sign in again. ``reason``
    ``"expired"``."""

    reason = "expired"


class InvalidClaimsError(TokenVerificationError):
    """A claim is missing, has the wrong type, or does not have the required value.

    ``claim`` names the claim that failed; ``reason`` says why (``"claim"`` unless given: a
    required claim is missing or of the wrong type).
    """

    reason = "claim"

    def __init__(
        self,
        message: str,
        *,
        claim: Optional[str] = None,
        public: Optional[str] = None,
        reason: Optional[str] = None,
    ) -> None:
        super().__init__(message, public=public, reason=reason)
        self.claim = claim


class UnknownKeyError(TokenVerificationError):
    """No usable signing key has the token's ``kid`` (in the pool's JWKS, even after a
    refetch; or at the ALB's key endpoint). ``reason`` ``"unknown_key"``."""

    reason = "unknown_key"
