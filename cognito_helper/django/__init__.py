"""Django: sign users in through the hosted UI, and guard Django REST framework APIs.

The sign-in (``pip install ".[django]"``; docs/web-apps.md)::

    INSTALLED_APPS = [..., "django.contrib.sessions", "cognito_helper.django"]
    MIDDLEWARE = [..., "django.contrib.auth.middleware.AuthenticationMiddleware",
                  "cognito_helper.django.CognitoSessionMiddleware", ...]
    AUTHENTICATION_BACKENDS = ["cognito_helper.django.CognitoBackend"]
    LOGIN_URL = "cognito:login"
    COGNITO = {"user_pool_id": ..., "client_id": ..., "domain": ...,
               "redirect_uri": "https://app.example.com/auth/callback", "logout_uri": ...}

    urlpatterns = [path("auth/", include("cognito_helper.django.urls")), ...]

:class:`CognitoBackend` (the Django ``User`` of a Cognito session), the URLs and views
(``cognito_helper.django.urls``, ``cognito_helper.django.views``),
:class:`CognitoSessionMiddleware`, :func:`access_token` and :func:`cognito_session`.

The DRF guard: :class:`CognitoAuthentication` and the permissions :class:`IsCognitoAuthenticated`
and :class:`HasScopes` (``"cognito_helper.django.CognitoAuthentication"`` in
``REST_FRAMEWORK``).

Each name is imported on first use (PEP 562): Django imports this package when it reads
``INSTALLED_APPS``, before the models a backend needs can be imported, and the sign-in
needs no DRF.
"""

from typing import TYPE_CHECKING, Any, Dict, List

if TYPE_CHECKING:
    from ..integrations.django import (
        BearerAuthenticationFailed,
        BearerPermissionDenied,
        BearerUnavailable,
        CognitoAuthentication,
        CognitoUser,
        HasScopes,
        IsCognitoAuthenticated,
        refused,
    )
    from ..integrations.django_backend import CognitoBackend
    from ..integrations.django_session import (
        CognitoSessionMiddleware,
        access_token,
        cognito_session,
    )
    from ..integrations.django_settings import CognitoHelperConfig

# Public name -> the module of cognito_helper.integrations that defines it.
_LAZY: Dict[str, str] = {
    "BearerAuthenticationFailed": "django",
    "BearerPermissionDenied": "django",
    "BearerUnavailable": "django",
    "CognitoAuthentication": "django",
    "CognitoUser": "django",
    "HasScopes": "django",
    "IsCognitoAuthenticated": "django",
    "refused": "django",
    "CognitoBackend": "django_backend",
    "CognitoSessionMiddleware": "django_session",
    "access_token": "django_session",
    "cognito_session": "django_session",
    "CognitoHelperConfig": "django_settings",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"..integrations.{module}", __name__), name)
    globals()[name] = value  # later lookups are plain attribute reads
    return value


def __dir__() -> List[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "BearerAuthenticationFailed",
    "BearerPermissionDenied",
    "BearerUnavailable",
    "CognitoAuthentication",
    "CognitoBackend",
    "CognitoHelperConfig",
    "CognitoSessionMiddleware",
    "CognitoUser",
    "HasScopes",
    "IsCognitoAuthenticated",
    "access_token",
    "cognito_session",
    "refused",
]
