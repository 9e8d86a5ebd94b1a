"""Verifying Cognito ID and access tokens: :class:`CognitoVerifier` and :func:`decode_verify_jwt`.

The public path of :mod:`cognito_helper.verification.cognito`, where it is implemented.
"""

from .verification.cognito import (
    MAX_IAT_SKEW,
    MAX_NUMERIC_DATE,
    MAX_TOKEN_CHARS,
    CognitoVerifier,
    decode_unverified,
    decode_verify_jwt,
)

__all__ = [
    "MAX_IAT_SKEW",
    "MAX_NUMERIC_DATE",
    "MAX_TOKEN_CHARS",
    "CognitoVerifier",
    "decode_unverified",
    "decode_verify_jwt",
]
