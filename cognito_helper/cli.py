"""The ``cognito-helper`` command: a demo of the whole flow, and the daily chores.

``demo`` runs the hosted-UI flow against an embedded LocalCognito (``--serve`` keeps it
running) and takes no ``--config``; ``login-url``, ``exchange``, ``refresh`` and ``verify``
work against the pool configured by the ``COGNITO_*`` variables or ``--config FILE`` (before
or after the command); ``decode`` needs no configuration and ignores it.

Exit codes: 0 success; 1 the token or grant was rejected (or a demo step misbehaved);
2 usage or configuration error; 3 Cognito (or its JWKS) unreachable. Every error is one
``error:`` line naming the exception and the reason, then a ``hint:`` saying what to fix.
Secrets are printed only by the commands whose job is to print them (``exchange`` and
``refresh`` print tokens, ``login-url --pkce`` the verifier, ``demo --serve`` the demo
user's password); never a client secret.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import runpy
import shlex
import signal
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import (
    Any,
    Callable,
    Dict,
    Iterator,
    List,
    Mapping,
    NoReturn,
    Optional,
    Sequence,
    TextIO,
    Tuple,
    Union,
)
from urllib.parse import parse_qs, urlsplit

from . import __version__
from .config import CognitoConfig
from .errors import (
    CognitoConnectionError,
    CognitoError,
    ConfigError,
    InvalidClaimsError,
    InvalidGrantError,
    InvalidSignatureError,
    MalformedTokenError,
    TokenExchangeError,
    TokenExpiredError,
    TokenVerificationError,
    UnknownKeyError,
)
from .jwt_helper import decode_unverified, decode_verify_jwt
from .token_helper import Tokens, get_cognito_tokens, get_user_info, revoke_token

__all__ = ["main"]

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "Demo-Passw0rd!"  # a LocalCognito test user: not a secret
DEMO_EMAIL = "demo@example.com"
DEFAULT_APP_URL = "http://localhost:5000"  # Flask's default port, as in config.example.py

# Where each setting comes from when --config is not given.
_ENV_NAMES = {
    "user_pool_id": "COGNITO_USER_POOL_ID",
    "client_id": "COGNITO_CLIENT_ID",
    "client_secret": "COGNITO_CLIENT_SECRET",
    "domain": "COGNITO_DOMAIN",
    "redirect_uri": "COGNITO_REDIRECT_URI",
    "logout_uri": "COGNITO_LOGOUT_URI",
    "region": "COGNITO_REGION",
    "scopes": "COGNITO_SCOPES",
    "issuer": "COGNITO_ISSUER",
    "jwks_url": "COGNITO_JWKS_URL",
}

# What a setting must look like, for a hint when it is set but refused.
_FORMS = {
    "user_pool_id": "the pool id as the Cognito console shows it, REGION_ID (e.g. "
    "us-east-1_AbC123)",
    "client_id": "the app client id from the Cognito console (no spaces)",
    "client_secret": "the app client's secret (confidential app clients only)",
    "domain": "the hosted-UI domain: a domain prefix (my-app), a custom host "
    "(auth.example.com) or its https URL",
    "redirect_uri": "a callback URL registered on the app client: https, or http on "
    "localhost, 127.0.0.1 or ::1",
    "logout_uri": "a sign-out URL registered on the app client: https, or http on "
    "localhost, 127.0.0.1 or ::1",
    "region": "the pool's AWS region, the part of the pool id before '_' (e.g. us-east-1); "
    "leave it unset to take it from the pool id",
    "scopes": "scope names separated by spaces (e.g. 'openid email')",
}

# The exchange command that every hint and instruction prints. Written with '=' because a
# PKCE verifier may start with '-', which argparse would read as an option.
_EXCHANGE_COMMAND = "cognito-helper exchange 'CODE_OR_REDIRECT_URL' --code-verifier=CODE_VERIFIER"

_NOT_CONFIGURED = (
    "no Cognito configuration: set COGNITO_USER_POOL_ID and COGNITO_CLIENT_ID (plus "
    "COGNITO_DOMAIN and COGNITO_REDIRECT_URI to sign in, COGNITO_CLIENT_SECRET for a "
    "confidential app client), or pass --config config.py (a copy of config.example.py). "
    "No pool yet? `cognito-helper demo --serve` runs a local one and prints the variables."
)

_ENVIRONMENT_HELP = """\
configuration (when --config is not given):
  COGNITO_USER_POOL_ID   required, e.g. us-east-1_AbC123
  COGNITO_CLIENT_ID      required
  COGNITO_CLIENT_SECRET  confidential app clients only
  COGNITO_DOMAIN         hosted-UI domain: prefix, custom host or URL
  COGNITO_REDIRECT_URI   registered callback URL (login-url, exchange)
  COGNITO_LOGOUT_URI     registered sign-out URL
  COGNITO_REGION, COGNITO_SCOPES, COGNITO_ISSUER, COGNITO_JWKS_URL, COGNITO_JWKS: see README

