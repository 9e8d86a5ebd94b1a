"""The exception hierarchy: catch :class:`CognitoError` for everything, or a subclass for one cause.

The public path of :mod:`cognito_helper.core.errors`, where it is implemented.
"""

from .core.errors import (
    CognitoConnectionError,
    CognitoError,
    ConfigError,
    InvalidClaimsError,
    InvalidGrantError,
    InvalidSignatureError,
    MalformedTokenError,
    TokenExchangeError,
    TokenExpiredError,
    TokenVerificationError,
    UnknownKeyError,
)

__all__ = [
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
