"""``cognito-helper demo``: the whole hosted-UI flow against an embedded LocalCognito.

Without ``--serve`` it walks the flow through the library, one numbered step at a time, and
exits 0 only if every step behaved as expected; with ``--serve`` it keeps LocalCognito running
and prints the ``COGNITO_*`` variables that point an app (or the other commands) at it.
"""

from __future__ import annotations

import json
import secrets
import signal
import threading
import time
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Dict, Iterator, TextIO, Tuple
from urllib.parse import parse_qs, urlsplit

from .._version import __version__
from ..core.errors import ConfigError, InvalidGrantError
from ..settings.config import CognitoConfig
from ..settings.env import ENV_NAMES
from ..settings.hosted_ui import LoginRequest
from .commands import describe_time, write_exports
from .context import EXCHANGE_COMMAND, EXIT_OK, Context, DemoStepError, UsageError

if TYPE_CHECKING:
    from ..oauth.endpoints import Tokens
    from ..testing import LocalCognito

__all__ = ["DEFAULT_APP_URL", "run_demo"]

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "Demo-Passw0rd!"  # a LocalCognito test user: not a secret
DEMO_EMAIL = "demo@example.com"
DEFAULT_APP_URL = "http://localhost:5000"  # Flask's default port, as in config.example.py
# The confidential app client `demo --serve` offers for m2m-token, and its resource server's
# scopes (the only ones the client_credentials grant gives).
M2M_CLIENT_ID = "localm2mclient1234567890ab"
M2M_SCOPES = ("localapi/read", "localapi/write")


def run_demo(ctx: Context) -> int:
    """Start LocalCognito with the demo user; walk the flow, or serve until interrupted."""
    if ctx.config_path is not None:
        raise UsageError(
            "demo runs its own LocalCognito and takes no --config",
            hint="to use your pool, pass --config to login-url, exchange, refresh or verify; "
            "`cognito-helper demo --serve` prints the COGNITO_* variables of the local one",
        )
    lc = _local_cognito(ctx)
    try:
        lc.start()
    except OSError as exc:
        raise UsageError(
            f"cannot listen on 127.0.0.1:{ctx.args.port} ({exc.strerror or exc}): "
            "choose another --port"
        ) from None
    try:
        lc.add_user(DEMO_USERNAME, DEMO_PASSWORD, email=DEMO_EMAIL, groups=["demo-users"])
        if ctx.args.serve:
            return _serve(lc, ctx.out)
        return _demo_flow(lc, ctx.out)
    finally:
        lc.stop()


def _local_cognito(ctx: Context) -> LocalCognito:
    """A LocalCognito (not started) whose app client calls back to ``--app-url``."""
    from ..testing import LocalCognito  # only now: it generates RSA keys

    app_url = ctx.args.app_url.rstrip("/")
    if urlsplit(app_url).query or "#" in app_url:
        raise UsageError(
            f"--app-url {ctx.args.app_url!r} has a query or #fragment: give the app's base URL",
            hint="e.g. --app-url http://localhost:5000 or https://app.example.com",
        )
    try:
        return LocalCognito(
            redirect_uri=app_url + "/cognito_redirect",
            logout_uri=app_url + "/",
            port=ctx.args.port,
            custom_scopes=M2M_SCOPES,
            token_lifetime=3600,
            refresh_token_rotation=False,
        )
    except ConfigError as exc:
        # The callback and sign-out URLs are made from --app-url: the fix is there.
        raise UsageError(
            f"--app-url {ctx.args.app_url!r} cannot be used: {exc}",
            hint="--app-url must be an https URL, or http on localhost, 127.0.0.1 or ::1 "
            f"(default {DEFAULT_APP_URL}); the demo registers URL/cognito_redirect and URL/",
        ) from None


# -- demo --serve -------------------------------------------------------------------------


def _serve(lc: LocalCognito, out: TextIO) -> int:
    """Print what points an app and ``m2m-token`` at ``lc``; serve until interrupted."""
    _print_app_client(lc, out)
    _print_m2m_client(lc, out)
    out.write("Press Ctrl+C to stop.\n")
    out.flush()
    if threading.current_thread() is threading.main_thread():
        # `kill` (SIGTERM) stops it as cleanly as Ctrl+C does.
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        out.write("stopped\n")
        return EXIT_OK