exit codes:
  0 ok, 1 token or grant rejected, 2 usage or configuration error, 3 Cognito unreachable
"""


class _UsageError(Exception):
    """The command line is wrong; the message says how to call it instead.

    ``hint`` is what to do; without one, the hint points at the command's ``--help``.
    """

    def __init__(self, message: str, hint: Optional[str] = None) -> None:
        super().__init__(message)
        self.hint = hint


class _NotConfiguredError(ConfigError):
    """Nothing is configured at all; the message lists every way to configure."""


class _DemoStepError(Exception):
    """A demo step that did not behave as expected."""


class _RefreshTokenGivenError(MalformedTokenError):
    """A refresh token (an encrypted JWE) was given where an ID or access token belongs."""


class _Parser(argparse.ArgumentParser):
    """argparse, with a way out of its one trap here: a value that starts with '-'."""

    def error(self, message: str) -> NoReturn:
        if "--code-verifier: expected one argument" in message:
            message += " (a verifier that starts with '-' must be written --code-verifier=V)"
        super().error(message)


class _Context:
    """One run of the command: its arguments, streams, and the config (loaded on first use)."""

    def __init__(
        self, args: argparse.Namespace, out: TextIO, err: TextIO, stdin: Optional[TextIO]
    ) -> None:
        self.args = args
        self.out = out
        self.err = err
        self.stdin = stdin
        self.loaded: Optional[CognitoConfig] = None
        # The --config file's cognito_config, once read (a CognitoConfig when it defines one).
        self.file_settings: Union[Mapping[str, Any], CognitoConfig, None] = None
        # The code or refresh token handed to the library, to say what it is when refused.
        self.grant: Optional[str] = None

    @property
    def config(self) -> CognitoConfig:
        if self.loaded is None:
            path = getattr(self.args, "config", None)
            if path is None:
                self.loaded = _config_from_env()
            else:
                self.file_settings = _read_config_file(path)
                self.loaded = _config_from_file(path, self.file_settings)
        return self.loaded

    def setting(self, key: str) -> str:
        """Where the user sets ``key``: the variable, or the key in their --config file."""
        path = getattr(self.args, "config", None)
        if path:
            return f"'{key}' in {path}"
        return _ENV_NAMES.get(key, "COGNITO_" + key.upper())

    def raw(self, key: str) -> Optional[Any]:
        """The value the user gave ``key`` (None when unset or not known), before any check."""
        if getattr(self.args, "config", None):
            if isinstance(self.file_settings, Mapping):
                value = self.file_settings.get(key)
                return None if value is None or value == "" else value
            return None
        name = _ENV_NAMES.get(key)
        value = os.environ.get(name, "").strip() if name else ""
        return value or None

    def is_set(self, key: str) -> Optional[bool]:
        """Whether the user set ``key``; None when that cannot be known (a CognitoConfig file)."""
        if getattr(self.args, "config", None) and not isinstance(self.file_settings, Mapping):
            return None
        return self.raw(key) is not None


# -- configuration ------------------------------------------------------------------------


def _config_from_env() -> CognitoConfig:
    """The config from the ``COGNITO_*`` variables; :class:`ConfigError` says what to set."""
    if not any(os.environ.get(n, "").strip() for n in _ENV_NAMES.values()):
        raise _NotConfiguredError(_NOT_CONFIGURED)
    missing = [
        name
        for name in ("COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID")
        if not os.environ.get(name, "").strip()
    ]
    if missing:
        raise ConfigError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set (other "
            "COGNITO_* variables are): set them, or pass --config config.py (a copy of "
            "config.example.py)"
        )
    return CognitoConfig.from_env()


def _read_config_file(path: str) -> Union[Mapping[str, Any], CognitoConfig]:
    """Run ``--config FILE`` (a copied config.example.py) and return its ``cognito_config``.

    The file is run as Python; it must leave a ``cognito_config`` dict (or CognitoConfig)
    behind, as config.example.py does. Raises :class:`ConfigError` saying what is wrong.
    """
    file = Path(path)
    if file.is_dir():
        raise ConfigError(
            f"--config {path} is a directory, not a file: give the path of your config.py "
            "(a copy of config.example.py)"
        )
    if not file.exists():
        raise ConfigError(
            f"--config {path}: no such file (copy config.example.py to config.py and fill it in)"
        )
    if not file.is_file():
        raise ConfigError(
            f"--config {path} is not a regular file: give the path of your config.py (a copy "
            "of config.example.py)"
        )
    try:
        namespace = runpy.run_path(path, run_name="cognito_helper_config")
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except Exception as exc:
        raise ConfigError(f"{path} failed to run: {type(exc).__name__}: {exc}") from None
    if "cognito_config" not in namespace:
        raise ConfigError(
            f"{path} defines no 'cognito_config': define cognito_config = {{...}} with "
            "user_pool_id, client_id, domain and redirect_uri, as config.example.py does"
        )
    settings = namespace["cognito_config"]
    if isinstance(settings, (CognitoConfig, Mapping)):
        return settings
    found = "None" if settings is None else f"a {type(settings).__name__}"
    raise ConfigError(
        f"{path}: cognito_config is {found}, expected a dict of settings (user_pool_id, "
        "client_id, domain, redirect_uri, ...) as in config.example.py, or a CognitoConfig"
    )


def _config_from_file(
    path: str, settings: Union[Mapping[str, Any], CognitoConfig]
) -> CognitoConfig:
    """The config from a ``--config`` file's ``cognito_config``; errors name the file."""
    if isinstance(settings, CognitoConfig):
        return settings
    try:
        return CognitoConfig.from_dict(settings)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None


