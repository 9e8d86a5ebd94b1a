"""The sign-in's views and URLs in Django: :func:`login`, :func:`callback`, :func:`logout`.

``path("auth/", include("cognito_helper.django.urls"))`` routes, under the namespace
``cognito``:

* ``auth/login/`` (``cognito:login``): starts a sign-in that comes back to ``?next=`` (a path
  on this app, else ``/``) and redirects to the hosted UI;
* the callback at the path of the config's ``redirect_uri``, when that path lies under the
  include's prefix (see :class:`CallbackPattern`); it has no URL name: its URL is the
  ``redirect_uri``;
* ``auth/logout/`` (``cognito:logout``): sign-out, a POST through Django's CSRF protection.

The callback view is :func:`callback`: route it yourself at the ``redirect_uri``'s path when
that path is elsewhere (``path("cognito_redirect", views.callback)``). At start-up, a system
check (``cognito_helper.W001``) warns when the ``redirect_uri``'s path reaches no callback.

Each view answers 503 with ``Retry-After`` when the session store (or Cognito) cannot be
reached; the callback answers 400 when it cannot complete a sign-in, and creates nothing.
"""

from __future__ import annotations

import functools
import logging
import re
from typing import Any, Callable, Dict, List, Optional, Tuple

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
)
from django.urls import Resolver404, path, resolve
from django.urls.resolvers import URLPattern
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET

from ..core.errors import CognitoConnectionError, ConfigError
from ..sessions.errors import CallbackError
from ..sessions.web import sign_out_refusal
from .django_session import end_login, unavailable
from .django_settings import PENDING_KEY, SESSION_ID_KEY, sign_in

__all__ = [
    "CallbackPattern",
    "app_name",
    "callback",
    "callback_route_check",
    "login",
    "logout",
    "urlpatterns",
]

log = logging.getLogger("cognito_helper")

View = Callable[..., HttpResponse]

#: What the callback answers (400) for each :class:`CallbackError` reason: plain sentences.
CALLBACK_REFUSALS = (
    ("state", "This sign-in was not started here, or it has expired. Try again."),
    ("denied", "The sign-in was cancelled or refused. Try again."),
    ("code", "The sign-in could not be completed. Try again."),
    ("tokens", "The sign-in could not be completed. Try again."),
)


