"""A request's Cognito session in Django: :class:`CognitoSessionMiddleware`,
:func:`access_token` and :func:`cognito_session`.

Django's own session (its database or cache engine) holds the sessions core's session id
under :data:`~cognito_helper.integrations.django_settings.SESSION_ID_KEY`; the tokens stay in
the core's store. A Django login is *Cognito's* when its session holds that id or was made by
a :class:`~cognito_helper.integrations.django_backend.CognitoBackend`.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Optional

from django.contrib.auth import BACKEND_SESSION_KEY, SESSION_KEY
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

from ..core.errors import CognitoConnectionError
from ..sessions.core import Session
from ..sessions.errors import SessionEndedError, SessionStoreUnavailableError
from .django_backend import CognitoBackend
from .django_settings import SESSION_ID_KEY, refuse_unsafe_session_settings, sign_in

__all__ = [
    "CognitoSessionMiddleware",
    "access_token",
    "cognito_session",
    "end_login",
    "unavailable",
]

log = logging.getLogger("cognito_helper")

#: Where a request keeps its loaded session (``None``: it has none), so it is loaded once.
REQUEST_ATTRIBUTE = "cognito_helper_session"
#: Where a request keeps the error of a refresh that could not reach Cognito, so that one
#: request tries once.
UNREACHABLE_ATTRIBUTE = "cognito_helper_unreachable"


def unavailable(exc: CognitoConnectionError) -> HttpResponse:
    """The 503 for a session store (or Cognito) that cannot be reached, with ``Retry-After``:
    never a sign-in loop, never a 500."""
    seconds = getattr(exc, "retry_after", SessionStoreUnavailableError.retry_after)
    response = HttpResponse(
        "The sign-in service is unavailable. Try again in a moment.",
        status=503,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(seconds)
    return response


def _session_data(request: HttpRequest) -> Any:
    data = getattr(request, "session", None)
    if data is None:
        raise ImproperlyConfigured(
            "the Cognito sign-in needs Django's sessions: put "
            "'django.contrib.sessions.middleware.SessionMiddleware' in MIDDLEWARE, before "
            "AuthenticationMiddleware and CognitoSessionMiddleware"
        )
    return data


def _is_cognito_login(request: HttpRequest) -> bool:
    data = _session_data(request)
    if SESSION_ID_KEY in data:
        return True
    backend = data.get(BACKEND_SESSION_KEY)
    if SESSION_KEY not in data or not isinstance(backend, str):
        return False
    try:
        made_by = import_string(backend)
    except ImportError:
        return False
    return isinstance(made_by, type) and issubclass(made_by, CognitoBackend)


def cognito_session(request: HttpRequest) -> Optional[Session]:
    """The request's :class:`~cognito_helper.sessions.Session` (its ``user`` is the ID
    token's claims), or ``None``: not signed in through Cognito, or the session has ended
    (timed out, signed out). Loaded once per request. Raises
    :class:`SessionStoreUnavailableError` when the store cannot be reached."""
    if hasattr(request, REQUEST_ATTRIBUTE):
        return getattr(request, REQUEST_ATTRIBUTE)  # type: ignore[no-any-return]
    session_id = _session_data(request).get(SESSION_ID_KEY)
    session = None if session_id is None else sign_in().sessions.load(session_id)
    setattr(request, REQUEST_ATTRIBUTE, session)
    return session


def end_login(request: HttpRequest) -> None:
    """End the request's Django login (``django.contrib.auth.logout``: its session is
    flushed, ``request.user`` is anonymous from here on)."""
    auth_logout(request)
    setattr(request, REQUEST_ATTRIBUTE, None)


def access_token(request: HttpRequest) -> str:
    """A valid access token of the request's signed-in user, refreshed when due (one refresh
    per session at a time, across every process sharing the store).

    Raises :class:`SessionEndedError` when there is no Cognito session or it has ended (its
    refresh token expired or revoked): the Django login is ended too, and
    :class:`CognitoSessionMiddleware` answers with a redirect to ``LOGIN_URL``.
    Raises :class:`CognitoConnectionError` when Cognito is unreachable and the held token
    has expired, :class:`SessionStoreUnavailableError` when the store is (the middleware
    answers both with a 503 and ``Retry-After``).
    """
    session = cognito_session(request)
    if session is None:
        if _is_cognito_login(request):
            end_login(request)
        raise SessionEndedError("this request has no Cognito session: sign in")
    unreachable = getattr(request, UNREACHABLE_ATTRIBUTE, None)
    if unreachable is not None:
        raise unreachable  # this request's refresh could not reach Cognito already
    try:
        return session.access_token()
    except SessionEndedError:
        end_login(request)
        raise
    except CognitoConnectionError as exc:
        setattr(request, UNREACHABLE_ATTRIBUTE, exc)
        raise


class CognitoSessionMiddleware:
    """Ends a Django login whose Cognito session has ended; the request goes on anonymous.

    Goes in ``MIDDLEWARE`` after ``SessionMiddleware`` and ``AuthenticationMiddleware``.
    For each request of a Cognito login it loads the session (one store read) and, when the
    access token is due, refreshes it: a session timed out, signed out elsewhere, or whose
    refresh token is expired or revoked (``invalid_grant``) ends the Django login, so
    ``request.user`` is anonymous and ``@login_required`` sends the browser to sign in.
    Cognito unreachable is not an ending: the login stays and the next request tries again.

    Answers 503 with ``Retry-After`` when the session store cannot be reached. A view that
    raises :class:`SessionEndedError` (from :func:`access_token`) gets a redirect to
    ``LOGIN_URL`` back to the page, and one that raises :class:`CognitoConnectionError` a
    503. Refuses unsafe session settings when Django loads it (at start-up).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        refuse_unsafe_session_settings()
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            self.check(request)
        except SessionStoreUnavailableError as exc:
            return unavailable(exc)
        return self.get_response(request)

    def check(self, request: HttpRequest) -> None:
        """End the request's Django login if it is Cognito's and its session has ended."""
        if SESSION_KEY not in _session_data(request) or not _is_cognito_login(request):
            return
        try:
            access_token(request)  # refreshed when due; an ended session ends the login
        except SessionEndedError:
            log.info("a Django login ended with its Cognito session")
        except SessionStoreUnavailableError:
            raise
        except CognitoConnectionError as exc:
            log.warning("a session was not refreshed: %s", type(exc).__name__)

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        """A redirect to sign in for :class:`SessionEndedError`; a 503 for
        :class:`CognitoConnectionError`; anything else is left to Django."""
        if isinstance(exception, SessionEndedError):
            return redirect_to_login(request.get_full_path())
        if isinstance(exception, CognitoConnectionError):
            return unavailable(exception)
        return None
