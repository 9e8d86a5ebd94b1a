"""Starlette and FastAPI: a signed-in web app on the sessions core (:mod:`cognito_helper.sessions`).

::

    from typing import Annotated, Any, Dict

    from fastapi import Depends, FastAPI
    from cognito_helper.starlette import CognitoLogin

    login = CognitoLogin()             # the configured pool; sessions in this process's memory
    app = FastAPI()
    app.include_router(login.router)   # /login, the callback (redirect_uri's path), /logout

    @app.get("/")
    async def home(user: Annotated[Dict[str, Any], Depends(login.current_user)]):
        return {"hello": user["cognito:username"]}

A plain Starlette app puts ``*login.routes`` in its routes and awaits
``login.current_user(request)`` and ``login.access_token(request)`` in an endpoint.

Every rule is the core's, so Flask, Django and Starlette answer alike: the browser holds an
opaque id in an ``HttpOnly`` cookie (:func:`~cognito_helper.sessions.cookie_settings`), set
by these routes themselves (Starlette's ``SessionMiddleware``, a signed cookie, is not used);
``next`` stays on this app; a callback this browser did not start is a 400 that creates
nothing; sign-out is a same-origin POST. No answer depends on more than the request.

The event loop never waits for the network. The code exchange, a refresh and the revocation
run in a worker thread (``run_in_threadpool``), and so does every call to a store other than
the default :class:`~cognito_helper.sessions.MemorySessionStore` (Redis). What stays on the
loop takes microseconds: reading a session from process memory and handing out an access
token that is not due for a refresh (:meth:`Session.access_token_if_fresh`). A refresh in
progress holds its session's lock in a worker thread: other requests, the same session's
included, are served meanwhile (the same session's get the token held while it is valid).

Needs the ``fastapi`` extra (Starlette alone serves :attr:`CognitoLogin.routes`; the
:attr:`CognitoLogin.router` is FastAPI's); ``import cognito_helper`` never imports either.
"""

import logging
import re
from types import MappingProxyType
from typing import (
    TYPE_CHECKING,
    Any,
    Awaitable,
    Callable,
    Dict,
    Iterable,
    List,
    Literal,
    Optional,
    TypeVar,
    Union,
    cast,
)
from urllib.parse import quote, urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import Receive, Scope, Send

from ..core.errors import CognitoConnectionError, InvalidClaimsError
from ..sessions import (
    SIGN_IN_TIMEOUT,
    CallbackError,
    CognitoSessions,
    MemorySessionStore,
    RevocationList,
    Session,
    SessionEndedError,
    SessionStore,
    SessionStoreUnavailableError,
    accepts_html,
    safe_next,
    sign_out_refusal,
)
from ..settings.config import CognitoConfig
from ..verification.claims import Asked, check_asked, option_set

if TYPE_CHECKING:
    from fastapi import APIRouter

__all__ = ["CognitoLogin"]

log = logging.getLogger("cognito_helper")

Claims = Dict[str, Any]
UserDependency = Callable[[Request], Awaitable[Claims]]
T = TypeVar("T")

#: Where a request's session is kept once loaded (its ASGI scope): one store read per request,
#: however many dependencies ask.
_SESSION_KEY = "cognito_helper.session"
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,128}")
_SameSite = Literal["lax", "strict", "none"]
_NO_STORE = MappingProxyType({"Cache-Control": "no-store"})
_UNAVAILABLE_HEADERS = MappingProxyType(
    {"Retry-After": f"{SessionStoreUnavailableError.retry_after}", **_NO_STORE}
)
_UNAVAILABLE = "The sign-in service is unavailable. Try again in a moment."
_CALLBACK_REFUSED = "This sign-in could not be completed. Sign in again."
_SIGN_IN_FIRST = "Sign in first."


