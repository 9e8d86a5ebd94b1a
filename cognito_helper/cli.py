"""The ``cognito-helper`` command: a demo of the whole flow, and the daily chores.

Exit codes: 0 success; 1 the token or grant was rejected; 2 usage or configuration error;
3 Cognito (or its JWKS) unreachable. Secrets are printed only by the commands whose job is to
print them (``exchange`` and ``refresh`` print tokens; ``login-url --pkce`` the verifier).
"""

from __future__ import annotations

import argparse
import json
import runpy
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, TextIO, Tuple, Type

from . import __version__
from .config import CognitoConfig, get_config
from .errors import (
    CognitoConnectionError,
    CognitoError,
    ConfigError,
    InvalidGrantError,
    TokenExchangeError,
    TokenVerificationError,
)
from .jwt_helper import decode_unverified, decode_verify_jwt
from .token_helper import Tokens, get_cognito_tokens, get_user_info, revoke_token

__all__ = ["main"]

EXIT_OK, EXIT_REJECTED, EXIT_USAGE, EXIT_UNREACHABLE = 0, 1, 2, 3


class _DemoStepError(Exception):
    """A demo step that did not behave as expected."""


def _load_config(path: Optional[str]) -> CognitoConfig:
    """The config from ``--config FILE`` (a copied config.example.py) or the environment."""
    if path is None:
        return get_config()
    try:
        namespace = runpy.run_path(path)
    except FileNotFoundError:
        raise ConfigError(f"--config {path}: no such file") from None
    except CognitoError:
        raise
    except Exception as exc:
        raise ConfigError(f"--config {path} failed to run: {type(exc).__name__}: {exc}") from None
    for value in namespace.values():
        if isinstance(value, CognitoConfig):
            return value
    settings = namespace.get("cognito_config")
    if isinstance(settings, dict):
        return CognitoConfig.from_dict(settings)
    try:
        return get_config()  # the file may have called configure() itself
    except ConfigError:
        raise ConfigError(
            f"--config {path} defines no 'cognito_config' dict or CognitoConfig "
            "(copy config.example.py and fill it in)"
        ) from None


def _read_token(value: Optional[str], stdin: TextIO) -> str:
    if value is None or value == "-":
        if stdin.isatty():
            raise ConfigError("give the token as an argument or on standard input")
        return stdin.read().strip()
    return value.strip()


def _human_delta(seconds: float) -> str:
    seconds = abs(int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def _describe_time(claim: str, value: Any, now: float) -> Optional[str]:
    if type(value) not in (int, float):
        return None
    when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(value))
    delta = value - now
    if claim == "exp":
        rel = (
            f"expires in {_human_delta(delta)}"
            if delta > 0
            else f"expired {_human_delta(delta)} ago"
        )
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


def _cmd_login_url(args: argparse.Namespace, out: TextIO) -> int:
    config = _load_config(args.config)
    if args.pkce:
        login = config.start_login()
        _print_json(
            {
                "url": login.url,
                "state": login.state,
                "nonce": login.nonce,
                "code_verifier": login.code_verifier,
            },
            out,
        )
    else:
        out.write(config.login_url(state=args.state) + "\n")
    return EXIT_OK


def _cmd_exchange(args: argparse.Namespace, out: TextIO) -> int:
    config = _load_config(args.config)
    tokens = get_cognito_tokens(
        args.code, config=config, code_verifier=args.code_verifier, redirect_uri=args.redirect_uri
    )
    _print_json(_tokens_json(tokens), out)
    return EXIT_OK


def _cmd_refresh(args: argparse.Namespace, out: TextIO) -> int:
    config = _load_config(args.config)
    tokens = get_cognito_tokens(
        refresh_token=_read_token(args.refresh_token, sys.stdin), config=config
    )
    _print_json(_tokens_json(tokens), out)
    return EXIT_OK


def _cmd_verify(args: argparse.Namespace, out: TextIO) -> int:
    config = _load_config(args.config)
    token = _read_token(args.token, sys.stdin)
    claims = decode_verify_jwt(token, config=config, token_use=args.token_use, leeway=args.leeway)
    _print_json(claims, out)
    return EXIT_OK


