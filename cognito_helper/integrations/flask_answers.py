"""What the Flask sign-in (:mod:`cognito_helper.integrations.flask_login`) answers a request it
does not serve, and the cookies it writes.

A refusal is HTML for a browser (:func:`~cognito_helper.sessions.accepts_html`) and JSON
(``{"error", "error_description"}``) for any other client, never cached, and never shows a
token, an id or Python internals. Cookies carry the attributes of
:func:`~cognito_helper.sessions.cookie_settings`.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Dict, Optional
from urllib.parse import quote

import flask
from markupsafe import escape
from werkzeug.wrappers import Response

from ..sessions import CookieSettings, SessionStoreUnavailableError, accepts_html

__all__ = ["SIGN_IN", "answer", "delete_cookie", "set_cookie", "to_sign_in", "unavailable"]

log = logging.getLogger("cognito_helper")

#: The endpoint of the sign-in route.
SIGN_IN = "cognito_sign_in"
_PATH_SAFE = "/:@!$&'()*+,;="


def answer(
    status: int, error: str, message: str, headers: Optional[Dict[str, str]] = None
) -> Response:
    """A refusal with ``status``: an HTML page saying ``message`` for a browser, else JSON
    ``{"error": error, "error_description": message}``; ``headers`` added; ``no-store``."""
    if accepts_html(flask.request.headers.get("Accept")):
        link = flask.url_for(SIGN_IN) if status in (400, 401) else "/"
        body = (
            f"<!DOCTYPE html>\n<title>{status} {HTTPStatus(status).phrase}</title>\n"
            f'<p>{escape(message)}</p>\n<p><a href="{escape(link)}">Continue</a></p>\n'
        )
        response = flask.Response(body, status, mimetype="text/html")
    else:
        response = flask.jsonify(error=error, error_description=message)
        response.status_code = status
    response.headers.update(headers or {})
    response.headers["Cache-Control"] = "no-store"
    return response


def to_sign_in() -> Response:
    """A request without a session: a browser is redirected to the sign-in route, with the
    page it asked for as ``next``; any other client gets a 401."""
    request = flask.request
    if not accepts_html(request.headers.get("Accept")):
        return answer(401, "login_required", "Sign in first.")
    page = quote(request.script_root + request.path, safe=_PATH_SAFE)
    query = request.query_string.decode("latin-1")
    target = flask.url_for(SIGN_IN, next=f"{page}?{query}" if query else page)
    response = flask.redirect(target, 302)
    response.headers["Cache-Control"] = "no-store"
    return response


def unavailable(exc: Exception) -> Response:
    """503 with ``Retry-After`` (the error's ``retry_after``, else the session store's): the
    store or Cognito cannot be reached. Never a sign-in, never a 500."""
    retry = getattr(exc, "retry_after", SessionStoreUnavailableError.retry_after)
    log.debug("answered 503: %s", type(exc).__name__)
    return answer(
        503,
        "temporarily_unavailable",
        "Signing in is unavailable for a moment. Please try again shortly.",
        {"Retry-After": str(retry)},
    )


def set_cookie(
    response: Response,
    cookie: CookieSettings,
    name: str,
    value: str,
    path: str,
    max_age: Optional[int],
) -> None:
    """Set the cookie ``name`` on ``response`` with ``cookie``'s attributes (no ``max_age``:
    until the browser closes)."""
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        secure=cookie.secure,
        httponly=cookie.http_only,
        samesite=cookie.same_site,
    )


def delete_cookie(response: Response, cookie: CookieSettings, name: str, path: str) -> None:
    """Clear the cookie ``name`` (set with ``path`` and ``cookie``'s attributes)."""
    response.delete_cookie(
        name,
        path=path,
        secure=cookie.secure,
        httponly=cookie.http_only,
        samesite=cookie.same_site,
    )