# -- reading arguments --------------------------------------------------------------------


def _read_value(value: Optional[str], ctx: _Context, what: str) -> str:
    """An argument, or standard input when it is omitted or ``-``; never empty."""
    if value is None or value == "-":
        stdin = ctx.stdin
        if stdin is None or stdin.isatty():
            raise _UsageError(f"no {what} given: pass it as an argument or pipe it on stdin")
        value = stdin.read()
    value = value.strip()
    if not value:
        raise _UsageError(f"the {what} is empty: pass it as an argument or pipe it on stdin")
    return value


def _read_jwt(value: Optional[str], ctx: _Context) -> str:
    """A JWT from the argument or stdin; a pasted ``Authorization: Bearer ...`` value is fine."""
    token = _read_value(value, ctx, "token")
    for prefix in ("authorization:", "bearer "):
        if token.lower().startswith(prefix):
            token = token[len(prefix) :].strip()
    if token.count(".") == 4:
        raise _RefreshTokenGivenError(
            "this has 5 dot-separated parts: it is a refresh token (an encrypted JWE) that only "
            "Cognito can read; use `cognito-helper refresh` with it instead"
        )
    return token


def _code_from(value: str) -> str:
    """The authorization code, also from a pasted redirect URL (``...?code=...&state=...``)."""
    if "://" not in value:
        return value
    query = parse_qs(urlsplit(value).query)
    if "error" in query:
        description = query.get("error_description", [""])[0]
        raise _UsageError(
            f"the redirect carries error={query['error'][0]} {description}".rstrip()
            + ": the sign-in failed, so there is no code to exchange"
        )
    codes = query.get("code")
    if not codes:
        raise _UsageError("the URL has no ?code= parameter: pass the code or the redirect URL")
    return codes[0]


# -- output -------------------------------------------------------------------------------


def _human_delta(seconds: float) -> str:
    seconds = abs(int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _describe_time(claim: str, value: Any, now: float) -> Optional[str]:
    """``2025-01-01 12:00:00 UTC (expires in 42 min)`` for a numeric time claim, else None."""
    if type(value) not in (int, float):
        return None
    try:
        when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(value))
    except (OverflowError, OSError, ValueError):
        return None
    delta = value - now
    if claim == "exp":
        rel = (
            f"expires in {_human_delta(delta)}"
            if delta > 0
            else f"expired {_human_delta(delta)} ago"
        )
    elif claim == "nbf" and delta > 0:
        rel = f"not valid for another {_human_delta(delta)}"
    else:
        rel = f"{_human_delta(delta)} ago" if delta <= 0 else f"in {_human_delta(delta)}"
    return f"{when} ({rel})"


def _print_json(data: Any, out: TextIO) -> None:
    out.write(json.dumps(data, indent=2, sort_keys=True) + "\n")


def _tokens_json(tokens: Tokens) -> Dict[str, Any]:
    return {
        "id_token": tokens.id_token,
        "access_token": tokens.access_token,
        "refresh_token": tokens.refresh_token,
        "expires_in": tokens.expires_in,
        "token_type": tokens.token_type,
    }


# -- subcommands --------------------------------------------------------------------------


def _cmd_login_url(ctx: _Context) -> int:
    args, config = ctx.args, ctx.config
    if args.pkce:
        login = config.start_login(redirect_uri=args.redirect_uri)
        _print_json(
            {
                "url": login.url,
                "state": login.state,
                "nonce": login.nonce,
                "code_verifier": login.code_verifier,
            },
            ctx.out,
        )
        ctx.err.write(f"next: open the url and sign in; then run\n  {_EXCHANGE_COMMAND}\n")
    else:
        ctx.out.write(config.login_url(state=args.state, redirect_uri=args.redirect_uri) + "\n")
    return EXIT_OK


def _cmd_exchange(ctx: _Context) -> int:
    args = ctx.args
    code = ctx.grant = _code_from(_read_value(args.code, ctx, "code"))
    tokens = get_cognito_tokens(
        code, config=ctx.config, code_verifier=args.code_verifier, redirect_uri=args.redirect_uri
    )
    _print_json(_tokens_json(tokens), ctx.out)
    return EXIT_OK


def _cmd_refresh(ctx: _Context) -> int:
    refresh_token = ctx.grant = _read_value(ctx.args.refresh_token, ctx, "refresh token")
    tokens = get_cognito_tokens(refresh_token=refresh_token, config=ctx.config)
    _print_json(_tokens_json(tokens), ctx.out)
    return EXIT_OK


