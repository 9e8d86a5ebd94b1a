"""Flask: views that run only for a request with a valid Cognito bearer token.

The public path of :mod:`cognito_helper.integrations.flask`, where it is implemented.
"""

from .integrations.flask import (
    TokenGuard,
    require_token,
)

__all__ = [
    "TokenGuard",
    "require_token",
]
