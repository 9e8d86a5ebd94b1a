"""What the user configures, the hosted-UI URLs built from it, and the process default.

The public path of :mod:`cognito_helper.settings.config` (CognitoConfig),
:mod:`cognito_helper.settings.hosted_ui` (LoginRequest), :mod:`cognito_helper.settings.default`
(configure, get_config), :mod:`cognito_helper.settings.env` and
:mod:`cognito_helper.settings.pkce`, where they are implemented.
"""

from .settings.config import CognitoConfig
from .settings.default import configure, get_config
from .settings.env import ENV_LISTS, ENV_NAMES, UnknownVariableWarning
from .settings.hosted_ui import LoginRequest
from .settings.pkce import pkce_challenge

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
