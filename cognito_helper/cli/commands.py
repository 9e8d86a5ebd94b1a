"""The commands that work on one pool's tokens: login-url, exchange, refresh, m2m-token, verify,
decode.

Each takes the run's :class:`~cognito_helper.cli.context.Context` and returns the exit code.
The modules that need HTTP or crypto (token exchange, verification) are imported inside the
command that uses them, so ``--help``, ``--version`` and ``decode`` start fast.
"""

from __future__ import annotations

import json
import shlex
import time
from typing import TYPE_CHECKING, Any, Dict, Optional, TextIO
from urllib.parse import parse_qs, urlsplit

from ..verification.jws import decode_unverified
from .context import EXCHANGE_COMMAND, EXIT_OK, Context, RefreshTokenGivenError, UsageError

if TYPE_CHECKING:
    from ..oauth.endpoints import Tokens

__all__ = [
    "describe_time",
    "run_decode",
    "run_exchange",
    "run_login_url",
    "run_m2m_token",
    "run_refresh",
    "run_verify",
    "write_exports",
]


# -- reading arguments --------------------------------------------------------------------


def _read_value(value: Optional[str], ctx: Context, what: str) -> str:
    """An argument, or standard input when it is omitted or ``-``; never empty."""
    if value is None or value == "-":
        stdin = ctx.stdin
        if stdin is None or stdin.isatty():
            raise UsageError(f"no {what} given: pass it as an argument or pipe it on stdin")
        value = stdin.read()
    value = value.strip()
    if not value:
        raise UsageError(f"the {what} is empty: pass it as an argument or pipe it on stdin")
    return value


def _read_jwt(value: Optional[str], ctx: Context) -> str:
    """A JWT from the argument or stdin; a pasted ``Authorization: Bearer ...`` value is fine."""
    token = _read_value(value, ctx, "token")
    for prefix in ("authorization:", "bearer "):
        if token.lower().startswith(prefix):
            token = token[len(prefix) :].strip()
    if token.count(".") == 4:
        raise RefreshTokenGivenError(
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
        raise UsageError(
            f"the redirect carries error={query['error'][0]} {description}".rstrip()
            + ": the sign-in failed, so there is no code to exchange"
        )
    codes = query.get("code")
    if not codes:
        raise UsageError("the URL has no ?code= parameter: pass the code or the redirect URL")
    return codes[0]


# -- output -------------------------------------------------------------------------------


def _human_delta(seconds: float) -> str:
    seconds = abs(int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}"
    return f"{seconds} s"


def describe_time(claim: str, value: Any, now: float) -> Optional[str]:
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


def write_exports(out: TextIO, variables: Dict[str, str]) -> None:
    """One ``export NAME=VALUE`` line per variable, quoted for a POSIX shell."""
    for name, value in variables.items():
        out.write(f"export {name}={shlex.quote(value)}\n")


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


# -- the commands -------------------------------------------------------------------------


def run_login_url(ctx: Context) -> int:
    """Print the sign-in URL; with ``--pkce``, JSON with it and its state, nonce and verifier."""
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
        ctx.err.write(f"next: open the url and sign in; then run\n  {EXCHANGE_COMMAND}\n")
    else:
        ctx.out.write(config.login_url(state=args.state, redirect_uri=args.redirect_uri) + "\n")
    return EXIT_OK


def run_exchange(ctx: Context) -> int:
    """Exchange the code (or the redirect URL's code) for tokens; print them as JSON."""
    from ..oauth.endpoints import get_cognito_tokens  # imported here: it needs requests

    args = ctx.args
    code = ctx.grant = _code_from(_read_value(args.code, ctx, "code"))
    tokens = get_cognito_tokens(
        code, config=ctx.config, code_verifier=args.code_verifier, redirect_uri=args.redirect_uri
    )
    _print_json(_tokens_json(tokens), ctx.out)
    return EXIT_OK


def run_refresh(ctx: Context) -> int:
    """Use the refresh token (argument or stdin) for new tokens; print them as JSON."""
    from ..oauth.endpoints import get_cognito_tokens  # imported here: it needs requests

    refresh_token = ctx.grant = _read_value(ctx.args.refresh_token, ctx, "refresh token")
    tokens = get_cognito_tokens(refresh_token=refresh_token, config=ctx.config)
    _print_json(_tokens_json(tokens), ctx.out)
    return EXIT_OK


def run_m2m_token(ctx: Context) -> int:
    """Ask for a client-credentials access token; print the token response as JSON.

    One request, no cache: each run is one billed token request.
    """
    from ..oauth.endpoints import get_client_credentials_token  # imported here: it needs requests

    args = ctx.args
    tokens = get_client_credentials_token(args.scope, config=ctx.config, resource=args.resource)
    response = {
        "access_token": tokens.access_token,
        "expires_in": tokens.expires_in,
        "token_type": tokens.token_type,
    }
    _print_json(response, ctx.out)
    return EXIT_OK


def run_verify(ctx: Context) -> int:
    """Verify the token against the configured pool(s) and what the options ask; print its
    claims as JSON. Several configs (``--config`` files, ``COGNITO_CLIENT_ID`` ids) are
    handed to the library as a list, which checks the token against the one it names."""
    from ..verification.cognito import decode_verify_jwt  # imported here: it needs crypto and HTTP

    args = ctx.args
    token = ctx.token = _read_jwt(args.token, ctx)
    configs = ctx.configs
    claims = decode_verify_jwt(
        token,
        config=configs[0] if len(configs) == 1 else list(configs),
        token_use=args.token_use,
        leeway=args.leeway,
        nonce=args.nonce,
        access_token=args.access_token,
        groups=args.group,
        scopes=args.scope,
        audience=args.audience,
    )
    _print_json(claims, ctx.out)
    return EXIT_OK


def run_decode(ctx: Context) -> int:
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
    times = [(c, describe_time(c, claims.get(c), now)) for c in ("exp", "iat", "auth_time", "nbf")]
    shown = [(claim, text) for claim, text in times if text]
    if shown:
        err.write("times:\n")
        for claim, text in shown:
            err.write(f"  {claim:<9} {text}\n")
    err.write(banner + "\n")
    return EXIT_OK
