"""A Flask app behind Amazon Cognito's hosted UI, built on cognito_helper. Copy and adapt.

    pip install ".[flask]" && python examples/flask_app.py      # then open http://localhost:5000/

With no configuration it runs against an embedded LocalCognito (no AWS account needed) and its
home page shows the demo user to sign in with. With the COGNITO_* variables set, or a
config.py (a copy of config.example.py) in the working directory, it uses your user pool:
register http://localhost:5000/cognito_redirect as a callback URL and http://localhost:5000/
as a sign-out URL of the app client. PORT=8080 changes the port (it warns when the configured
callback URL points elsewhere). A bad configuration is one line on stderr and exit status 2.
The development server's access log leaves out query strings: the callback's carry the code.

  /                  signed-in or signed-out state
  /login             start_login(): state, nonce and PKCE verifier go into the session
  /cognito_redirect  check state, exchange the code, verify the ID token with the nonce,
                     keep the tokens, redirect to a clean URL (no code in the address bar)
  /me                verify the access token on every request; refresh it when expired
  /logout (POST)     revoke the refresh token, clear the session, hosted-UI sign-out
"""

from __future__ import annotations

import hmac
import logging
import os
import re
import secrets
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, Optional, cast
from urllib.parse import urlsplit

from flask import Flask, Request, Response, redirect, render_template_string, request, session
from flask.sessions import SessionInterface, SessionMixin

from cognito_helper import (
    CognitoConfig,
    CognitoConnectionError,
    CognitoError,
    ConfigError,
    InvalidGrantError,
    TokenExchangeError,
    TokenExpiredError,
    TokenVerificationError,
    decode_verify_jwt,
    get_cognito_tokens,
    revoke_token,
)
from cognito_helper.testing import LocalCognito

DEMO_USERNAME, DEMO_PASSWORD, DEMO_EMAIL = "demo", "Demo-Passw0rd!", "demo@example.com"


# -- a server-side session ---------------------------------------------------------------
# Flask's default session is a signed cookie: everything in it travels to the browser.
# Tokens and the PKCE verifier must not, so the cookie holds only a random session id and
# the data stays in this process. With several processes, keep it in Redis or a database
# instead: only open_session and save_session change.


class ServerSession(dict, SessionMixin):  # type: ignore[type-arg]
    """One browser's session data; ``sid`` is its id, ``None`` until first saved."""

    def __init__(self, sid: Optional[str], data: Dict[str, Any]) -> None:
        super().__init__(data)
        self.sid = sid
        self.renew = False  # set on sign-in: a new id, so a planted one is worthless


class MemorySessionInterface(SessionInterface):
    """Sessions in memory, guarded by a lock, forgotten after ``idle_seconds`` unused."""

    def __init__(self, idle_seconds: float = 8 * 3600) -> None:
        self.idle_seconds = idle_seconds
        self._sessions: Dict[str, tuple[float, Dict[str, Any]]] = {}  # sid: (expiry, data)
        self._lock = threading.Lock()

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        sid = request.cookies.get(self.get_cookie_name(app))
        with self._lock:
            expiry, data = self._sessions.get(sid or "", (0.0, {}))
        if expiry < time.time():
            return ServerSession(None, {})
        return ServerSession(sid, dict(data))  # a copy: concurrent requests share nothing

    def save_session(self, app: Flask, session: Any, response: Response) -> None:
        name, path = self.get_cookie_name(app), self.get_cookie_path(app)
        domain = self.get_cookie_domain(app)
        with self._lock:
            if session.sid and (session.renew or not session):
                self._sessions.pop(session.sid, None)  # signed out, or signed in: new id
                session.sid = None
            if not session:  # signed out or never used: nothing on the server or the client
                if request.cookies.get(name):
                    response.delete_cookie(name, path=path, domain=domain)
                return
            now = time.time()
            if session.sid is None:
                session.sid = secrets.token_urlsafe(32)
                self._sessions = {k: v for k, v in self._sessions.items() if v[0] > now}
            # Last write wins if one browser runs two requests at once: fine for this data.
            self._sessions[session.sid] = (now + self.idle_seconds, dict(session))
        response.set_cookie(
            name,
            session.sid,
            path=path,
            domain=domain,
            httponly=True,  # page scripts cannot read it
            secure=self.get_cookie_secure(app),  # https only, when the app is served so
            samesite="Lax",  # other sites cannot POST with it (e.g. to /logout)
        )


# -- configuration -----------------------------------------------------------------------


