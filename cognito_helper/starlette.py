"""Starlette and FastAPI: a signed-in web app (sign-in routes, a ``current_user`` dependency,
fresh access tokens), on the server-side sessions of :mod:`cognito_helper.sessions`.

The public path of :mod:`cognito_helper.integrations.starlette_login`, where it is implemented.
"""

from .integrations.starlette_login import CognitoLogin

__all__ = ["CognitoLogin"]
