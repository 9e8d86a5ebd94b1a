"""Flask: signed-in web apps, on the sessions core (:mod:`cognito_helper.sessions`).

::

    from flask import Flask
    from cognito_helper.flask import CognitoLogin, login_required

    app = Flask(__name__)
    login = CognitoLogin(app, config=cfg)       # or CognitoLogin(config=cfg).init_app(app)

    @app.get("/orders")
    @login_required()                           # below the route, like require_token
    def orders():
        return call_api(login.access_token())   # fresh, refreshed when due

:class:`CognitoLogin` registers three routes: sign-in (``login_path``, taking ``?next=``), the
callback (the path of ``config.redirect_uri``) and sign-out (``logout_path``, a same-origin
POST). The browser holds an opaque session id only (``cookie_name``), and during a sign-in a
pending id in a short-lived cookie of its own sent to the callback only; both carry the
attributes of :func:`~cognito_helper.sessions.cookie_settings`. What each request is answered
when it cannot be served:

===========================================  ==========================================
no session (or it ended) on a page that      a browser (HTML preferred to JSON:
needs one                                    :func:`~cognito_helper.sessions.prefers_html`):
                                             302 to sign in, back to the page after; any
                                             other client: 401, JSON
signed in, in none of ``groups``             403
a callback without its pending sign-in       400, nothing created
(unknown, replayed, expired, other state)
sign-out by GET / from another origin        405 / 403
the session store (Redis) or Cognito down    503 with ``Retry-After``: never a sign-in
                                             loop, never a 500
===========================================  ==========================================

A refusal is HTML for a browser and JSON (``{"error", "error_description"}``) otherwise; no
message shows a token, an id or Python internals. Needs the ``flask`` extra.
"""

from __future__ import annotations

import functools
import inspect
import logging
import re
import time
from http import HTTPStatus
from typing import (
    Any,
    Callable,
    Dict,
    FrozenSet,
    Iterable,
    Optional,
    TypeVar,
    Union,
    cast,
    overload,
)
from urllib.parse import quote, urlsplit

import flask
from markupsafe import escape
from werkzeug.wrappers import Response

from ..core.errors import CognitoConnectionError, ConfigError, InvalidClaimsError
from ..sessions import (
    SIGN_IN_TIMEOUT,
    CallbackError,
    CognitoSessions,
    RevocationList,
    Session,
    SessionEndedError,
    SessionStore,
    SessionStoreUnavailableError,
    prefers_html,
    safe_next,
    sign_out_refusal,
)
from ..settings.config import CognitoConfig
from ..verification.claims import Asked, check_asked, option_set
from .flask import guard_in_order, watch

__all__ = ["CognitoLogin", "login_required"]

log = logging.getLogger("cognito_helper")

View = TypeVar("View", bound=Callable[..., Any])

#: Where an app keeps its CognitoLogin (``app.extensions``).
EXTENSION = "cognito_helper.login"
_SIGN_IN, _CALLBACK, _SIGN_OUT = "cognito_sign_in", "cognito_callback", "cognito_sign_out"
_LOADED, _STALE = "cognito_login_session", "cognito_login_stale"  # flask.g, per request
_COOKIE_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")  # an RFC 6265 token
_PATH_SAFE = "/:@!$&'()*+,;="


def _cookie_name(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"cookie_name must be a string, not {type(value).__name__}")
    if _COOKIE_NAME.fullmatch(value) is None:
        raise ValueError(f"cookie_name must be a cookie name (letters, digits, -_.), got {value!r}")
    return value


