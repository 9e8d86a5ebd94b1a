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
no session (or it ended) on a page that      a browser (text/html named, not below JSON:
needs one                                    :func:`~cognito_helper.sessions.accepts_html`):
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
from typing import (
    Any,
    Callable,
    Dict,
    FrozenSet,
    Iterable,
    Optional,
    Tuple,
    TypeVar,
    Union,
    cast,
    overload,
)
from urllib.parse import urlsplit

import flask
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
    cookie_value,
    safe_next,
    sign_out_refusal,
)
from ..settings.config import CognitoConfig
from ..verification.claims import Asked, check_asked, option_set
from .flask import guard_in_order, watch
from .flask_answers import (
    SIGN_IN,
    answer,
    delete_cookie,
    set_cookie,
    to_sign_in,
    unavailable,
)

__all__ = ["CognitoLogin", "login_required"]

log = logging.getLogger("cognito_helper")

View = TypeVar("View", bound=Callable[..., Any])

#: Where an app keeps its CognitoLogin (``app.extensions``).
EXTENSION = "cognito_helper.login"
_CALLBACK, _SIGN_OUT = "cognito_callback", "cognito_sign_out"
# Kept in the request's WSGI environ: this request's session, and whether its cookie is stale.
_LOADED, _STALE = "cognito_helper.session", "cognito_helper.stale_cookie"
_FINISHED = "cognito_helper.finished"
_COOKIE_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}")  # an RFC 6265 token


