"""API Gateway Lambda authorizers: verify the caller's Cognito token, answer API Gateway.

The public path of :mod:`cognito_helper.integrations.aws_lambda`, where it is implemented.
"""

from .integrations.aws_lambda import (
    authorize,
)

__all__ = [
    "authorize",
]