def _route(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a string, not {type(value).__name__}")
    if safe_next(value) != value or "?" in value or "#" in value:
        raise ValueError(f"{name} must be a path on this app, like '/login', got {value!r}")
    return value


class CognitoLogin:
    """Sign people in through Cognito's hosted UI; keep their tokens on the server.

    ``CognitoLogin(app, config=cfg)``, or ``CognitoLogin(config=cfg)`` then
    :meth:`init_app` (``config`` defaults to :func:`~cognito_helper.configure`'s, read then).
    ``config`` needs ``domain``, ``redirect_uri`` (its path becomes the callback route),
    ``logout_uri`` and the ``openid`` scope. ``store`` (default: a
    :class:`~cognito_helper.sessions.MemorySessionStore`, one process; a
    :class:`~cognito_helper.sessions.RedisSessionStore` for a fleet), ``idle_timeout``,
    ``absolute_timeout``, ``refresh_margin``, ``revocations`` (a
    :class:`~cognito_helper.sessions.RevocationList` that sign-out adds the session's tokens
    to) and ``clock`` are :class:`~cognito_helper.sessions.CognitoSessions`'. ``cookie_name``
    names the session cookie (the pending sign-in's is ``{cookie_name}_signin``);
    ``login_path`` and ``logout_path`` are the sign-in and sign-out routes.

    :attr:`user` and :meth:`access_token` are the signed-in user's, for the current request.
    Bad options raise ``TypeError`` or ``ValueError``, a config that cannot run a signed-in
    app :class:`ConfigError`, all before any request.
    """

    def __init__(
        self,
        app: Optional[flask.Flask] = None,
        *,
        config: Optional[CognitoConfig] = None,
        store: Optional[SessionStore] = None,
        idle_timeout: float = 8 * 3600,
        absolute_timeout: float = 30 * 86400,
        refresh_margin: float = 60,
        revocations: Optional[RevocationList] = None,
        cookie_name: str = "cognito_session",
        login_path: str = "/login",
        logout_path: str = "/logout",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._cookie_name = _cookie_name(cookie_name)
        self._login_path = _route("login_path", login_path)
        self._logout_path = _route("logout_path", logout_path)
        if login_path == logout_path:
            raise ValueError("login_path and logout_path must be two paths")
        self._config = config
        self._options: Dict[str, Any] = {
            "store": store,
            "idle_timeout": idle_timeout,
            "absolute_timeout": absolute_timeout,
            "refresh_margin": refresh_margin,
            "revocations": revocations,
            "clock": clock,
        }
        self._core: Optional[CognitoSessions] = None
        self._callback_path = ""
        if config is not None or app is not None:
            self._build()
        if app is not None:
            self.init_app(app)

    def _build(self) -> CognitoSessions:
        core = CognitoSessions(self._config, **self._options)
        callback = urlsplit(core.config.redirect_uri or "").path or "/"
        if callback in (self._login_path, self._logout_path):
            raise ValueError(
                f"the callback path {callback!r} (of redirect_uri) must not be the sign-in "
                "or sign-out path"
            )
        self._core, self._callback_path = core, callback
        return core

    @property
    def sessions(self) -> CognitoSessions:
        """The sessions core (:class:`~cognito_helper.sessions.CognitoSessions`) it runs on."""
        return self._core if self._core is not None else self._build()

    @property
    def cookie_name(self) -> str:
        """The session cookie's name."""
        return self._cookie_name

    def __repr__(self) -> str:
        return f"CognitoLogin(cookie_name={self._cookie_name!r}, sessions={self._core!r})"

    def init_app(self, app: flask.Flask) -> None:
        """Register the sign-in, callback and sign-out routes on ``app``, the answers to an
        ended session and to a store that is down, and the check that no route
        :func:`login_required` was given is served without it (see
        :func:`cognito_helper.integrations.flask.watch`). One CognitoLogin per app
        (``ValueError`` for a second); ``TypeError`` for anything but a Flask app."""
        if not isinstance(app, flask.Flask):
            raise TypeError(f"CognitoLogin needs a Flask app, not {type(app).__name__}")
        if EXTENSION in app.extensions:
            raise ValueError("this app already has a CognitoLogin")
        self.sessions  # noqa: B018 - builds the core now: a ConfigError before any request
        app.add_url_rule(self._login_path, _SIGN_IN, self._sign_in, methods=["GET"])
        app.add_url_rule(self._callback_path, _CALLBACK, self._callback, methods=["GET"])
        app.add_url_rule(self._logout_path, _SIGN_OUT, self._sign_out, methods=["POST"])
        app.register_error_handler(SessionEndedError, self._on_ended)
        app.register_error_handler(SessionStoreUnavailableError, self._unavailable)
        app.after_request(self._after)
        app.extensions[EXTENSION] = self
        watch(app)

    # -- the current request --------------------------------------------------------------

    def _current(self) -> Optional[Session]:
        """This request's session (loaded once per request), or ``None``."""
        if _LOADED not in flask.g:
            session_id = flask.request.cookies.get(self._cookie_name)
            session = self.sessions.load(session_id) if session_id else None
            setattr(flask.g, _LOADED, session)
            if session_id and session is None:
                setattr(flask.g, _STALE, True)
        return cast(Optional[Session], getattr(flask.g, _LOADED))

    def _ended(self) -> None:
        """The session of this request has ended: forget it, and its cookie."""
        setattr(flask.g, _LOADED, None)
        setattr(flask.g, _STALE, True)

    @property
    def user(self) -> Optional[Dict[str, Any]]:
        """The signed-in user's ID-token claims (``sub``, ``cognito:username``, ``email``,
        ``cognito:groups``...) for the current request, or ``None`` when no one is signed in.
        Raises :class:`~cognito_helper.sessions.SessionStoreUnavailableError` (answered 503)
        when the store is down."""
        session = self._current()
        return None if session is None else session.user

    def access_token(self) -> str:
        """A valid access token of the signed-in user, refreshed when fewer than
        ``refresh_margin`` seconds are left (once per session at a time).

        With no one signed in, or a refresh token that is expired or revoked, raises
        :class:`~cognito_helper.sessions.SessionEndedError`, which the app answers like
        :func:`login_required` a request without a session; a store that is down is a 503.
        :class:`CognitoConnectionError` when Cognito cannot be reached and the token held
        has expired.
        """
        session = self._current()
        if session is None:
            raise SessionEndedError("no user is signed in on this request")
        try:
            return session.access_token()
        except SessionEndedError:
            self._ended()
            raise

    def _admit(self, groups: Optional[FrozenSet[str]]) -> Optional[Response]:
        """``None`` to serve the page, or the answer of a request :func:`login_required`
        refuses. A due refresh runs here, so a revoked session ends before the page."""
        try:
            session = self._current()
            if session is not None:
                session.access_token()
        except SessionEndedError:
            self._ended()
            session = None
        except CognitoConnectionError as exc:
            return self._unavailable(exc)
        if session is None:
            return self._to_sign_in()
        if groups is not None:
            try:
                check_asked(session.user, "id", Asked(groups=groups))
            except InvalidClaimsError:
                return self._answer(403, "forbidden", "Your account may not open this page.")
        return None

    # -- the answers ----------------------------------------------------------------------

    def _answer(
        self, status: int, error: str, message: str, headers: Optional[Dict[str, str]] = None
    ) -> Response:
        """A refusal: HTML for a browser, JSON for any other client; never cached."""
        if prefers_html(flask.request.headers.get("Accept")):
            link = flask.url_for(_SIGN_IN) if status in (400, 401) else "/"
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

    def _to_sign_in(self) -> Response:
        """A browser: to the sign-in route, back to this page after; else 401."""
        if not prefers_html(flask.request.headers.get("Accept")):
            return self._answer(401, "login_required", "Sign in first.")
        request = flask.request
        page = quote(request.script_root + request.path, safe=_PATH_SAFE)
        query = request.query_string.decode("latin-1")
        target = flask.url_for(_SIGN_IN, next=f"{page}?{query}" if query else page)
        response = flask.redirect(target, 302)
        response.headers["Cache-Control"] = "no-store"
        return response

    def _on_ended(self, exc: SessionEndedError) -> Response:
        self._ended()
        return self._to_sign_in()

    def _unavailable(self, exc: Exception) -> Response:
        retry = getattr(exc, "retry_after", SessionStoreUnavailableError.retry_after)
        log.debug("answered 503: %s", type(exc).__name__)
        return self._answer(
            503,
            "temporarily_unavailable",
            "Signing in is unavailable for a moment. Please try again shortly.",
            {"Retry-After": str(retry)},
        )

    def _after(self, response: Response) -> Response:
        """Each response: ``Vary: Cookie`` when it read the session; the cookie of a session
        that is gone (ended, timed out, unknown) cleared."""
        if _LOADED in flask.g:
            response.vary.add("Cookie")
        if flask.g.pop(_STALE, False):
            self._delete_cookie(response, self._cookie_name, "/")
        return response

    def _set_cookie(
        self, response: Response, name: str, value: str, path: str, max_age: Optional[int]
    ) -> None:
        cookie = self.sessions.cookie
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=path,
            secure=cookie.secure,
            httponly=cookie.http_only,
            samesite=cookie.same_site,
        )

    def _delete_cookie(self, response: Response, name: str, path: str) -> None:
        cookie = self.sessions.cookie
        response.delete_cookie(
            name,
            path=path,
            secure=cookie.secure,
            httponly=cookie.http_only,
            samesite=cookie.same_site,
        )

    # -- the routes -----------------------------------------------------------------------

    @property
    def _pending_cookie(self) -> str:
        return f"{self._cookie_name}_signin"

    def _sign_in(self) -> Response:
        """GET ``login_path``: a pending sign-in and the redirect to the hosted UI."""
        start = self.sessions.begin(flask.request.args.get("next", "/"))
        response = flask.redirect(start.url, 302)
        self._set_cookie(
            response, self._pending_cookie, start.pending_id, self._callback_path, SIGN_IN_TIMEOUT
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    def _callback(self) -> Response:
        """GET the callback: the session (under a new id) and the redirect to ``next``; 400
        and nothing created for a callback without its pending sign-in."""
        request = flask.request
        try:
            pending_id = request.cookies.get(self._pending_cookie)
            signed_in = self.sessions.complete(pending_id, request.args)
        except CallbackError as exc:
            log.info("a sign-in callback was refused (%s): %s", exc.reason, exc)
            message = (
                "Cognito did not sign you in. Please sign in again."
                if exc.reason == "denied"
                else "This sign-in was not started here, or it expired. Please sign in again."
            )
            response = self._answer(400, "invalid_request", message)
        except CognitoConnectionError as exc:  # the store or Cognito
            response = self._unavailable(exc)
        else:
            response = flask.redirect(signed_in.next_path, 302)
            self._set_cookie(response, self._cookie_name, signed_in.session_id, "/", None)
            response.headers["Cache-Control"] = "no-store"
        self._delete_cookie(response, self._pending_cookie, self._callback_path)
        return response

    def _sign_out(self) -> Response:
        """POST ``logout_path`` from this app's origin: the session ended (its refresh token
        revoked), its cookie cleared, and the redirect to Cognito's ``/logout``."""
        request = flask.request
        refusal = sign_out_refusal(
            request.method,
            request.headers.get("Origin"),
            request.headers.get("Referer"),
            self.sessions.origin,
        )
        if refusal == 405:
            allow = {"Allow": "POST"}
            return self._answer(405, "method_not_allowed", "Sign out with a POST.", allow)
        if refusal is not None:
            return self._answer(403, "forbidden", "This sign-out did not come from this site.")
        url = self.sessions.end(request.cookies.get(self._cookie_name))
        response = flask.redirect(url, 303)
        self._delete_cookie(response, self._cookie_name, "/")
        response.headers["Cache-Control"] = "no-store"
        return response


# -- login_required -----------------------------------------------------------------------------


@overload
def login_required(view: View, /) -> View: ...
@overload
def login_required(*, groups: Union[str, Iterable[str], None] = None) -> Callable[[View], View]: ...


def login_required(
    view: Optional[View] = None, /, *, groups: Union[str, Iterable[str], None] = None
) -> Any:
    """A decorator: the view runs only for a signed-in user (of the app's
    :class:`CognitoLogin`), whose tokens are refreshed first when due.

    ``@login_required``, ``@login_required()`` and ``@login_required(groups=["admin"])``:
    ``groups`` (a space-separated string or a list) admits only users in at least one of
    them (their ID token's ``cognito:groups``); others get a 403. Without a session, or once
    it ended (its refresh token expired or revoked, a timeout), a browser is sent to sign in
    and comes back to the page; a client that prefers JSON gets a 401.

    Put ``@app.route`` (or ``@app.get``...) above this decorator: below it, the route would
    be served open, which is a ``TypeError`` where it can be seen (as for
    :func:`~cognito_helper.flask.require_token`). Bad ``groups`` raise ``ValueError`` or
    ``TypeError`` here; a request to an app without a CognitoLogin raises
    :class:`ConfigError` (Flask answers 500).
    """
    if view is not None and not callable(view):
        raise TypeError(
            "login_required takes its options as keywords, e.g. "
            f"@login_required(groups=[...]), not {type(view).__name__} {view!r}"
        )
    wanted = option_set("groups", groups)

    def decorate(view: View) -> View:
        guard_in_order(view, "login_required", "a signed-in user")
        return _signed_in_view(view, wanted)

    return decorate if view is None else decorate(view)


def _refusal(groups: Optional[FrozenSet[str]]) -> Optional[Response]:
    login = flask.current_app.extensions.get(EXTENSION)
    if not isinstance(login, CognitoLogin):
        raise ConfigError(
            "login_required needs a CognitoLogin on this app: CognitoLogin(app, config=...) "
            "or CognitoLogin(config=...).init_app(app)"
        )
    return login._admit(groups)


def _signed_in_view(view: View, groups: Optional[FrozenSet[str]]) -> View:
    """``view``, run only once :func:`_refusal` found nothing to refuse."""
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def signed_in_async(*args: Any, **kwargs: Any) -> Any:
            refused = _refusal(groups)
            if refused is not None:
                return refused
            return await view(*args, **kwargs)

        return cast(View, signed_in_async)

    @functools.wraps(view)
    def signed_in(*args: Any, **kwargs: Any) -> Any:
        refused = _refusal(groups)
        if refused is not None:
            return refused
        return view(*args, **kwargs)

    return cast(View, signed_in)
