"""Talking to the hosted UI's ``/oauth2/token``, ``/oauth2/revoke`` and ``/oauth2/userInfo``.

The public path of :mod:`cognito_helper.oauth.endpoints`, where it is implemented.
"""

from .oauth.endpoints import (
    Tokens,
    get_client_credentials_token,
    get_cognito_tokens,
    get_user_info,
    revoke_token,
)

__all__ = [
    "Tokens",
    "get_cognito_tokens",
    "get_client_credentials_token",
    "revoke_token",
    "get_user_info",
]
