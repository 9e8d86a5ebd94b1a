"""What the user configures, and the hosted-UI URLs built from it.

The public path of :mod:`cognito_helper.settings.config`, where it is implemented.
"""

from .settings.config import (
    ENV_LISTS,
    ENV_NAMES,
    CognitoConfig,
    LoginRequest,
    UnknownVariableWarning,
    configure,
    get_config,
    pkce_challenge,
)

__all__ = [
    "ENV_LISTS",
    "ENV_NAMES",
    "CognitoConfig",
    "LoginRequest",
    "UnknownVariableWarning",
    "configure",
    "get_config",
    "pkce_challenge",
]