def _cmd_decode(args: argparse.Namespace, out: TextIO) -> int:
    token = _read_token(args.token, sys.stdin)
    header, claims = decode_unverified(token)
    now = time.time()
    out.write("*** UNVERIFIED: signature, issuer and expiry NOT checked. Do not trust. ***\n")
    out.write("header:\n")
    _print_json(header, out)
    out.write("claims:\n")
    _print_json(claims, out)
    for claim in ("exp", "iat", "auth_time", "nbf"):
        described = _describe_time(claim, claims.get(claim), now)
        if described:
            out.write(f"{claim}: {described}\n")
    return EXIT_OK


def _step(out: TextIO, number: int, title: str) -> None:
    out.write(f"\n[{number}] {title}\n")


def _show(out: TextIO, label: str, value: Any) -> None:
    out.write(f"    {label}: {value}\n")


def _cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from .testing import LocalCognito  # only now: it generates keys

    with LocalCognito(token_lifetime=3600, refresh_token_rotation=False) as lc:
        username, password, email = "demo", "Demo-Passw0rd!", "demo@example.com"
        lc.add_user(username, password, email=email, groups=["demo-users"])
        config = lc.config
        if args.serve:
            out.write(f"LocalCognito is serving at {lc.url}\n")
            out.write(f"Sign in as {username!r} with password {password!r}.\n\n")
            out.write("Point your app at it with:\n")
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
                out.write(f"  export {name}={value}\n")
            out.write("\nPress Ctrl+C to stop.\n")
            out.flush()
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                return EXIT_OK
        return _demo_flow(lc, config, username, password, email, out)


def _demo_flow(
    lc: Any, config: CognitoConfig, username: str, password: str, email: str, out: TextIO
) -> int:
    out.write(f"cognito-helper {__version__} demo: the hosted-UI flow against LocalCognito\n")
    out.write(f"LocalCognito at {lc.url}, pool {config.user_pool_id}, client {config.client_id}\n")

    _step(out, 1, "start_login(): state, nonce and a PKCE verifier; send the user to:")
    login = config.start_login()
    _show(out, "url", login.url)

    _step(out, 2, f"the user signs in on the hosted UI as {username!r}; Cognito redirects back")
    redirect = lc.sign_in(login.url, username, password)
    from urllib.parse import parse_qs, urlsplit

    query = {k: v[0] for k, v in parse_qs(urlsplit(redirect).query).items()}
    if query.get("state") != login.state or "code" not in query:
        raise _DemoStepError("the redirect did not carry our state and a code")
    _show(out, "redirect", redirect.split("?", 1)[0] + "?code=<code>&state=<state matches>")

    _step(out, 3, "get_cognito_tokens(code, code_verifier=...): exchange the code with PKCE")
    tokens = get_cognito_tokens(query["code"], config=config, code_verifier=login.code_verifier)
    _show(out, "received", f"id_token, access_token, refresh_token; expires_in={tokens.expires_in}")

    _step(out, 4, "decode_verify_jwt(): verify both tokens (signature, iss, client, nonce...)")
    assert tokens.id_token is not None
    id_claims = decode_verify_jwt(
        tokens.id_token,
        config=config,
        token_use="id",
        nonce=login.nonce,
        access_token=tokens.access_token,
    )
    access_claims = decode_verify_jwt(tokens.access_token, config=config, token_use="access")
    for claim in ("sub", "cognito:username", "email", "cognito:groups", "aud"):
        _show(out, f"id token {claim}", id_claims.get(claim))
    _show(out, "id token exp", _describe_time("exp", id_claims["exp"], time.time()))
    _show(out, "access token scope", access_claims.get("scope"))
    _show(out, "access token client_id", access_claims.get("client_id"))

    _step(out, 5, "get_cognito_tokens(refresh_token=...): fresh tokens without a sign-in")
    refreshed = get_cognito_tokens(refresh_token=tokens.refresh_token, config=config)
    assert refreshed.id_token is not None
    again = decode_verify_jwt(refreshed.id_token, config=config, token_use="id")
    if again["sub"] != id_claims["sub"]:
        raise _DemoStepError("the refreshed ID token is for another user")
    _show(out, "new id token verified for sub", again["sub"])

    _step(out, 6, "get_user_info(access_token): the user's attributes from /oauth2/userInfo")
    info = get_user_info(refreshed.access_token, config=config)
    if info.get("email") != email:
        raise _DemoStepError("userInfo did not return the user's email")
    _show(out, "userInfo", json.dumps(info, sort_keys=True))

    _step(out, 7, "revoke_token(refresh_token): sign the user out everywhere")
    assert tokens.refresh_token is not None
    revoke_token(tokens.refresh_token, config=config)
    _show(out, "revoked", "ok")

    _step(out, 8, "the revoked refresh token no longer works")
    try:
        get_cognito_tokens(refresh_token=tokens.refresh_token, config=config)
    except InvalidGrantError as exc:
        _show(out, "InvalidGrantError as expected", exc.error)
    else:
        raise _DemoStepError("a revoked refresh token still worked")

    out.write("\nEvery step behaved as expected. Sign-out URL for the browser:\n")
    out.write(f"    {config.logout_url()}\n")
    return EXIT_OK