def _path_option(name: str, value: object) -> str:
    """A route path option: a path on this app (the core's :func:`safe_next` rule) without a
    query or fragment."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a path string such as '/login'")
    if value == "/" or safe_next(value) != value or "?" in value or "#" in value:
        raise ValueError(f"{name} must be a path on this app such as '/login', got {value!r}")
    return value


def _cookie_name(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("cookie_name must be a string")
    if not _COOKIE_NAME.fullmatch(value):
        raise ValueError(
            f"cookie_name must be 1 to 128 letters, digits or !#$%&'*+-.^_`|~, got {value!r}"
        )
    return value


def _same_site(value: str) -> _SameSite:
    """The core's ``SameSite`` value (``"Lax"``) as Starlette takes it: Starlette checks it
    case-insensitively and writes it as given, so the header says ``Lax`` as in Flask and
    Django."""
    return cast(_SameSite, value)


def _requested(request: Request) -> str:
    """The path and query the browser asked for, as it sent them (percent-encoded)."""
    raw = request.scope.get("raw_path")
    if isinstance(raw, bytes) and raw.startswith(b"/"):
        path = raw.split(b"?", 1)[0].decode("latin-1")
    else:
        path = quote(request.url.path)
    query = request.url.query
    return f"{path}?{query}" if query else path


class _AnyMethod:
    """An ASGI endpoint that answers every method (Starlette routes an endpoint function to
    GET alone), so that sign-out decides itself: 405 for anything but POST."""

    def __init__(self, endpoint: Callable[[Request], Awaitable[Response]]) -> None:
        self._endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self._endpoint(Request(scope, receive, send))
        await response(scope, receive, send)


class CognitoLogin:
    """Sign-in through the hosted UI for a Starlette or FastAPI app: routes and dependencies.

    ``config`` (default: the configured pool) needs ``redirect_uri`` (the callback, on this
    app), ``logout_uri`` and the ``openid`` scope. ``store`` (default: a
    :class:`~cognito_helper.sessions.MemorySessionStore`, one process; a
    :class:`~cognito_helper.sessions.RedisSessionStore` for a fleet), ``idle_timeout``
    (default 8 h), ``refresh_margin`` (default 60 s) and ``revocations`` (a
    :class:`~cognito_helper.sessions.RevocationList` that gets each signed-out session's
    tokens) are :class:`~cognito_helper.sessions.CognitoSessions`'. ``cookie_name`` is the
    session cookie's (the pending sign-in's is ``<cookie_name>_signin``); ``login_path`` and
    ``logout_path`` are the routes' paths as the browser sees them.

    * :attr:`routes` (Starlette) and :attr:`router` (FastAPI: ``app.include_router``): the
      sign-in (``login_path``, ``GET ?next=/path``), the callback (``redirect_uri``'s path)
      and sign-out (``logout_path``, a same-origin POST);
    * :attr:`current_user` and :meth:`login_required` (``groups=``): dependencies whose value
      is the signed-in user's ID-token claims;
    * :meth:`access_token`: a dependency whose value is a valid access token, refreshed when
      due; :meth:`session`: the request's :class:`~cognito_helper.sessions.Session` or
      ``None``.

    Raises :class:`~cognito_helper.errors.ConfigError` for a config that cannot run a
    signed-in app, ``TypeError`` and ``ValueError`` for bad options.
    """

    def __init__(
        self,
        config: Optional[CognitoConfig] = None,
        *,
        store: Optional[SessionStore] = None,
        idle_timeout: float = 8 * 3600,
        refresh_margin: float = 60,
        revocations: Optional[RevocationList] = None,
        cookie_name: str = "cognito_session",
        login_path: str = "/login",
        logout_path: str = "/logout",
    ) -> None:
        self._sessions = CognitoSessions(
            config,
            store=store,
            idle_timeout=idle_timeout,
            refresh_margin=refresh_margin,
            revocations=revocations,
        )
        self._cookie_name = _cookie_name(cookie_name)
        self._pending_cookie = f"{self._cookie_name}_signin"
        callback = urlsplit(self._sessions.config.redirect_uri or "").path or "/"
        self._login_path = _path_option("login_path", login_path)
        self._logout_path = _path_option("logout_path", logout_path)
        paths = (self._login_path, self._logout_path, callback)
        if len(set(paths)) != len(paths):
            raise ValueError(
                f"login_path, logout_path and the callback (redirect_uri's path) must differ, "
                f"got {paths!r}"
            )
        # Reading process memory takes microseconds: done on the loop; any other store may
        # do I/O (Redis), so every call to it goes to a worker thread.
        self._store_on_loop = type(self._sessions.store) is MemorySessionStore
        self._routes: List[BaseRoute] = [
            Route(self._login_path, self._login, methods=["GET"], name="cognito_login"),
            Route(callback, self._callback, methods=["GET"], name="cognito_callback"),
            Route(self._logout_path, _AnyMethod(self._logout), name="cognito_logout"),
        ]
        self._router: Optional[APIRouter] = None
        self._cleared_cookie = self._cleared_cookie_header()
        #: The dependency whose value is the signed-in user's ID-token claims.
        self.current_user: UserDependency = self.login_required()

    # -- what it is -----------------------------------------------------------------------

    @property
    def sessions(self) -> CognitoSessions:
        """The sessions core this integration runs on."""
        return self._sessions

    @property
    def config(self) -> CognitoConfig:
        """The app client's configuration."""
        return self._sessions.config

    @property
    def routes(self) -> List[BaseRoute]:
        """The sign-in, callback and sign-out routes, for ``Starlette(routes=[...])``."""
        return list(self._routes)

    @property
    def router(self) -> "APIRouter":
        """The same routes as a FastAPI ``APIRouter``, for ``app.include_router()``."""
        if self._router is None:
            from fastapi import APIRouter

            self._router = APIRouter(routes=self.routes)
        return self._router

    def __repr__(self) -> str:
        return (
            f"CognitoLogin(client_id={self.config.client_id!r}, "
            f"store={self._sessions.store!r}, cookie_name={self._cookie_name!r})"
        )

    # -- dependencies ---------------------------------------------------------------------

    async def session(self, request: Request) -> Optional[Session]:
        """The request's :class:`~cognito_helper.sessions.Session`, or ``None`` (no cookie,
        no such session, timed out): for a page that shows either state. Loaded once per
        request. A FastAPI dependency too. Raises ``HTTPException`` 503 (``Retry-After``)
        when the store cannot be reached.
        """
        scope = request.scope
        if _SESSION_KEY in scope:
            loaded: Optional[Session] = scope[_SESSION_KEY]
            return loaded
        session_id = request.cookies.get(self._cookie_name)
        loaded = None
        if session_id is not None:
            try:
                loaded = await self._run(self._store_on_loop, self._sessions.load, session_id)
            except CognitoConnectionError:
                raise self._unavailable_error() from None
        scope[_SESSION_KEY] = loaded
        return loaded

    def login_required(self, *, groups: Union[str, Iterable[str], None] = None) -> UserDependency:
        """A dependency whose value is the signed-in user's ID-token claims (a copy).

        Without a session, a browser asking for a page (:func:`sessions.accepts_html`) is
        redirected to sign in and comes back; any other client gets a 401. With ``groups``
        (a list, or a space-separated string), a user in none of them gets a 403 (the
        library's rule for ``groups``). Raised as ``HTTPException``s, which FastAPI and
        Starlette answer without a handler. ``ValueError``/``TypeError`` for bad ``groups``.
        """
        wanted = option_set("groups", groups)
        asked = None if wanted is None else Asked(groups=wanted)

        async def current_user(request: Request) -> Claims:
            session = await self.session(request)
            if session is None:
                raise self._sign_in_required(request)
            user = session.user
            if asked is not None:
                try:
                    check_asked(user, "id", asked)
                except InvalidClaimsError:
                    raise HTTPException(403, "You may not see this page.") from None
            return user

        return current_user

    async def access_token(self, request: Request) -> str:
        """A dependency (or a method to await) whose value is a valid access token of the
        signed-in user, refreshed when fewer than ``refresh_margin`` seconds are left.

        The refresh runs in a worker thread, once per session at a time. Without a session,
        or when it has ended (refresh token expired or revoked: the cookie is cleared), the
        answer of :meth:`login_required`; Cognito or the store unreachable: a 503.
        """
        session = await self.session(request)
        if session is None:
            raise self._sign_in_required(request)
        token = session.access_token_if_fresh()
        if token is not None:
            return token
        try:
            return await run_in_threadpool(session.access_token)
        except SessionEndedError:
            request.scope[_SESSION_KEY] = None
            raise self._sign_in_required(request) from None
        except CognitoConnectionError:
            raise self._unavailable_error() from None

    # -- routes ---------------------------------------------------------------------------

    async def _login(self, request: Request) -> Response:
        """Start a sign-in that returns to ``?next=`` (a path on this app, else ``/``)."""
        next_path = request.query_params.get("next", "/")
        try:
            start = await self._run(self._store_on_loop, self._sessions.begin, next_path)
        except CognitoConnectionError:
            return self._unavailable()
        response = RedirectResponse(start.url, status_code=302, headers=_NO_STORE)
        self._set_cookie(response, self._pending_cookie, start.pending_id, SIGN_IN_TIMEOUT)
        return response

    async def _callback(self, request: Request) -> Response:
        """Complete the sign-in this browser started: a new session under a new id."""
        pending_id = request.cookies.get(self._pending_cookie)
        try:
            signed_in = await run_in_threadpool(
                self._sessions.complete, pending_id, request.query_params
            )
        except CallbackError as exc:
            log.info("a sign-in callback was refused (%s)", exc.reason)
            response: Response = PlainTextResponse(_CALLBACK_REFUSED, 400, headers=_NO_STORE)
        except CognitoConnectionError:
            return self._unavailable()  # the pending sign-in may still be there: keep it
        else:
            response = RedirectResponse(signed_in.next_path, status_code=302, headers=_NO_STORE)
            self._set_cookie(response, self._cookie_name, signed_in.session_id)
        self._clear_cookie(response, self._pending_cookie)  # used up, whatever the outcome
        return response

    async def _logout(self, request: Request) -> Response:
        """Sign out (a same-origin POST): revoke, delete, clear, then Cognito's ``/logout``."""
        headers = request.headers
        refusal = sign_out_refusal(
            request.method, headers.get("origin"), headers.get("referer"), self._sessions.origin
        )
        if refusal == 405:
            return PlainTextResponse("Sign out with a POST.", 405, headers={"Allow": "POST"})
        if refusal is not None:
            return PlainTextResponse("This sign-out did not come from this app.", refusal)
        session_id = request.cookies.get(self._cookie_name)
        try:
            logout_url = await run_in_threadpool(self._sessions.end, session_id)
        except CognitoConnectionError:
            return self._unavailable()  # nothing was deleted: the cookie stays
        response = RedirectResponse(logout_url, status_code=303, headers=_NO_STORE)
        self._clear_cookie(response, self._cookie_name)
        return response

    # -- answers and cookies --------------------------------------------------------------

    @staticmethod
    async def _run(on_loop: bool, call: Callable[..., T], *args: Any) -> T:
        return call(*args) if on_loop else await run_in_threadpool(call, *args)

    def _sign_in_required(self, request: Request) -> HTTPException:
        """What a request that needs a session and has none gets: a browser's page request a
        redirect to sign in that comes back to it, anything else a 401; a session cookie it
        carried (ended, unknown) is cleared."""
        headers = dict(_NO_STORE)
        if self._cookie_name in request.cookies:
            headers["Set-Cookie"] = self._cleared_cookie
        if not accepts_html(request.headers.get("accept")):
            return HTTPException(401, _SIGN_IN_FIRST, headers=headers)
        headers["Location"] = f"{self._login_path}?{urlencode({'next': _requested(request)})}"
        return HTTPException(302, _SIGN_IN_FIRST, headers=headers)

    @staticmethod
    def _unavailable_error() -> HTTPException:
        return HTTPException(503, _UNAVAILABLE, headers=_UNAVAILABLE_HEADERS)

    @staticmethod
    def _unavailable() -> Response:
        return PlainTextResponse(_UNAVAILABLE, 503, headers=_UNAVAILABLE_HEADERS)

    def _set_cookie(
        self, response: Response, name: str, value: str, max_age: Optional[int] = None
    ) -> None:
        """Set a cookie with the core's attributes (:func:`sessions.cookie_settings`)."""
        cookie = self._sessions.cookie
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=cookie.path,
            secure=cookie.secure,
            httponly=cookie.http_only,
            samesite=_same_site(cookie.same_site),
        )

    def _clear_cookie(self, response: Response, name: str) -> None:
        cookie = self._sessions.cookie
        response.delete_cookie(
            name,
            path=cookie.path,
            secure=cookie.secure,
            httponly=cookie.http_only,
            samesite=_same_site(cookie.same_site),
        )

    def _cleared_cookie_header(self) -> str:
        """The ``Set-Cookie`` value that clears the session cookie (for an exception's
        headers, which hold one value per name)."""
        response = Response()
        self._clear_cookie(response, self._cookie_name)
        return response.headers["set-cookie"]
