"""FastAPI and Starlette: a dependency that lets a route run only for a valid Cognito bearer token.

The public path of :mod:`cognito_helper.integrations.fastapi`, where it is implemented.
"""

from .integrations.fastapi import (
    BearerHTTPException,
    CognitoBearer,
    add_exception_handler,
    refusal_response,
)

__all__ = [
    "BearerHTTPException",
    "CognitoBearer",
    "add_exception_handler",
    "refusal_response",
]