# -- entry point --------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cognito-helper",
        description="Amazon Cognito hosted-UI helper: demo, sign-in URLs, token exchange, "
        "verification. Configuration comes from COGNITO_* variables or --config FILE "
        "(a copy of config.example.py).",
    )
    parser.add_argument("--version", action="version", version=f"cognito-helper {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="FILE", help="a config.py defining cognito_config")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    demo = sub.add_parser("demo", help="run the whole sign-in flow against a local Cognito")
    demo.add_argument(
        "--serve",
        action="store_true",
        help="keep LocalCognito running and print its config instead",
    )
    demo.set_defaults(run=_cmd_demo)

    login = sub.add_parser("login-url", parents=[common], help="print a sign-in URL")
    login.add_argument(
        "--pkce",
        action="store_true",
        help="add state, nonce and PKCE; print them (and the verifier) as JSON",
    )
    login.add_argument("--state", help="an opaque state value to include")
    login.set_defaults(run=_cmd_login_url)

    exchange = sub.add_parser(
        "exchange",
        parents=[common],
        help="exchange an authorization code; prints the tokens as JSON",
    )
    exchange.add_argument("code")
    exchange.add_argument("--code-verifier", help="the PKCE verifier from login-url --pkce")
    exchange.add_argument("--redirect-uri", help="override the configured redirect URI")
    exchange.set_defaults(run=_cmd_exchange)

    refresh = sub.add_parser(
        "refresh", parents=[common], help="refresh tokens; prints them as JSON"
    )
    refresh.add_argument("refresh_token", nargs="?", help="the refresh token ('-': stdin)")
    refresh.set_defaults(run=_cmd_refresh)

    verify = sub.add_parser(
        "verify", parents=[common], help="verify a token; prints its claims as JSON"
    )
    verify.add_argument("token", nargs="?", help="the JWT ('-' or omitted: stdin)")
    verify.add_argument("--token-use", choices=["id", "access"])
    verify.add_argument("--leeway", type=float, default=0, help="seconds of grace on exp")
    verify.set_defaults(run=_cmd_verify)

    decode = sub.add_parser("decode", help="show a token's header and claims WITHOUT verifying")
    decode.add_argument("token", nargs="?", help="the JWT ('-' or omitted: stdin)")
    decode.set_defaults(run=_cmd_decode)
    return parser


def _fail(err: TextIO, exc: BaseException, hint: str) -> None:
    err.write(f"error: {type(exc).__name__}: {exc}\n")
    if hint:
        err.write(f"hint: {hint}\n")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the command line; return the exit code (see the module docstring)."""
    parser = _parser()
    args = parser.parse_args(argv)
    out, err = sys.stdout, sys.stderr
    handlers: List[Tuple[Type[Exception], int, str]] = [
        (
            ConfigError,
            EXIT_USAGE,
            "set COGNITO_USER_POOL_ID, COGNITO_CLIENT_ID, COGNITO_DOMAIN "
            "(and COGNITO_REDIRECT_URI) or pass --config config.py",
        ),
        (CognitoConnectionError, EXIT_UNREACHABLE, "check the domain / network; try again"),
        (InvalidGrantError, EXIT_REJECTED, "the code or refresh token is dead: sign in again"),
        (TokenExchangeError, EXIT_REJECTED, ""),
        (TokenVerificationError, EXIT_REJECTED, ""),
        (ValueError, EXIT_USAGE, ""),
        (_DemoStepError, EXIT_REJECTED, "the demo flow did not behave as expected"),
    ]
    run: Callable[[argparse.Namespace, TextIO], int] = args.run
    try:
        return run(args, out)
    except BrokenPipeError:
        return EXIT_OK
    except tuple(kind for kind, _, _ in handlers) as exc:
        for kind, code, hint in handlers:
            if isinstance(exc, kind):
                _fail(err, exc, hint)
                return code
        raise  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
