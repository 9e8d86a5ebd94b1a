"""A FastAPI app with signed-in pages and a JSON API in one, on Amazon Cognito through
cognito_helper. Copy and adapt.

    pip install ".[fastapi]"
    cognito-helper demo --serve        # in another shell: a local Cognito; copy its exports
    export COGNITO_...                 # the COGNITO_* lines it printed
    python examples/fastapi_web.py     # then open http://localhost:5000/ (user demo)

The pages use a cookie: CognitoLogin signs the user in through the hosted UI and keeps the
tokens on the server (the browser holds an opaque session id). The API uses bearer tokens:
CognitoBearer verifies the access token each request carries, and never reads the cookie, so
no other site's page can call it in the user's name. The app serves on the port of
COGNITO_REDIRECT_URI (demo's: http://localhost:5000/cognito_redirect), on 127.0.0.1. With
your own pool, register that callback URL and the sign-out URL (COGNITO_LOGOUT_URI) with
the app client. Without the variables it says what to run, and exits with status 2.

  GET  /                   signed in or out
  GET  /account            a signed-in page: the user's claims, and userInfo read with a
                           fresh access token (refreshed when due); signs in first if needed
  GET  /login?next=/path   sign-in; the callback (/cognito_redirect); POST /logout sign-out
  GET  /api/me             JSON: the caller of an "Authorization: Bearer <access token>"
"""

# No "from __future__ import annotations": FastAPI reads the routes' annotations, and they
# name the local `login` and `bearer`.
import sys
import time
from html import escape
from typing import Annotated, Any, Dict, Optional
from urllib.parse import urlsplit

from fastapi import Depends, FastAPI
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool

from cognito_helper import CognitoConfig, ConfigError, decode_unverified, get_user_info
from cognito_helper.fastapi import CognitoBearer, add_exception_handler
from cognito_helper.sessions import Session
from cognito_helper.starlette import CognitoLogin

Claims = Dict[str, Any]
HOST = "127.0.0.1"  # loopback only; put a reverse proxy with TLS in front in production
SIGN_OUT = '<form method="post" action="/logout"><button id="logout">Sign out</button></form>'


def page(title: str, body: str) -> str:
    """A whole HTML page (``body`` is HTML: escape what goes into it)."""
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f'</head><body><h1>{title}</h1>{body}<p><a href="/">Home</a></p></body></html>'
    )


def create_app(config: CognitoConfig) -> FastAPI:
    """The app for ``config``: its pool, app client, callback and sign-out URLs."""
    login = CognitoLogin(config)  # the pages: a session cookie (sessions in this process)
    bearer = CognitoBearer(config=config)  # the API: access tokens of the same app client
    app = FastAPI(title="Pages and an API (cognito_helper example)")
    app.include_router(login.router)
    add_exception_handler(app)  # API refusals: {"error": ..., "error_description": ...}

    @app.get("/", response_class=HTMLResponse)
    async def home(session: Annotated[Optional[Session], Depends(login.session)]) -> str:
        if session is None:
            link = '<a id="login" href="/login?next=/account">Sign in</a>'
            return page("Home", f'<p id="status">You are signed out.</p>{link}')
        name = escape(str(session.user.get("cognito:username")))
        status = f'<p id="status">Signed in as {name}.</p>'
        return page("Home", f'{status}<a href="/account">Your account</a>{SIGN_OUT}')

    @app.get("/account", response_class=HTMLResponse)
    async def account(
        user: Annotated[Claims, Depends(login.current_user)],
        token: Annotated[str, Depends(login.access_token)],
    ) -> str:
        # get_user_info is a blocking HTTP call: a worker thread keeps the loop free.
        info = await run_in_threadpool(get_user_info, token, config=config)
        expires = int(decode_unverified(token)[1]["exp"])  # display only: it was verified
        groups = ", ".join(user.get("cognito:groups", [])) or "none"
        rows = [
            ("username", user.get("cognito:username")),
            ("email", info.get("email")),
            ("groups", groups),
        ]
        table = "".join(f'<tr><th>{k}</th><td id="{k}">{escape(str(v))}</td></tr>' for k, v in rows)
        until = time.strftime("%H:%M:%S", time.localtime(expires))
        exp = f'<p>Access token valid until <span id="access-exp" data-exp="{expires}">{until}'
        return page("Your account", f"<table>{table}</table>{exp}</span></p>{SIGN_OUT}")

    @app.get("/api/me")
    async def api_me(claims: Annotated[Claims, Depends(bearer)]) -> Claims:
        return {"sub": claims["sub"], "username": claims.get("username")}

    return app


def main() -> int:
    """Serve the app with uvicorn on the port of ``COGNITO_REDIRECT_URI``; the exit status."""
    try:
        import uvicorn
    except ImportError:
        print("error: the example runs on uvicorn: pip install '.[fastapi]'", file=sys.stderr)
        return 2
    try:
        config = CognitoConfig.from_env(otherwise="run `cognito-helper demo --serve`")
        app = create_app(config)
    except ConfigError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        print("hint: `cognito-helper demo --serve` prints the COGNITO_* lines", file=sys.stderr)
        return 2
    callback = urlsplit(config.redirect_uri or "")
    port = callback.port or (443 if callback.scheme == "https" else 80)
    print(f" * open {callback.scheme}://{callback.hostname}:{port}/", flush=True)
    # No access log: the callback's query carries the authorization code.
    uvicorn.run(app, host=HOST, port=port, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
