"""The ``cognito_helper.django`` app's configuration (Django finds it here)."""

from ..integrations.django_settings import CognitoHelperConfig

__all__ = ["CognitoHelperConfig"]