def _print_app_client(lc: LocalCognito, out: TextIO) -> None:
    """The pool, its public app client and demo user, and the variables of that client."""
    config: CognitoConfig = lc.config
    out.write(f"LocalCognito, a local stand-in for a Cognito user pool, is running at {lc.url}\n")
    out.write(f"  user pool  {config.user_pool_id}\n")
    out.write(f"  app client {config.client_id} (public: no client secret)\n")
    out.write(f"  callback   {config.redirect_uri}\n")
    out.write(f"  sign-out   {config.logout_uri}\n")
    out.write(f"  demo user  {DEMO_USERNAME} / {DEMO_PASSWORD} ({DEMO_EMAIL})\n\n")
    out.write("Point an app (or this command) at it:\n\n")
    write_exports(out, _variables(lc))
    out.write(
        "\nThen sign in by hand: `cognito-helper login-url --pkce` prints a url to open and a\n"
        f"code_verifier; sign in as {DEMO_USERNAME} and run\n"
        f"  {EXCHANGE_COMMAND}\n"
        "Or run an app against it: `python examples/flask_app.py`.\n\n"
    )


def _print_m2m_client(lc: LocalCognito, out: TextIO) -> None:
    """Register a confidential app client for ``client_credentials``; print its variables.

    Its secret is made for this run and printed: it opens nothing but this local provider.
    """
    secret = secrets.token_hex(26)  # 52 characters, as Cognito's app client secrets
    lc.add_client(
        M2M_CLIENT_ID, client_secret=secret, redirect_uris=(), logout_uris=(), scopes=M2M_SCOPES
    )
    scopes = " and ".join(M2M_SCOPES)
    out.write(
        f"Machine to machine: app client {M2M_CLIENT_ID} is confidential and may use the\n"
        f"client_credentials grant for the resource server scopes {scopes}.\n"
        "Its client secret below is a throwaway, made for this run of LocalCognito and printed\n"
        "because it opens nothing but this local provider (never print a real one).\n"
        "In another shell:\n\n"
    )
    write_exports(out, _m2m_variables(lc, secret))
    out.write(
        f"\nThen `cognito-helper m2m-token --scope {M2M_SCOPES[0]}` prints an access token, and\n"
        f"`cognito-helper verify TOKEN --scope {M2M_SCOPES[0]}` checks it.\n"
    )


def _variables(lc: LocalCognito) -> Dict[str, str]:
    """The ``COGNITO_*`` variables that configure an app for ``lc``."""
    config = lc.config
    settings = {
        "user_pool_id": config.user_pool_id,
        "client_id": lc.client_id,
        "domain": lc.url,
        "redirect_uri": config.redirect_uri or "",
        "logout_uri": config.logout_uri or "",
        "issuer": config.issuers[0],
        "jwks_url": config.jwks_url or "",
    }
    return {ENV_NAMES[field]: value for field, value in settings.items()}


def _m2m_variables(lc: LocalCognito, secret: str) -> Dict[str, str]:
    """The ``COGNITO_*`` variables of the confidential client: ``m2m-token`` and ``verify``."""
    config = lc.config
    settings = {
        "user_pool_id": config.user_pool_id,
        "client_id": M2M_CLIENT_ID,
        "client_secret": secret,
        "domain": lc.url,
        "issuer": config.issuers[0],
        "jwks_url": config.jwks_url or "",
    }
    return {ENV_NAMES[field]: value for field, value in settings.items()}


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


# -- the demo flow ------------------------------------------------------------------------


@contextmanager
def _demo_step(out: TextIO, number: int, title: str) -> Iterator[None]:
    """Print a step's title; turn anything it raises into a failure naming the step."""
    out.write(f"\n[{number}] {title}\n")
    try:
        yield
    except DemoStepError as exc:
        raise DemoStepError(f"step {number} failed: {exc}") from exc
    except Exception as exc:
        raise DemoStepError(f"step {number} failed: {type(exc).__name__}: {exc}") from exc


def _show(out: TextIO, label: str, value: Any) -> None:
    out.write(f"    {label}: {value}\n")


def _demo_flow(lc: LocalCognito, out: TextIO) -> int:
    """Steps 1 to 8 of the flow, each through the library's public functions."""
    config: CognitoConfig = lc.config
    out.write(f"cognito-helper {__version__} demo: the hosted-UI flow against LocalCognito\n")
    out.write(f"LocalCognito at {lc.url}, pool {config.user_pool_id}, client {config.client_id}\n")
    login, code = _sign_in(lc, out)
    tokens = _exchange(config, out, code, login)
    sub = _verify(config, out, tokens, login)
    refresh_token = tokens.refresh_token or ""
    access_token = _refresh(config, out, refresh_token, sub)
    _user_info(config, out, access_token)
    _revoke(config, out, refresh_token)
    out.write("\nEvery step behaved as expected. Sign-out URL for the browser:\n")
    out.write(f"    {config.logout_url()}\n")
    return EXIT_OK