def load_config() -> Optional[CognitoConfig]:
    """Your pool from the COGNITO_* variables or ./config.py; ``None`` when neither exists.

    Raises :class:`ConfigError` for anything wrong with either, including a config.py that
    fails to run.
    """
    if os.environ.get("COGNITO_USER_POOL_ID"):
        return CognitoConfig.from_env()
    if Path("config.py").is_file():
        return CognitoConfig.from_file("config.py")  # the library's one config-file loader
    return None


def _user(id_claims: Dict[str, Any]) -> Dict[str, Any]:
    """What the pages show about the user, from a verified ID token."""
    return {
        "sub": id_claims["sub"],
        "username": id_claims.get("cognito:username"),
        "email": id_claims.get("email"),
        "groups": id_claims.get("cognito:groups", []),
    }


# -- the app -----------------------------------------------------------------------------


def create_app(
    config: Optional[CognitoConfig] = None,
    local_cognito: Optional[LocalCognito] = None,
    *,
    app_url: str = "http://localhost:5000",
) -> Flask:
    """The app for ``config``; else for ``load_config()``; else for a LocalCognito.

    The LocalCognito is ``local_cognito`` (started, with this app's callback and sign-out
    URLs registered) or one started here for ``app_url``; the demo user is added to it.
    """
    demo = False
    if config is None and local_cognito is None:
        config = load_config()
    if config is None:
        if local_cognito is None:
            local_cognito = LocalCognito(
                redirect_uri=f"{app_url}/cognito_redirect", logout_uri=f"{app_url}/"
            ).start()
        local_cognito.add_user(
            DEMO_USERNAME, DEMO_PASSWORD, email=DEMO_EMAIL, groups=["demo-users"]
        )
        config, demo = local_cognito.config, True
    if not config.redirect_uri or not config.logout_uri:
        raise ConfigError("the app needs redirect_uri and logout_uri (COGNITO_REDIRECT_URI, ...)")
    cfg: CognitoConfig = config  # every call names it: several apps may share one process

    app = Flask(__name__)
    app.session_interface = MemorySessionInterface()
    app.config["SESSION_COOKIE_SECURE"] = config.redirect_uri.startswith("https:")

    def page(view: str, status: int = 200, **context: Any) -> tuple[str, int]:
        html = render_template_string(  # autoescaped: claims are shown safely
            PAGE,
            view=view,
            user=session.get("user"),
            demo=demo,
            cognito_url=cfg.domain,
            demo_username=DEMO_USERNAME,
            demo_password=DEMO_PASSWORD,
            **context,
        )
        return html, status

    @app.get("/")
    def home() -> Any:
        return page("home")

    @app.get("/login")
    def login() -> Any:
        start = cfg.start_login()  # fresh state, nonce and PKCE verifier
        session["login"] = {
            "state": start.state,
            "nonce": start.nonce,
            "verifier": start.code_verifier,
        }
        return redirect(start.url)

    @app.get("/cognito_redirect")
    def cognito_redirect() -> Any:
        pending = session.pop("login", None)  # one use: a replayed redirect finds nothing
        if "error" in request.args:  # e.g. a scope the app client does not allow
            reason = request.args.get("error_description") or request.args["error"]
            return page("error", 400, message=f"Cognito could not sign you in: {reason}")
        state = request.args.get("state", "").encode()
        if pending is None or not hmac.compare_digest(state, pending["state"].encode()):
            # Not a sign-in this browser started (or a different host name than the
            # callback URL, so the session cookie did not come back): never exchange it.
            return page("error", 400, message="This sign-in was not started here. Try again.")
        code = request.args.get("code")
        if not code:
            return page("error", 400, message="The redirect carries no code. Try again.")
        try:
            tokens = get_cognito_tokens(code, config=cfg, code_verifier=pending["verifier"])
            if tokens.id_token is None:
                raise ConfigError("no ID token: the app client must allow the openid scope")
            id_claims = decode_verify_jwt(
                tokens.id_token,
                config=cfg,
                token_use="id",
                nonce=pending["nonce"],  # this token answers this sign-in, not a replayed one
                access_token=tokens.access_token,
            )
        except InvalidGrantError:  # the code was used or is older than 5 minutes
            return page("error", 400, message="That sign-in expired. Please sign in again.")
        except TokenVerificationError:
            return page("error", 401, message="Cognito's answer did not verify. Try again.")
        cast(ServerSession, session).renew = True  # the proxy stands for a ServerSession
        session["user"] = _user(id_claims)
        session["tokens"] = {"access": tokens.access_token, "refresh": tokens.refresh_token}
        session["refreshes"] = 0
        return redirect("/me")  # a clean URL: no code in the address bar or the history

    def refresh_tokens() -> Dict[str, Any]:
        """New tokens from the refresh token; return the new access token's claims."""
        tokens = get_cognito_tokens(refresh_token=session["tokens"]["refresh"], config=cfg)
        access = decode_verify_jwt(tokens.access_token, config=cfg, token_use="access")
        if tokens.id_token is not None:
            id_claims = decode_verify_jwt(
                tokens.id_token, config=cfg, token_use="id", access_token=tokens.access_token
            )
            session["user"] = _user(id_claims)
        # With refresh-token rotation on, this is the new one; otherwise the same one.
        session["tokens"] = {"access": tokens.access_token, "refresh": tokens.refresh_token}
        session["refreshes"] = session.get("refreshes", 0) + 1
        return access

    @app.get("/me")
    def me() -> Any:
        if "tokens" not in session:
            return redirect("/login")
        try:
            # Verified on every request: signature, issuer, client, expiry, token_use.
            access = decode_verify_jwt(session["tokens"]["access"], config=cfg, token_use="access")
        except TokenExpiredError:
            try:
                access = refresh_tokens()
            except InvalidGrantError:  # refresh token expired or revoked: sign in again
                session.clear()
                return redirect("/login")
        except TokenVerificationError:  # never trust it; a new sign-in gets good tokens
            session.clear()
            return redirect("/login")
        minutes, seconds = divmod(max(0, int(access["exp"] - time.time())), 60)
        return page("me", access=access, expires_in=f"{minutes} min {seconds} s")

    @app.post("/logout")  # POST: a link or image on another site cannot sign people out
    def logout() -> Any:
        tokens = session.get("tokens")
        if tokens:
            try:
                revoke_token(tokens["refresh"], config=cfg)  # ends the session everywhere
            except CognitoError as exc:
                app.logger.warning("could not revoke the refresh token: %s", exc)
        session.clear()
        return redirect(cfg.logout_url())  # Cognito signs out, then sends the user to "/"

    @app.errorhandler(CognitoConnectionError)
    def cognito_unreachable(exc: CognitoConnectionError) -> Any:
        return page("error", 503, message="Cognito cannot be reached. Try again in a moment.")

    @app.errorhandler(TokenExchangeError)
    def cognito_refused(exc: TokenExchangeError) -> Any:
        app.logger.error("Cognito refused a request: %s", exc)
        return page("error", 502, message="Cognito refused the request (see the server log).")

    return app


PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8"><title>cognito_helper Flask example</title>
<style>
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 2rem auto;
         padding: 0 1rem; color: #1f2933; }
  header { display: flex; justify-content: space-between; align-items: center;
           border-bottom: 1px solid #d9e2ec; margin-bottom: 1.5rem; }
  .button { background: #2563eb; color: #fff; border: 0; border-radius: 6px; padding: .5rem 1rem;
            font: inherit; text-decoration: none; cursor: pointer; display: inline-block; }
  .note, .error { border-radius: 6px; padding: .75rem 1rem; }
  .note { background: #fef9c3; border: 1px solid #fde68a; }
  .error { background: #fee2e2; border: 1px solid #fca5a5; }
  table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
  th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #e4e7eb; }
  th { width: 12rem; color: #52606d; font-weight: 500; }
  code { font-size: .9em; }
  footer { margin-top: 2rem; color: #7b8794; font-size: .85em; }
</style>
</head>
<body>
<header>
  <h1>cognito_helper demo app</h1>
  {% if user %}
  <form method="post" action="/logout"><button id="logout" class="button">Sign out</button></form>
  {% endif %}
</header>

{% if view == "home" %}
  {% if user %}
    <p id="status">Signed in as <strong>{{ user.email or user.username }}</strong>.</p>
    <p><a id="me" class="button" href="/me">Your account</a></p>
  {% else %}
    <p id="status">You are signed out.</p>
    <p><a id="login" class="button" href="/login">Sign in</a></p>
  {% endif %}
  {% if demo %}
    <p class="note">No Cognito configured, so this app uses an embedded LocalCognito at
      <code>{{ cognito_url }}</code>. Sign in as <code id="demo-username">{{ demo_username }}</code>
      with password <code id="demo-password">{{ demo_password }}</code>.</p>
  {% endif %}

{% elif view == "me" %}
  <p id="status">Signed in as <strong id="email">{{ user.email }}</strong></p>
  <table>
    <tr><th>Username</th><td id="username">{{ user.username }}</td></tr>
    <tr><th>User id (sub)</th><td><code>{{ user.sub }}</code></td></tr>
    <tr><th>Groups</th><td>{{ user.groups | join(", ") or "none" }}</td></tr>
    <tr><th>Scopes</th><td>{{ access.scope }}</td></tr>
    <tr><th>Access token</th>
        <td id="access-exp" data-exp="{{ access.exp }}">verified on this request;
          expires in {{ expires_in }}</td></tr>
    <tr><th>Tokens refreshed</th><td id="refreshes">{{ session.refreshes }}</td></tr>
  </table>
  <p>The tokens stay on the server; this browser holds only a random session id.</p>

{% else %}
  <p class="error" id="error">{{ message }}</p>
  <p><a class="button" href="/">Home</a></p>
{% endif %}
<footer>Hosted UI: <code>{{ cognito_url }}</code>{% if demo %} (embedded LocalCognito: no AWS
  account involved){% endif %}</footer>
</body>
</html>
"""


# -- running it ---------------------------------------------------------------------------

HOST = "127.0.0.1"  # loopback only: this is Werkzeug's development server
CALLBACK_PATH = "/cognito_redirect"
_QUERY = re.compile(r"\?[^\s\"']*")


class OmitQueryStrings(logging.Filter):
    """Replaces every query string in a log line: the callback's carry the code and state."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "?" in message:
            record.msg, record.args = _QUERY.sub("?[omitted]", message), None
        return True


def read_port(value: str) -> int:
    """``$PORT`` as a TCP port number; :class:`ConfigError` for anything else."""
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= 65535:
        raise ConfigError(f"PORT must be a number from 1 to 65535, got {value!r}")
    return int(value)


def callback_warning(redirect_uri: str, port: int) -> Optional[str]:
    """Why Cognito's redirect to ``redirect_uri`` would not reach this app on ``HOST:port``.

    ``None`` when it will: plain http to localhost or 127.0.0.1, this port, ``CALLBACK_PATH``.
    """
    here = f"http://localhost:{port}{CALLBACK_PATH}"
    parts = urlsplit(redirect_uri)
    try:
        target_port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        target_port = None
    problems = []
    if parts.hostname not in ("localhost", "127.0.0.1"):
        problems.append(f"its host is {parts.hostname}, not localhost")
    elif parts.scheme != "http":
        problems.append("it is https, but this app serves plain http")
    wrong_port = parts.hostname in ("localhost", "127.0.0.1") and target_port != port
    if wrong_port:
        problems.append(f"its port is {target_port}, not {port}")
    if parts.path != CALLBACK_PATH:
        problems.append(f"its path is {parts.path or '/'}, not {CALLBACK_PATH}")
    if not problems:
        return None
    fix = (
        f"register {here} as a callback URL of the app client and set COGNITO_REDIRECT_URI "
        "(or redirect_uri in config.py) to it"
    )
    if wrong_port and len(problems) == 1:
        fix += f", or run with PORT={target_port}"
    return (
        f"warning: the callback URL {redirect_uri} does not reach this app at {here} "
        f"({'; '.join(problems)}), so sign-in will not come back here. To fix it, {fix}."
    )


def main() -> int:
    """Serve the app on ``HOST:$PORT``; return the exit status.

    A bad configuration (COGNITO_* variables, config.py or PORT) is one line on stderr and
    exit status 2. A configured callback URL that would not come back here is a warning.
    """
    try:
        port = read_port(os.environ.get("PORT", "5000"))
        config = load_config()
        flask_app = create_app(config, app_url=f"http://localhost:{port}")
    except ConfigError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    open_url = f"http://localhost:{port}/"
    if config is not None and config.redirect_uri:  # else the embedded LocalCognito: matches
        warning = callback_warning(config.redirect_uri, port)
        if warning:
            print(warning, file=sys.stderr, flush=True)
        else:  # the callback's host name: the session cookie is per host
            callback = urlsplit(config.redirect_uri)
            open_url = f"{callback.scheme}://{callback.netloc}/"
    logging.getLogger("werkzeug").addFilter(OmitQueryStrings())
    print(f" * open {open_url} (use this host name: the session cookie is per host)", flush=True)
    flask_app.run(host=HOST, port=port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
