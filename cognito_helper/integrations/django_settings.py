"""What the Django integration reads from the project's settings, built once per process.

* ``COGNITO``: the :func:`~cognito_helper.configure` dict or a
  :class:`~cognito_helper.CognitoConfig` (a list of either for the DRF guard, which accepts
  several clients or pools; the sign-in needs exactly one app client). Unset: the library's
  default (:func:`~cognito_helper.configure`, then the ``COGNITO_*`` environment variables).
* ``COGNITO_LOGIN``: the sign-in's options, a dict with the keys of :data:`LOGIN_OPTIONS`
  (see :class:`SignIn`). An unknown key is a :class:`ConfigError` naming the closest one.

:func:`sign_in` is the process's :class:`SignIn` (its :class:`CognitoSessions` and its
options), built from those settings on first use and built again when they are replaced
(``override_settings``). :func:`refuse_unsafe_session_settings` is the one check of Django's
session settings; :class:`CognitoHelperConfig` (the ``cognito_helper.django`` app) runs it
when Django starts.

This module imports Django but not DRF, nor ``django.contrib.auth``'s models.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple, Union
from urllib.parse import unquote, urlsplit

from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ..core.errors import ConfigError
from ..sessions.core import CognitoSessions
from ..sessions.web import CookieSettings
from ..settings.config import CognitoConfig
from ..settings.default import get_config
from ..settings.fields import unknown_keys

__all__ = [
    "LOGIN_OPTIONS",
    "PENDING_KEY",
    "SESSION_ID_KEY",
    "USERNAME_CLAIMS",
    "CognitoHelperConfig",
    "SignIn",
    "configs_from_setting",
    "forget_sign_in",
    "refuse_unsafe_session_settings",
    "sign_in",
]

Configs = Union[CognitoConfig, List[CognitoConfig], None]

#: The key of Django's session that holds the sessions core's session id (after sign-in).
SESSION_ID_KEY = "cognito_helper.session_id"
#: The key of Django's session that holds a started sign-in's pending id (until the callback).
PENDING_KEY = "cognito_helper.pending_id"
#: The keys of the ``COGNITO_LOGIN`` setting.
LOGIN_OPTIONS = (
    "store",
    "revocations",
    "idle_timeout",
    "absolute_timeout",
    "refresh_margin",
    "username_claim",
    "groups",
)
#: The claims ``COGNITO_LOGIN["username_claim"]`` may name.
USERNAME_CLAIMS = ("sub", "cognito:username", "email")
_SESSION_OPTIONS = ("store", "revocations", "idle_timeout", "absolute_timeout", "refresh_margin")
_SIGNED_COOKIES = "django.contrib.sessions.backends.signed_cookies"


# -- COGNITO ----------------------------------------------------------------------------------

def configs_from_setting(raw: Any) -> Configs:
    """``raw`` (the ``COGNITO`` setting: a dict, a CognitoConfig, a list of either, or None)
    as configs. Raises :class:`ConfigError` for anything else.
    """
    if raw is None:
        return None
    config: Configs
    if isinstance(raw, CognitoConfig):
        config = raw
    elif isinstance(raw, (list, tuple)):
        config = [
            item if isinstance(item, CognitoConfig) else CognitoConfig.from_dict(item)
            for item in raw
        ]
    else:
        config = CognitoConfig.from_dict(raw)  # a ConfigError for anything but a dict
    return config


# -- COGNITO_LOGIN ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    """The sign-in of this process, as the settings describe it.

    ``sessions``: the :class:`CognitoSessions` every request uses (``COGNITO`` and the
    ``store``, ``revocations``, ``idle_timeout``, ``absolute_timeout`` and ``refresh_margin``
    of ``COGNITO_LOGIN``). ``callback_path``: the path of the config's ``redirect_uri``
    (decoded). ``username_claim``: the ID-token claim that is the Django username (``"sub"``
    by default). ``groups``: the Django groups synced from ``cognito:groups`` (none by
    default: no sync).
    """

    sessions: CognitoSessions
    callback_path: str
    username_claim: str
    groups: Tuple[str, ...]


_current: List[Tuple[object, object, SignIn]] = []
_building = threading.Lock()


def forget_sign_in() -> None:
    """Forget the :class:`SignIn` built from settings, its memory store included
    (``cognito_helper.testing.reset()`` calls it)."""
    _current.clear()


def _login_options() -> Dict[str, Any]:
    options = getattr(settings, "COGNITO_LOGIN", None) or {}
    if not isinstance(options, dict):
        raise ConfigError("the COGNITO_LOGIN setting must be a dict")
    problem = unknown_keys(options, LOGIN_OPTIONS)
    if problem is not None:
        raise ConfigError(f"the COGNITO_LOGIN setting: {problem}")
    return options


def _object(name: str, value: Any) -> Any:
    """A ``store`` or ``revocations`` option: the object, or the dotted path of a callable
    that makes it (called once, here)."""
    if not isinstance(value, str):
        return value
    try:
        return import_string(value)()
    except ImportError as exc:
        raise ConfigError(f"COGNITO_LOGIN[{name!r}]: cannot import {value!r} ({exc})") from None


def _groups(value: Any) -> Tuple[str, ...]:
    if value is None:
        return ()
    names = (value,) if isinstance(value, str) else value
    if not isinstance(names, (list, tuple)) or not all(
        isinstance(n, str) and n.strip() for n in names
    ):
        raise ConfigError("COGNITO_LOGIN['groups'] must be a list of Django group names")
    return tuple(names)


def _build(raw: Any, config: CognitoConfig, options: Dict[str, Any]) -> SignIn:
    claim = options.get("username_claim", "sub")
    if claim not in USERNAME_CLAIMS:
        raise ConfigError(
            f"COGNITO_LOGIN['username_claim'] must be one of {', '.join(USERNAME_CLAIMS)}, "
            f"got {claim!r}"
        )
    groups = _groups(options.get("groups"))
    given = {k: options[k] for k in _SESSION_OPTIONS if k in options}
    for name in ("store", "revocations"):
        if name in given:
            given[name] = _object(name, given[name])
    sessions = CognitoSessions(config, **given)
    refuse_unsafe_session_settings(sessions.cookie)
    path = unquote(urlsplit(config.redirect_uri or "").path) or "/"
    return SignIn(sessions, path, claim, groups)


def _config(raw: Any) -> CognitoConfig:
    built = configs_from_setting(raw)
    if isinstance(built, list):
        if len(built) != 1:
            raise ConfigError(
                "the sign-in needs one app client: the COGNITO setting lists "
                f"{len(built)} configs (give the web app's own client first, alone)"
            )
        return built[0]
    return get_config(built)


def sign_in() -> SignIn:
    """The process's :class:`SignIn`, built from the settings on first use (and again when
    ``COGNITO`` or ``COGNITO_LOGIN`` is replaced by another object).

    Raises :class:`ConfigError` for settings that cannot sign users in (no ``redirect_uri``,
    no ``openid`` scope, an unknown ``COGNITO_LOGIN`` key...), ``TypeError`` or
    ``ValueError`` for a bad option, and ``ImproperlyConfigured`` for Django session settings
    that would weaken the session (:func:`refuse_unsafe_session_settings`).
    """
    raw = getattr(settings, "COGNITO", None)
    options_raw = getattr(settings, "COGNITO_LOGIN", None)
    # Unset COGNITO: the library's default config is the key (configure() replaces it).
    key = raw if raw is not None else get_config()
    if _current and _current[0][0] is key and _current[0][1] is options_raw:
        return _current[0][2]
    with _building:  # one SignIn, so one memory store, however many requests start at once
        if _current and _current[0][0] is key and _current[0][1] is options_raw:
            return _current[0][2]
        built = _build(raw, _config(raw), _login_options())
        _current[:] = [(key, options_raw, built)]
        return built


# -- Django's session settings ----------------------------------------------------------------


def _engine_is_signed_cookies(engine: str) -> bool:
    if engine == _SIGNED_COOKIES:
        return True
    try:
        from django.contrib.sessions.backends.signed_cookies import SessionStore as Signed

        store = import_string(f"{engine}.SessionStore")
    except ImportError:
        return False  # Django itself reports an engine it cannot import
    return isinstance(store, type) and issubclass(store, Signed)


def refuse_unsafe_session_settings(cookie: Optional[CookieSettings] = None) -> None:
    """Raise ``ImproperlyConfigured`` for Django session settings a signed-in app refuses.

    * ``SESSION_ENGINE`` ``signed_cookies`` (or an engine built on it): the session would
      travel in the browser's cookie. Use the database, cache or cached_db engine, which
      keep it on the server.
    * ``SESSION_COOKIE_HTTPONLY`` false: a script could read the session cookie.
    * ``SESSION_COOKIE_SAMESITE`` other than ``"Lax"``: ``"Strict"`` loses the session on the
      redirect back from the hosted UI; ``"None"`` (or ``False``) sends it on cross-site
      requests.
    * with ``cookie`` (the sessions core's :func:`~cognito_helper.sessions.cookie_settings`)
      asking for ``Secure`` (an https ``redirect_uri``): ``SESSION_COOKIE_SECURE`` false.
    """
    engine = getattr(settings, "SESSION_ENGINE", "")
    if _engine_is_signed_cookies(engine):
        raise ImproperlyConfigured(
            f"SESSION_ENGINE is {engine!r}: a signed cookie would carry the session to the "
            "browser. A signed-in app keeps it on the server: use "
            "'django.contrib.sessions.backends.db', '...cache' or '...cached_db'"
        )
    if not getattr(settings, "SESSION_COOKIE_HTTPONLY", True):
        raise ImproperlyConfigured(
            "SESSION_COOKIE_HTTPONLY is False: a signed-in app's session cookie must be "
            "HttpOnly (no script reads it)"
        )
    same_site = getattr(settings, "SESSION_COOKIE_SAMESITE", "Lax")
    if not isinstance(same_site, str) or same_site.lower() != "lax":
        raise ImproperlyConfigured(
            f"SESSION_COOKIE_SAMESITE is {same_site!r}: a signed-in app needs 'Lax' (sent on "
            "the redirect back from the hosted UI, not on cross-site requests)"
        )
    if cookie is not None and cookie.secure and not settings.SESSION_COOKIE_SECURE:
        raise ImproperlyConfigured(
            "SESSION_COOKIE_SECURE is False but the redirect_uri is https: set "
            "SESSION_COOKIE_SECURE = True (the cookie is Secure unless the app runs on plain "
            "http on a loopback host)"
        )


class CognitoHelperConfig(AppConfig):  # type: ignore[misc]
    """The ``cognito_helper.django`` app: put it in ``INSTALLED_APPS``.

    When Django starts (``runserver``, a WSGI or ASGI server, any ``manage.py`` command) it
    refuses unsafe session settings (:func:`refuse_unsafe_session_settings`) and registers
    the system check that the callback is routed at the ``redirect_uri``'s path.
    """

    name = "cognito_helper.django"
    label = "cognito_helper"
    verbose_name = "Cognito sign-in"

    def ready(self) -> None:
        """Refuse unsafe session settings; register the callback route's system check."""
        refuse_unsafe_session_settings()
        from django.core import checks

        from .django_views import callback_route_check

        checks.register(callback_route_check, checks.Tags.urls)