def _cmd_verify(ctx: _Context) -> int:
    args = ctx.args
    token = _read_jwt(args.token, ctx)
    claims = decode_verify_jwt(
        token, config=ctx.config, token_use=args.token_use, leeway=args.leeway
    )
    _print_json(claims, ctx.out)
    return EXIT_OK


def _cmd_decode(ctx: _Context) -> int:
    """The header and claims as JSON on stdout; the UNVERIFIED banners and times on stderr."""
    token = _read_jwt(ctx.args.token, ctx)
    header, claims = decode_unverified(token)
    out, err, now = ctx.out, ctx.err, time.time()
    banner = "*** UNVERIFIED: signature, issuer, audience and expiry were NOT checked. ***"
    err.write(
        banner + "\n*** Do not trust these claims; `cognito-helper verify` checks them. ***\n"
    )
    err.flush()  # on a terminal, the banner comes before the JSON
    _print_json({"header": header, "claims": claims}, out)
    out.flush()
    times = [(c, _describe_time(c, claims.get(c), now)) for c in ("exp", "iat", "auth_time", "nbf")]
    shown = [(claim, text) for claim, text in times if text]
    if shown:
        err.write("times:\n")
        for claim, text in shown:
            err.write(f"  {claim:<9} {text}\n")
    err.write(banner + "\n")
    return EXIT_OK


# -- demo ---------------------------------------------------------------------------------