def _view(*django_decorators: Any) -> Callable[[View], View]:
    """A view answering 503 with ``Retry-After`` when the store or Cognito is down, under
    Django's ``django_decorators`` (outermost first)."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def answered(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except CognitoConnectionError as exc:
                log.warning("the sign-in answered 503: %s", type(exc).__name__)
                return unavailable(exc)

        decorated: View = answered
        for decorator in reversed(django_decorators):
            decorated = decorator(decorated)
        return decorated

    return decorate


@_view(never_cache, require_GET)
def login(request: HttpRequest) -> HttpResponse:
    """Start a sign-in: a pending sign-in in the store (its id in Django's session) and a
    redirect to the hosted UI. ``?next=`` is where the callback sends the browser after it
    (a path on this app; anything else becomes ``/``)."""
    start = sign_in().sessions.begin(request.GET.get("next", "/"))
    request.session[PENDING_KEY] = start.pending_id
    return HttpResponseRedirect(start.url)


def _refusal(exc: CallbackError) -> HttpResponse:
    log.info("a sign-in was refused at the callback (%s): %s", exc.reason, exc)
    text = dict(CALLBACK_REFUSALS).get(exc.reason, "The sign-in could not be completed.")
    return HttpResponseBadRequest(text, content_type="text/plain; charset=utf-8")


@_view(never_cache, require_GET)
def callback(request: HttpRequest) -> HttpResponse:
    """Complete the sign-in this browser started (see :meth:`CognitoSessions.complete`),
    sign the Django user in (``authenticate(request, cognito_session=...)``, then
    ``django.contrib.auth.login``: a new Django session key) and redirect to ``next``.

    Answers only at the ``redirect_uri``'s path (404 elsewhere). 400 when the sign-in cannot
    complete (unknown, used or expired state; an error from
    Cognito; a refused code; tokens that do not verify), 403 when no authentication backend
    accepts the user (then the new Cognito session is ended at once).
    """
    current = sign_in()
    if request.path != current.callback_path:
        raise Http404("the callback is at the path of the redirect_uri only")
    sessions = current.sessions
    pending_id = request.session.pop(PENDING_KEY, None)
    try:
        signed_in = sessions.complete(pending_id, request.GET.dict())
    except CallbackError as exc:
        return _refusal(exc)
    session = sessions.load(signed_in.session_id)
    user = None if session is None else authenticate(request, cognito_session=session)
    if user is None:
        sessions.end(signed_in.session_id)
        return HttpResponseForbidden(
            "This account cannot sign in here.", content_type="text/plain; charset=utf-8"
        )
    replaced, held = request.session.get(SESSION_ID_KEY), request.session.session_key
    auth_login(request, user)  # a new Django session key (or a flushed session)...
    if held is not None and request.session.session_key == held:
        request.session.cycle_key()  # ...but not when the same user signs in again
    request.session[SESSION_ID_KEY] = signed_in.session_id
    if replaced is not None:
        sessions.end(replaced)  # this browser's earlier sign-in: its tokens are revoked
    return HttpResponseRedirect(signed_in.next_path)


@_view(never_cache, csrf_protect)
def logout(request: HttpRequest) -> HttpResponse:
    """Sign out: a POST from this app's own pages (Django's CSRF token, and an ``Origin`` or
    ``Referer`` of the app's origin, else 403; any other method 405). Revokes the refresh
    token, ends the Cognito session and the Django login, and redirects to Cognito's
    ``/logout`` (which sends the browser on to the config's ``logout_uri``)."""
    sessions = sign_in().sessions
    refused = sign_out_refusal(
        request.method or "",
        request.headers.get("Origin"),
        request.headers.get("Referer"),
        sessions.origin,
    )
    if refused == 405:
        return HttpResponseNotAllowed(["POST"])
    if refused is not None:
        return HttpResponseForbidden(
            "Sign-out must come from this app's own page.",
            content_type="text/plain; charset=utf-8",
        )
    logout_url = sessions.end(request.session.get(SESSION_ID_KEY))
    end_login(request)
    return HttpResponseRedirect(logout_url)


# -- the URLs ---------------------------------------------------------------------------------


class CallbackPattern:
    """The URL pattern of the callback: the path of the config's ``redirect_uri``, relative
    to the prefix the URLconf is included at.

    Django gives an included pattern only what follows the include's prefix, so the pattern
    matches that remainder when the ``redirect_uri``'s path ends with it (whole segments),
    and :func:`callback` answers 404 unless the request's path is the ``redirect_uri``'s
    path itself. Included at ``"auth/"``, a ``redirect_uri`` of
    ``https://app.example.com/auth/callback`` is routed at ``/auth/callback``; included at
    ``""``, the same. A ``redirect_uri`` outside the prefix (``/cognito_redirect`` with
    ``"auth/"``) is not reached: route :func:`callback` there yourself. The ``redirect_uri``
    is read from the settings at each match (``override_settings`` and ``configure()``
    apply).

    The callback has no URL name and ``reverse()`` never builds it: its URL is the
    ``redirect_uri``.
    """

    name = None

    def __init__(self) -> None:
        self.converters: Dict[str, Any] = {}

    @property
    def regex(self) -> re.Pattern[str]:
        """What Django's ``reverse()`` reads: a pattern nothing matches (see above)."""
        return re.compile(r"(?!)")

    def match(self, remainder: str) -> Optional[Tuple[str, Tuple[Any, ...], Dict[str, Any]]]:
        """``("", (), {})`` when ``remainder`` (the request's path after the include's
        prefix) ends the callback path, whole segments."""
        if remainder and sign_in().callback_path.endswith("/" + remainder):
            return "", (), {}
        return None

    def check(self) -> List[Any]:
        """Django's URL checks: nothing to report (``callback_route_check`` checks it)."""
        return []

    def describe(self) -> str:
        """How Django's messages name the pattern."""
        return f"'{self}'"

    def __str__(self) -> str:
        return "<the path of the redirect_uri>"


#: The namespace of the URLs: ``cognito:login``, ``cognito:logout``.
app_name = "cognito"
#: What ``include("cognito_helper.django.urls")`` routes.
urlpatterns = [
    path("login/", login, name="login"),
    path("logout/", logout, name="logout"),
    URLPattern(CallbackPattern(), callback),
]


def _unreached(callback_path: str) -> Optional[str]:
    """The path to route :func:`callback` at when ``callback_path`` does not reach it."""
    script = (getattr(settings, "FORCE_SCRIPT_NAME", None) or "").rstrip("/")
    routed = callback_path
    if script and callback_path.startswith(script + "/"):
        routed = callback_path[len(script) :]
    try:
        if resolve(routed).func is callback:
            return None
    except Resolver404:
        pass
    return routed


def callback_route_check(app_configs: Any = None, **kwargs: Any) -> List[Any]:
    """The system check of the sign-in (``manage.py check``, ``runserver``, ``migrate``):

    * ``cognito_helper.W001``: the ``redirect_uri``'s path does not reach :func:`callback`;
    * ``cognito_helper.W002``: the settings cannot sign users in (no config, no
      ``redirect_uri``...), so the route was not checked;
    * ``cognito_helper.E001``: Django's session settings are unsafe for a signed-in app.
    """
    try:
        callback_path = sign_in().callback_path
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="cognito_helper.E001")]
    except (ConfigError, TypeError, ValueError) as exc:
        return [
            checks.Warning(
                f"the Cognito sign-in cannot start: {exc}",
                hint="set the COGNITO setting (or the COGNITO_* variables) of the web app's "
                "client, with its domain, redirect_uri and logout_uri",
                id="cognito_helper.W002",
            )
        ]
    routed = _unreached(callback_path)
    if routed is None:
        return []
    return [
        checks.Warning(
            f"the redirect_uri's path {callback_path!r} does not reach the sign-in's callback",
            hint="include cognito_helper.django.urls under a prefix of that path, or route "
            f"the view there: path({routed.lstrip('/')!r}, cognito_helper.django.views.callback)",
            id="cognito_helper.W001",
        )
    ]
