"""Django REST framework guard: the :class:`CognitoAuthentication` class and permissions.

The public path of :mod:`cognito_helper.integrations.django`, where it is implemented.
"""

from .integrations.django import (
    BearerAuthenticationFailed,
    BearerPermissionDenied,
    BearerUnavailable,
    CognitoAuthentication,
    CognitoUser,
    HasScopes,
    IsCognitoAuthenticated,
    refused,
)

__all__ = [
    "BearerAuthenticationFailed",
    "BearerPermissionDenied",
    "BearerUnavailable",
    "CognitoAuthentication",
    "CognitoUser",
    "HasScopes",
    "IsCognitoAuthenticated",
    "refused",
]