def _cmd_demo(ctx: _Context) -> int:
    if ctx.args.config is not None:
        raise _UsageError(
            "demo runs its own LocalCognito and takes no --config",
            hint="to use your pool, pass --config to login-url, exchange, refresh or verify; "
            "`cognito-helper demo --serve` prints the COGNITO_* variables of the local one",
        )
    from .testing import LocalCognito  # only now: it generates RSA keys

    app_url = ctx.args.app_url.rstrip("/")
    if urlsplit(app_url).query or "#" in app_url:
        raise _UsageError(
            f"--app-url {ctx.args.app_url!r} has a query or #fragment: give the app's base URL",
            hint="e.g. --app-url http://localhost:5000 or https://app.example.com",
        )
    try:
        lc = LocalCognito(
            redirect_uri=app_url + "/cognito_redirect",
            logout_uri=app_url + "/",
            port=ctx.args.port,
            token_lifetime=3600,
            refresh_token_rotation=False,
        )
    except ConfigError as exc:
        # The callback and sign-out URLs are made from --app-url: the fix is there.
        raise _UsageError(
            f"--app-url {ctx.args.app_url!r} cannot be used: {exc}",
            hint="--app-url must be an https URL, or http on localhost, 127.0.0.1 or ::1 "
            f"(default {DEFAULT_APP_URL}); the demo registers URL/cognito_redirect and URL/",
        ) from None
    try:
        lc.start()
    except OSError as exc:
        raise _UsageError(
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


def _serve(lc: Any, out: TextIO) -> int:
    config: CognitoConfig = lc.config
    out.write(f"LocalCognito, a local stand-in for a Cognito user pool, is running at {lc.url}\n")
    out.write(f"  user pool  {config.user_pool_id}\n")
    out.write(f"  app client {config.client_id} (public: no client secret)\n")
    out.write(f"  callback   {config.redirect_uri}\n")
    out.write(f"  sign-out   {config.logout_uri}\n")
    out.write(f"  demo user  {DEMO_USERNAME} / {DEMO_PASSWORD} ({DEMO_EMAIL})\n\n")
    out.write("Point an app (or this command) at it:\n\n")
    env = {
        "COGNITO_USER_POOL_ID": config.user_pool_id,
        "COGNITO_CLIENT_ID": config.client_id,
        "COGNITO_DOMAIN": lc.url,
        "COGNITO_REDIRECT_URI": config.redirect_uri or "",
        "COGNITO_LOGOUT_URI": config.logout_uri or "",
        "COGNITO_ISSUER": config.issuers[0],
        "COGNITO_JWKS_URL": config.jwks_url or "",
    }
    for name, value in env.items():
        out.write(f"export {name}={shlex.quote(value)}\n")
    out.write(
        "\nThen sign in by hand: `cognito-helper login-url --pkce` prints a url to open and a\n"
        f"code_verifier; sign in as {DEMO_USERNAME} and run\n"
        f"  {_EXCHANGE_COMMAND}\n"
        "Or run an app against it: `python examples/flask_app.py`.\n"
        "Press Ctrl+C to stop.\n"
    )
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


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


@contextmanager
def _demo_step(out: TextIO, number: int, title: str) -> Iterator[None]:
    """Print a step's title; turn anything it raises into a failure naming the step."""
    out.write(f"\n[{number}] {title}\n")
    try:
        yield
    except _DemoStepError as exc:
        raise _DemoStepError(f"step {number} failed: {exc}") from exc
    except Exception as exc:
        raise _DemoStepError(f"step {number} failed: {type(exc).__name__}: {exc}") from exc


def _show(out: TextIO, label: str, value: Any) -> None:
    out.write(f"    {label}: {value}\n")


def _demo_flow(lc: Any, out: TextIO) -> int:
    config: CognitoConfig = lc.config
    out.write(f"cognito-helper {__version__} demo: the hosted-UI flow against LocalCognito\n")
    out.write(f"LocalCognito at {lc.url}, pool {config.user_pool_id}, client {config.client_id}\n")

    with _demo_step(out, 1, "start_login(): state, nonce and a PKCE verifier; send the user to:"):
        login = config.start_login()
        _show(out, "url", login.url)
        _show(out, "kept server-side", "state, nonce, code_verifier")

    with _demo_step(out, 2, f"the user signs in on the hosted UI as {DEMO_USERNAME!r}"):
        redirect = lc.sign_in(login.url, DEMO_USERNAME, DEMO_PASSWORD)
        query = {k: v[0] for k, v in parse_qs(urlsplit(redirect).query).items()}
        if query.get("state") != login.state or "code" not in query:
            raise _DemoStepError("the redirect did not carry our state and a code")
        _show(out, "redirect", redirect.split("?", 1)[0] + "?code=<code>&state=<state matches>")

    with _demo_step(out, 3, "get_cognito_tokens(code, code_verifier=...): exchange the code"):
        tokens = get_cognito_tokens(query["code"], config=config, code_verifier=login.code_verifier)
        if tokens.id_token is None or tokens.refresh_token is None:
            raise _DemoStepError("the exchange did not return an ID token and a refresh token")
        id_token, refresh_token = tokens.id_token, tokens.refresh_token
        _show(out, "received", f"id, access and refresh tokens; expires_in={tokens.expires_in}")

    with _demo_step(out, 4, "decode_verify_jwt(): verify both (signature, iss, client, nonce)"):
        id_claims = decode_verify_jwt(
            id_token,
            config=config,
            token_use="id",
            nonce=login.nonce,
            access_token=tokens.access_token,
        )
        access_claims = decode_verify_jwt(tokens.access_token, config=config, token_use="access")
        for claim in ("sub", "cognito:username", "email", "cognito:groups", "aud"):
            _show(out, f"id token {claim}", id_claims.get(claim))
        _show(out, "id token nonce", "matches the one from start_login()")
        _show(out, "id token exp", _describe_time("exp", id_claims["exp"], time.time()))
        _show(out, "access token scope", access_claims.get("scope"))
        _show(out, "access token client_id", access_claims.get("client_id"))

    with _demo_step(out, 5, "get_cognito_tokens(refresh_token=...): new tokens, no sign-in"):
        refreshed = get_cognito_tokens(refresh_token=refresh_token, config=config)
        again = decode_verify_jwt(refreshed.access_token, config=config, token_use="access")
        if again["sub"] != id_claims["sub"]:
            raise _DemoStepError("the refreshed access token is for another user")
        _show(out, "new access token verified for sub", again["sub"])

    with _demo_step(out, 6, "get_user_info(access_token): the user's attributes from userInfo"):
        info = get_user_info(refreshed.access_token, config=config)
        if info.get("email") != DEMO_EMAIL:
            raise _DemoStepError("userInfo did not return the user's email")
        _show(out, "userInfo", json.dumps(info, sort_keys=True))

    with _demo_step(out, 7, "revoke_token(refresh_token): sign the user out everywhere"):
        revoke_token(refresh_token, config=config)
        _show(out, "revoked", "ok")

    with _demo_step(out, 8, "the revoked refresh token no longer works"):
        try:
            get_cognito_tokens(refresh_token=refresh_token, config=config)
        except InvalidGrantError as exc:
            _show(out, "InvalidGrantError as expected", exc.error)
        else:
            raise _DemoStepError("a revoked refresh token still worked")

    out.write("\nEvery step behaved as expected. Sign-out URL for the browser:\n")
    out.write(f"    {config.logout_url()}\n")
    return EXIT_OK


# -- the parser ---------------------------------------------------------------------------


def _port(text: str) -> int:
    """``--port``: a TCP port, 0..65535 (0: a free one)."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"{port} is not a port: give 1..65535, or 0 for a free one"
        )
    return port


def _parser() -> argparse.ArgumentParser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = _Parser(
        prog="cognito-helper",
        description="Amazon Cognito hosted-UI helper: a demo of the whole sign-in flow, "
        "sign-in URLs, code and refresh-token exchange, token verification and decoding.",
        epilog=_ENVIRONMENT_HELP,
        formatter_class=formatter,
    )
    parser.add_argument("--version", action="version", version=f"cognito-helper {__version__}")
    config_help = (
        "a config.py defining cognito_config (a copy of config.example.py); before or after "
        "the command (demo takes none)"
    )
    parser.add_argument("--config", metavar="FILE", help=config_help)
    # Also accepted after the subcommand; SUPPRESS keeps a value given before it.
    common = _Parser(add_help=False)
    common.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help=config_help)
    # Parsed after `demo` and `decode` too, so that each can answer it (refuse, ignore).
    unused = _Parser(add_help=False)
    unused.add_argument("--config", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def add(
        name: str,
        summary: str,
        description: str,
        run: Callable[[_Context], int],
        *,
        configured: bool = True,
    ) -> argparse.ArgumentParser:
        command = sub.add_parser(
            name,
            parents=[common if configured else unused],
            help=summary,
            description=description,
            epilog=_ENVIRONMENT_HELP if configured else None,
            formatter_class=formatter,
        )
        command.set_defaults(run=run)
        return command

    demo = add(
        "demo",
        "run the whole sign-in flow against a local Cognito (no AWS needed)",
        "Start LocalCognito, create the user 'demo', and walk the hosted-UI flow through the\n"
        "library: sign-in URL, sign-in, code exchange with PKCE, verification, refresh,\n"
        "userInfo, revocation. Exits 0 only if every step behaved as expected.\n"
        "With --serve, keep LocalCognito running and print the COGNITO_* variables that\n"
        "point an app (or the other commands) at it. Takes no --config.",
        _cmd_demo,
        configured=False,
    )
    demo.add_argument(
        "--serve", action="store_true", help="keep LocalCognito running and print its config"
    )
    demo.add_argument(
        "--port",
        type=_port,
        default=0,
        help="port for LocalCognito, 1..65535 (default 0: a free one)",
    )
    demo.add_argument(
        "--app-url",
        default=DEFAULT_APP_URL,
        metavar="URL",
        help="your app's base URL: registers URL/cognito_redirect as the callback and URL/ as "
        f"the sign-out URL (default {DEFAULT_APP_URL})",
    )

    login = add(
        "login-url",
        "print a sign-in URL for the configured pool",
        "Print the hosted-UI /oauth2/authorize URL. With --pkce, print JSON with the URL and\n"
        "the state, nonce and PKCE code_verifier it was made with (keep the verifier for\n"
        "`exchange --code-verifier=V`).",
        _cmd_login_url,
    )
    login.add_argument(
        "--pkce", action="store_true", help="add state, nonce and PKCE; print them as JSON"
    )
    login.add_argument("--state", help="an opaque state value to include (without --pkce)")
    login.add_argument("--redirect-uri", metavar="URL", help="instead of COGNITO_REDIRECT_URI")

    exchange = add(
        "exchange",
        "exchange an authorization code for tokens (prints them as JSON)",
        "Exchange an authorization code at /oauth2/token and print the tokens as JSON.\n"
        "CODE may also be the whole redirect URL the browser landed on, or '-' for stdin.\n"
        "Codes are single-use and live 5 minutes.",
        _cmd_exchange,
    )
    exchange.add_argument("code", metavar="CODE", help="the code, or the redirect URL with ?code=")
    exchange.add_argument(
        "--code-verifier",
        metavar="V",
        help="the PKCE verifier from `login-url --pkce`; write --code-verifier=V, "
        "as a verifier may start with '-'",
    )
    exchange.add_argument(
        "--redirect-uri", metavar="URL", help="the one used to sign in (default: configured)"
    )

    refresh = add(
        "refresh",
        "get new tokens with a refresh token (prints them as JSON)",
        "Use a refresh token at /oauth2/token and print the new tokens as JSON. The refresh\n"
        "token is read from stdin when omitted or '-' (keeps it out of shell history).",
        _cmd_refresh,
    )
    refresh.add_argument(
        "refresh_token", metavar="REFRESH_TOKEN", nargs="?", help="omitted or '-': stdin"
    )

    verify = add(
        "verify",
        "verify a token; prints its claims as JSON",
        "Verify an ID or access token with every check AWS requires (RS256 signature with the\n"
        "pool's JWKS, exp, iss, token_use, aud/client_id) and print its claims as JSON.\n"
        "On failure, print the check that failed and exit 1.",
        _cmd_verify,
    )
    verify.add_argument("token", metavar="TOKEN", nargs="?", help="the JWT; omitted or '-': stdin")
    verify.add_argument(
        "--token-use", choices=["id", "access"], help="require this kind (default: either)"
    )
    verify.add_argument(
        "--leeway",
        type=float,
        default=0,
        metavar="SECONDS",
        help="grace for clock skew on exp, nbf and iat (default 0)",
    )

    decode = add(
        "decode",
        "show a token's header and claims WITHOUT verifying",
        "Show a JWT's header and claims WITHOUT verifying anything, with readable times\n"
        "(expires in 42 min / expired 3 h ago). Needs no configuration. Never trust the\n"
        "output: anyone can make a token that decodes to anything; use `verify`.\n"
        'Prints {"header": ..., "claims": ...} as JSON on stdout; the UNVERIFIED banners\n'
        "and the readable times go to stderr. Ignores --config.",
        _cmd_decode,
        configured=False,
    )
    decode.add_argument("token", metavar="TOKEN", nargs="?", help="the JWT; omitted or '-': stdin")
    return parser


# -- errors -------------------------------------------------------------------------------

_CHECKS: Tuple[Tuple[type, str], ...] = (
    (MalformedTokenError, "format (three base64url parts, RS256 header with a kid)"),
    (UnknownKeyError, "signing key (the kid is not in the pool's JWKS)"),
    (InvalidSignatureError, "signature"),
    (TokenExpiredError, "expiry (exp)"),
)


def _verification_failure(exc: TokenVerificationError, ctx: _Context) -> Tuple[str, str]:
    """(which check failed, what to do) for a rejected token."""
    if isinstance(exc, InvalidClaimsError):
        claim = exc.claim or "?"
        hints = {
            "iss": f"the token is from another pool: check {ctx.setting('user_pool_id')} "
            f"(and {ctx.setting('issuer')} for the UPDATED issuer form)",
            "aud": f"the token was issued to another app client: check {ctx.setting('client_id')}",
            "client_id": "the token was issued to another app client: check "
            f"{ctx.setting('client_id')}",
            "token_use": "it is the other kind of token: change or drop --token-use",
            "nbf": "the token is not valid yet; --leeway N tolerates clock skew",
            "iat": "the token claims to be issued in the future: check this machine's clock",
        }
        return f"claim {claim!r}", hints.get(claim, "")
    check = next((name for kind, name in _CHECKS if isinstance(exc, kind)), "verification")
    hints_by_kind = {
        _RefreshTokenGivenError: f"`cognito-helper {ctx.args.command}` takes an ID or access "
        "token (3 dot-separated parts): the id_token or access_token from `cognito-helper "
        "exchange` or `refresh`",
        MalformedTokenError: "pass the ID or access token exactly as the token endpoint returned "
        "it: header.payload.signature, with no quotes (`jq -r` prints it so)",
        UnknownKeyError: f"the token was not signed by this pool: check "
        f"{ctx.setting('user_pool_id')} (or {ctx.setting('jwks_url')})",
        InvalidSignatureError: "the token was altered, or signed by someone else: do not trust it",
        TokenExpiredError: "get new tokens with `cognito-helper refresh`; --leeway N tolerates "
        "N seconds of clock skew",
    }
    hint = next((h for kind, h in hints_by_kind.items() if isinstance(exc, kind)), "")
    return check, hint


def _exchange_hint(exc: TokenExchangeError, ctx: _Context) -> str:
    if isinstance(exc, InvalidGrantError):
        if ctx.args.command == "exchange":
            return (
                "the code was already used or expired (codes live 5 minutes), or "
                "--code-verifier / the redirect URI differ from the sign-in's: sign in again "
                "with a fresh `cognito-helper login-url --pkce`"
            )
        return "the refresh token expired or was revoked: the user must sign in again"
    hints = {
        "invalid_client": f"check {ctx.setting('client_id')} and {ctx.setting('client_secret')} "
        "(a confidential app client needs its secret; a public one must have none)",
        "unauthorized_client": "the redirect URI must be the sign-in's and registered on the app "
        f"client (check {ctx.setting('redirect_uri')} or --redirect-uri), and the app client "
        "must allow this grant",
        "invalid_request": "a parameter is missing or malformed; see `cognito-helper "
        f"{ctx.args.command} --help`",
        "invalid_scope": "the app client does not allow the scopes asked for (COGNITO_SCOPES)",
    }
    return hints.get(exc.error or "", "")


_FIELD_FIRST = re.compile(r"(?:config key )?'?([A-Za-z_]+)'?")


def _pool_url_hint(field: str, ctx: _Context) -> str:
    """The hint for a refused ``issuer`` or ``jwks_url``: it must belong to the pool."""
    setting, pool_setting = ctx.setting(field), ctx.setting("user_pool_id")
    what = "issuer" if field == "issuer" else "JWKS URL"
    pool, value = ctx.raw("user_pool_id"), ctx.raw(field)
    urls = value.split() if isinstance(value, str) else value
    if isinstance(pool, str) and isinstance(urls, (list, tuple)):
        paths = [urlsplit(u).path.split("/") if isinstance(u, str) else [] for u in urls]
        if any(pool not in path for path in paths):
            return (
                f"{setting} names another pool than {pool_setting} ({pool}): make both name "
                f"the same pool, or leave {setting} unset to use that pool's own {what}"
            )
    return (
        f"{setting} is set but invalid: it must be the {what} of the pool in {pool_setting} "
        "(an https URL), or be left unset to use that pool's own"
    )


def _config_hint(exc: ConfigError, ctx: _Context) -> str:
    """Which setting to fix, where, and how, for a configuration error."""
    path = getattr(ctx.args, "config", None)
    message = str(exc).removeprefix("from the COGNITO_* environment variables: ")
    if path:
        message = message.removeprefix(f"{path}: ")
    match = _FIELD_FIRST.match(message)
    word = match.group(1) if match else ""
    by_env = {name: key for key, name in _ENV_NAMES.items()}
    field = by_env.get(word, word)
    if field == "redirect_uri" and getattr(ctx.args, "redirect_uri", None) is not None:
        return f"--redirect-uri must be {_FORMS['redirect_uri']}"
    if field in _ENV_NAMES:
        setting, is_set = ctx.setting(field), ctx.is_set(field)
        if is_set is False:
            hint = f"set {setting}"
            if field == "redirect_uri" and ctx.args.command in ("login-url", "exchange"):
                hint += " or pass --redirect-uri"
            return hint
        if field in ("issuer", "jwks_url"):
            return _pool_url_hint(field, ctx)
        form = _FORMS.get(field)
        if is_set is None:
            return f"fix {setting}" + (f": it must be {form}" if form else "")
        return f"{setting} is set but invalid" + (f": it must be {form}" if form else "")
    if path and not Path(path).is_file():
        return "check the --config path"
    if path:
        return f"fix {path} (compare it with config.example.py)"
    return "check the COGNITO_* variables (listed in `cognito-helper --help`)"


def _jwt_kind(value: Optional[str]) -> Optional[str]:
    """'an access token', 'an ID token' or 'a JWT' when ``value`` decodes as one, else None."""
    if not value:
        return None
    try:
        _, claims = decode_unverified(value)
    except (CognitoError, ValueError, RecursionError):
        return None
    kinds = {"access": "an access token", "id": "an ID token"}
    return kinds.get(str(claims.get("token_use")), "a JWT")


def _argument_hint(ctx: _Context) -> str:
    """The hint for an argument the library refused (a ``ValueError``)."""
    command = ctx.args.command
    kind = _jwt_kind(ctx.grant) if command in ("exchange", "refresh") else None
    if kind and command == "refresh":
        return (
            f"that is {kind}, not a refresh token: pass the refresh_token from `cognito-helper "
            f"exchange` (5 dot-separated parts); `cognito-helper verify` checks {kind}"
        )
    if kind:
        return (
            f"that is {kind}, not an authorization code: pass the code, or the whole redirect "
            "URL the browser landed on (?code=...); `cognito-helper verify` checks a token"
        )
    return f"see `cognito-helper {command} --help`"


def _diagnose(exc: BaseException, ctx: _Context) -> Tuple[int, List[str]]:
    """The exit code and the lines to print for an error."""
    # The library's exception, not this module's private refinement of it.
    name = next(k.__name__ for k in type(exc).__mro__ if not k.__name__.startswith("_"))
    command = ctx.args.command
    if isinstance(exc, _UsageError):
        hint = exc.hint or f"see `cognito-helper {command} --help`"
        return EXIT_USAGE, [f"error: {exc}", f"hint: {hint}"]
    if isinstance(exc, ValueError):
        return EXIT_USAGE, [f"error: invalid argument: {exc}", f"hint: {_argument_hint(ctx)}"]
    if isinstance(exc, _DemoStepError):
        return EXIT_REJECTED, [
            f"error: {exc}",
            "hint: the demo flow did not behave as expected; please report this",
        ]
    if isinstance(exc, _NotConfiguredError):
        return EXIT_USAGE, [f"error: ConfigError: {exc}"]
    lines = [f"error: {name}: {exc}"]
    if isinstance(exc, ConfigError):
        return EXIT_USAGE, [*lines, f"hint: {_config_hint(exc, ctx)}"]
    if isinstance(exc, CognitoConnectionError):
        config = ctx.loaded
        if command == "verify" and config is not None:
            hint = (
                f"the JWKS URL {config.jwks_url} could not be used: check "
                f"{ctx.setting('user_pool_id')} (or {ctx.setting('jwks_url')}) and the network"
            )
        elif config is not None and config.domain:
            hint = (
                f"the hosted-UI domain {config.domain} could not be used: check "
                f"{ctx.setting('domain')} and the network"
            )
        else:
            hint = "check the network"
        return EXIT_UNREACHABLE, [*lines, f"hint: {hint}, then try again"]
    if isinstance(exc, TokenVerificationError):
        check, hint = _verification_failure(exc, ctx)
        lines.append(f"failed check: {check}")
        return EXIT_REJECTED, [*lines, f"hint: {hint}"] if hint else lines
    if isinstance(exc, TokenExchangeError):
        hint = _exchange_hint(exc, ctx)
        return EXIT_REJECTED, [*lines, f"hint: {hint}"] if hint else lines
    return EXIT_REJECTED, lines  # another CognitoError


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the ``cognito-helper`` command line; return its exit code.

    0 success, 1 token or grant rejected, 2 usage or configuration error, 3 Cognito
    unreachable. ``argv`` defaults to ``sys.argv[1:]``; argparse itself exits with 2 on a
    malformed command line.
    """
    args = _parser().parse_args(argv)
    ctx = _Context(args, sys.stdout, sys.stderr, sys.stdin)
    run: Callable[[_Context], int] = args.run
    try:
        return run(ctx)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, and keep Python's final
        # flush of stdout from complaining about it again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except KeyboardInterrupt:
        return 130
    except (_UsageError, ValueError, _DemoStepError, CognitoError) as exc:
        code, lines = _diagnose(exc, ctx)
        ctx.out.flush()
        ctx.err.write("".join(line + "\n" for line in lines))
        return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