def _environ() -> Dict[str, Any]:
    """The current request's WSGI environ (read through the proxy's object, once)."""
    request = flask.request._get_current_object()  # type: ignore[attr-defined]
    return cast(Dict[str, Any], request.environ)


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
        app.add_url_rule(self._login_path, SIGN_IN, self._sign_in, methods=["GET"])
        app.add_url_rule(self._callback_path, _CALLBACK, self._callback, methods=["GET"])
        app.add_url_rule(self._logout_path, _SIGN_OUT, self._sign_out, methods=["POST"])
        app.register_error_handler(SessionEndedError, self._on_ended)
        app.register_error_handler(SessionStoreUnavailableError, self._unavailable)
        app.extensions[EXTENSION] = self
        watch(app)

    # -- the current request --------------------------------------------------------------

    def _current(self, environ: Optional[Dict[str, Any]] = None) -> Optional[Session]:
        """This request's session (loaded once per request), or ``None``. Given the
        ``environ``, the caller finishes the response itself (``login_required``); else the
        first call of a request has its response finished by :meth:`_finish`."""
        if environ is None:
            environ = _environ()
            if _LOADED not in environ:
                self._finish_later(environ)
        if _LOADED in environ:
            return cast(Optional[Session], environ[_LOADED])
        session_id = cookie_value(environ.get("HTTP_COOKIE"), self._cookie_name)
        session = self.sessions.load(session_id) if session_id else None
        environ[_LOADED] = session
        if session_id and session is None:
            environ[_STALE] = True
        return session

    def _ended(self) -> Dict[str, Any]:
        """The session of this request has ended: forget it, and its cookie. Its environ."""
        environ = _environ()
        environ[_LOADED] = None
        environ[_STALE] = True
        return environ

    def _finish_later(self, environ: Dict[str, Any]) -> None:
        """Have this request's response go through :meth:`_finish` (a plain function: Flask
        asks each one whether it is a coroutine function, which is quick for a function)."""

        def finish(response: Response) -> Response:
            return self._finish(environ, response)

        flask.after_this_request(finish)

    def _cookie(self, name: str) -> Optional[str]:
        return cookie_value(flask.request.environ.get("HTTP_COOKIE"), name)

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

    def _admit(
        self, environ: Dict[str, Any], groups: Optional[FrozenSet[str]]
    ) -> Optional[Response]:
        """``None`` to serve the page, or the answer of a request :func:`login_required`
        refuses. A due refresh runs here, so a revoked session ends before the page."""
        try:
            session = self._current(environ)
            if session is not None:
                session.access_token()
        except SessionEndedError:
            self._ended()
            session = None
        except CognitoConnectionError as exc:
            return unavailable(exc)
        if session is None:
            return to_sign_in()
        if groups is not None:
            try:
                check_asked(session.user, "id", Asked(groups=groups))
            except InvalidClaimsError:
                return answer(403, "forbidden", "Your account may not open this page.")
        return None

    # -- the answers (flask_answers) ------------------------------------------------------

    def _on_ended(self, exc: SessionEndedError) -> Response:
        return self._finish(self._ended(), to_sign_in())

    def _unavailable(self, exc: SessionStoreUnavailableError) -> Response:
        return unavailable(exc)

    def _finish(self, environ: Dict[str, Any], response: Response) -> Response:
        """The response of a request that looked its session up (once): ``Vary: Cookie``
        (its content depends on the cookie), and the cookie of a session that is gone
        (ended, timed out, unknown) cleared."""
        if _FINISHED not in environ:
            environ[_FINISHED] = True
            response.headers.add("Vary", "Cookie")
        if environ.pop(_STALE, False):
            delete_cookie(response, self.sessions.cookie, self._cookie_name, "/")
        return response

    # -- the routes -----------------------------------------------------------------------

    @property
    def _pending_cookie(self) -> str:
        return f"{self._cookie_name}_signin"

    def _sign_in(self) -> Response:
        """GET ``login_path``: a pending sign-in and the redirect to the hosted UI."""
        start = self.sessions.begin(flask.request.args.get("next", "/"))
        response = flask.redirect(start.url, 302)
        cookie, pending_id = self.sessions.cookie, start.pending_id
        set_cookie(
            response, cookie, self._pending_cookie, pending_id, self._callback_path, SIGN_IN_TIMEOUT
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    def _callback(self) -> Response:
        """GET the callback: the session (under a new id) and the redirect to ``next``; 400
        and nothing created for a callback without its pending sign-in."""
        request = flask.request
        try:
            pending_id = self._cookie(self._pending_cookie)
            signed_in = self.sessions.complete(pending_id, request.args)
        except CallbackError as exc:
            log.info("a sign-in callback was refused (%s): %s", exc.reason, exc)
            message = (
                "Cognito did not sign you in. Please sign in again."
                if exc.reason == "denied"
                else "This sign-in was not started here, or it expired. Please sign in again."
            )
            response = answer(400, "invalid_request", message)
        except CognitoConnectionError as exc:  # the store or Cognito
            response = unavailable(exc)
        else:
            response = flask.redirect(signed_in.next_path, 302)
            session_id = signed_in.session_id
            set_cookie(response, self.sessions.cookie, self._cookie_name, session_id, "/", None)
            response.headers["Cache-Control"] = "no-store"
        delete_cookie(response, self.sessions.cookie, self._pending_cookie, self._callback_path)
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
            return answer(405, "method_not_allowed", "Sign out with a POST.", allow)
        if refusal is not None:
            return answer(403, "forbidden", "This sign-out did not come from this site.")
        url = self.sessions.end(self._cookie(self._cookie_name))
        response = flask.redirect(url, 303)
        delete_cookie(response, self.sessions.cookie, self._cookie_name, "/")
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


def _login() -> Tuple[flask.Flask, CognitoLogin, Dict[str, Any]]:
    """The current app, its CognitoLogin (:class:`ConfigError` without one) and the
    request's environ."""
    # The proxy's object, read once: each attribute read through the proxy costs a lookup.
    app = flask.current_app._get_current_object()  # type: ignore[attr-defined]
    login = app.extensions.get(EXTENSION)
    if not isinstance(login, CognitoLogin):
        raise ConfigError(
            "login_required needs a CognitoLogin on this app: CognitoLogin(app, config=...) "
            "or CognitoLogin(config=...).init_app(app)"
        )
    return app, login, _environ()


def _signed_in_view(view: View, groups: Optional[FrozenSet[str]]) -> View:
    """``view``, run only once the app's CognitoLogin admitted the request; the response
    (the view's, or the refusal) finished by it here, as Flask would make it."""
    if inspect.iscoroutinefunction(view):

        @functools.wraps(view)
        async def signed_in_async(*args: Any, **kwargs: Any) -> Any:
            app, login, environ = _login()
            refused = login._admit(environ, groups)
            if refused is not None:
                return login._finish(environ, refused)
            response = app.make_response(await view(*args, **kwargs))
            return login._finish(environ, response)

        return cast(View, signed_in_async)

    @functools.wraps(view)
    def signed_in(*args: Any, **kwargs: Any) -> Any:
        app, login, environ = _login()
        refused = login._admit(environ, groups)
        if refused is not None:
            return login._finish(environ, refused)
        return login._finish(environ, app.make_response(view(*args, **kwargs)))

    return cast(View, signed_in)
