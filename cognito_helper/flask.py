"""Flask: views that run only for a request with a valid Cognito bearer token, and signed-in web
apps (:class:`CognitoLogin`, :func:`login_required`).

The public path of :mod:`cognito_helper.integrations.flask` and
:mod:`cognito_helper.integrations.flask_login`, where they are implemented.
"""

from .integrations.flask import (
    TokenGuard,
    require_token,
)
from .integrations.flask_login import CognitoLogin, login_required

__all__ = [
    "CognitoLogin",
    "TokenGuard",
    "login_required",
    "require_token",
]