def _sign_in(lc: LocalCognito, out: TextIO) -> Tuple[LoginRequest, str]:
    """Steps 1 and 2: the sign-in URL, and the code the user comes back with."""
    with _demo_step(out, 1, "start_login(): state, nonce and a PKCE verifier; send the user to:"):
        login = lc.config.start_login()
        _show(out, "url", login.url)
        _show(out, "kept server-side", "state, nonce, code_verifier")

    with _demo_step(out, 2, f"the user signs in on the hosted UI as {DEMO_USERNAME!r}"):
        redirect = lc.sign_in(login.url, DEMO_USERNAME, DEMO_PASSWORD)
        query = {k: v[0] for k, v in parse_qs(urlsplit(redirect).query).items()}
        if query.get("state") != login.state or "code" not in query:
            raise DemoStepError("the redirect did not carry our state and a code")
        _show(out, "redirect", redirect.split("?", 1)[0] + "?code=<code>&state=<state matches>")
    return login, query["code"]


def _exchange(config: CognitoConfig, out: TextIO, code: str, login: LoginRequest) -> Tokens:
    """Step 3: the code and the PKCE verifier for tokens."""
    from ..oauth.endpoints import get_cognito_tokens

    with _demo_step(out, 3, "get_cognito_tokens(code, code_verifier=...): exchange the code"):
        tokens = get_cognito_tokens(code, config=config, code_verifier=login.code_verifier)
        if tokens.id_token is None or tokens.refresh_token is None:
            raise DemoStepError("the exchange did not return an ID token and a refresh token")
        _show(out, "received", f"id, access and refresh tokens; expires_in={tokens.expires_in}")
    return tokens


def _verify(config: CognitoConfig, out: TextIO, tokens: Tokens, login: LoginRequest) -> Any:
    """Step 4: both tokens verified; the user's ``sub``."""
    from ..verification.cognito import decode_verify_jwt

    with _demo_step(out, 4, "decode_verify_jwt(): verify both (signature, iss, client, nonce)"):
        id_claims = decode_verify_jwt(
            tokens.id_token or "",
            config=config,
            token_use="id",
            nonce=login.nonce,
            access_token=tokens.access_token,
        )
        access_claims = decode_verify_jwt(tokens.access_token, config=config, token_use="access")
        for claim in ("sub", "cognito:username", "email", "cognito:groups", "aud"):
            _show(out, f"id token {claim}", id_claims.get(claim))
        _show(out, "id token nonce", "matches the one from start_login()")
        _show(out, "id token exp", describe_time("exp", id_claims["exp"], time.time()))
        _show(out, "access token scope", access_claims.get("scope"))
        _show(out, "access token client_id", access_claims.get("client_id"))
    return id_claims["sub"]


def _refresh(config: CognitoConfig, out: TextIO, refresh_token: str, sub: Any) -> str:
    """Step 5: new tokens for the same user, without signing in; the new access token."""
    from ..oauth.endpoints import get_cognito_tokens
    from ..verification.cognito import decode_verify_jwt

    with _demo_step(out, 5, "get_cognito_tokens(refresh_token=...): new tokens, no sign-in"):
        refreshed = get_cognito_tokens(refresh_token=refresh_token, config=config)
        again = decode_verify_jwt(refreshed.access_token, config=config, token_use="access")
        if again["sub"] != sub:
            raise DemoStepError("the refreshed access token is for another user")
        _show(out, "new access token verified for sub", again["sub"])
    return refreshed.access_token


def _user_info(config: CognitoConfig, out: TextIO, access_token: str) -> None:
    """Step 6: the user's attributes from ``/oauth2/userInfo``."""
    from ..oauth.endpoints import get_user_info

    with _demo_step(out, 6, "get_user_info(access_token): the user's attributes from userInfo"):
        info = get_user_info(access_token, config=config)
        if info.get("email") != DEMO_EMAIL:
            raise DemoStepError("userInfo did not return the user's email")
        _show(out, "userInfo", json.dumps(info, sort_keys=True))


def _revoke(config: CognitoConfig, out: TextIO, refresh_token: str) -> None:
    """Steps 7 and 8: revoke the refresh token, and see it refused afterwards."""
    from ..oauth.endpoints import get_cognito_tokens, revoke_token

    with _demo_step(out, 7, "revoke_token(refresh_token): sign the user out everywhere"):
        revoke_token(refresh_token, config=config)
        _show(out, "revoked", "ok")

    with _demo_step(out, 8, "the revoked refresh token no longer works"):
        try:
            get_cognito_tokens(refresh_token=refresh_token, config=config)
        except InvalidGrantError as exc:
            _show(out, "InvalidGrantError as expected", exc.error)
        else:
            raise DemoStepError("a revoked refresh token still worked")
