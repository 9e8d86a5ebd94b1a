"""What the command prints for an error: one ``error:`` line, then a ``hint:`` saying what to fix.

:func:`diagnose` picks the exit code and the lines; the hints name the setting to fix as the
user sets it (the ``COGNITO_*`` variable, or the key in their ``--config`` file).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Optional, Tuple
from urllib.parse import urlsplit

from ..core import errors
from ..settings.config import CognitoConfig
from ..settings.env import ENV_NAMES, NotConfiguredError
from ..verification.jws import decode_unverified
from .context import (
    EXIT_REJECTED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    Context,
    DemoStepError,
    RefreshTokenGivenError,
    UsageError,
)
from .discover import DISCOVER_HINT

__all__ = ["diagnose"]

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

_CHECKS: Tuple[Tuple[type, str], ...] = (
    (errors.MalformedTokenError, "format (three base64url parts, RS256 header with a kid)"),
    (errors.UnknownKeyError, "signing key (the kid is not in the pool's JWKS)"),
    (errors.InvalidSignatureError, "signature"),
    (errors.TokenExpiredError, "expiry (exp)"),
)

_FIELD_FIRST = re.compile(r"(?:config key )?'?([A-Za-z_]+)'?")


def _other_client_hint(ctx: Context) -> str:
    """The hint for a token of an app client that is not trusted."""
    if ctx.several_files:
        return (
            "the token was issued to an app client none of the --config files names: add a "
            "--config for that app client"
        )
    if ctx.config_path:
        return (
            f"the token was issued to another app client: check {ctx.setting('client_id')}, "
            "or give --config once more for that app client"
        )
    return (
        f"the token was issued to another app client: check {ctx.setting('client_id')} "
        "(verify takes several ids of the pool, separated by spaces)"
    )


def _audience_hint(exc: errors.InvalidClaimsError, ctx: Context) -> Optional[str]:
    """The hint for ``aud`` refused by ``--audience``; None when the app client was refused."""
    claims = exc.claims
    if not getattr(ctx.args, "audience", None) or not isinstance(claims, dict):
        return None  # before the signature verified, only the app client is compared
    if claims.get("token_use") == "access":
        return (
            "the access token is not bound to that resource: get one asked for with Cognito's "
            "resource parameter set to it (and registered on the app client), or check "
            "--audience"
        )
    if claims.get("aud") in {config.client_id for config in ctx.trusted or ()}:
        return (
            "--audience checks access tokens (an ID token's aud is its app client): pass the "
            "access_token, or drop --audience"
        )
    return None


def _asked_hint(claim: str, use: object, ctx: Context) -> str:
    """The hint for a check that an option of verify asked for (``use``: the token's kind)."""
    if claim == "nonce":
        if use != "id":
            return "only an ID token carries a nonce: pass the id_token, or drop --nonce"
        return (
            "the ID token is not from the sign-in that nonce was made for: pass the nonce "
            "`cognito-helper login-url --pkce` printed with this sign-in's URL"
        )
    if claim == "at_hash":
        return (
            "the ID token was not issued with that access token: pass the access_token of "
            "the same sign-in as --access-token"
        )
    if claim == "cognito:groups":
        return (
            "the user is in none of the groups given with --group: add the user to one in the "
            "pool (then sign in again), or check --group"
        )
    if claim == "scope":
        if use == "id":
            return "scopes are in access tokens: pass the access_token, or drop --scope"
        return (
            "the token grants none of the scopes given with --scope: sign in asking for one "
            f"({ctx.setting('scopes')}; the app client must allow it), or check --scope"
        )
    return ""


def _claim_failure(exc: errors.InvalidClaimsError, ctx: Context) -> Tuple[str, str]:
    """(which claim failed, what to do) for a token whose claims were refused."""
    claim = exc.claim or "?"
    claims = exc.claims if isinstance(exc.claims, dict) else {}
    if claim == "aud":
        hint = _audience_hint(exc, ctx)
        if hint is not None:
            return f"claim {claim!r}", hint
    pools = (
        f"the token is from none of the pools of the --config files: check "
        f"{ctx.setting('user_pool_id')}, or add a --config for its pool"
        if ctx.several_files
        else f"the token is from another pool: check {ctx.setting('user_pool_id')} "
        f"(and {ctx.setting('issuer')} for the UPDATED issuer form)"
    )
    hints = {
        "iss": pools,
        "aud": _other_client_hint(ctx),
        "client_id": _other_client_hint(ctx),
        "token_use": "it is the other kind of token: change or drop --token-use",
        "nbf": "the token is not valid yet; --leeway N tolerates clock skew",
        "iat": "the token claims to be issued in the future: check this machine's clock",
    }
    hint = hints.get(claim) or _asked_hint(claim, claims.get("token_use"), ctx)
    return f"claim {claim!r}", hint


def _verification_failure(exc: errors.TokenVerificationError, ctx: Context) -> Tuple[str, str]:
    """(which check failed, what to do) for a rejected token."""
    if isinstance(exc, errors.InvalidClaimsError):
        return _claim_failure(exc, ctx)
    check = next((name for kind, name in _CHECKS if isinstance(exc, kind)), "verification")
    hints_by_kind = {
        RefreshTokenGivenError: f"`cognito-helper {ctx.args.command}` takes an ID or access "
        "token (3 dot-separated parts): the id_token or access_token from `cognito-helper "
        "exchange` or `refresh`",
        errors.MalformedTokenError: "pass the ID or access token exactly as the token endpoint "
        "returned it: header.payload.signature, with no quotes (`jq -r` prints it so)",
        errors.UnknownKeyError: f"the token was not signed by this pool: check "
        f"{ctx.setting('user_pool_id')} (or {ctx.setting('jwks_url')})",
        errors.InvalidSignatureError: "the token was altered, or signed by someone else: do not "
        "trust it",
        errors.TokenExpiredError: "get new tokens with `cognito-helper refresh`; --leeway N "
        "tolerates N seconds of clock skew",
    }
    hint = next((h for kind, h in hints_by_kind.items() if isinstance(exc, kind)), "")
    return check, hint


def _m2m_hint(error: Optional[str], ctx: Context) -> Optional[str]:
    """The hint for a refused client-credentials request, when it differs from the others'."""
    hints = {
        "invalid_scope": "ask for custom scopes of a resource server the app client may use "
        "(--scope RESOURCE_SERVER/SCOPE), or give no --scope for all of them",
        "unauthorized_client": "the app client must allow the client_credentials grant (and "
        f"have a secret: {ctx.setting('client_secret')})",
        "invalid_request": "a parameter is missing or malformed; a --resource must be the "
        "identifier of a resource server the app client may ask for",
    }
    return hints.get(error or "")


def _exchange_hint(exc: errors.TokenExchangeError, ctx: Context) -> str:
    if ctx.args.command == "m2m-token":
        hint = _m2m_hint(exc.error, ctx)
        if hint is not None:
            return hint
    if isinstance(exc, errors.InvalidGrantError):
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
        "invalid_scope": "the app client does not allow the scopes asked for "
        f"({ENV_NAMES['scopes']})",
    }
    return hints.get(exc.error or "", "")


def _pool_url_hint(field: str, ctx: Context) -> str:
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


def _field_of(exc: errors.ConfigError, ctx: Context) -> str:
    """The field (or variable's field) a configuration error's message starts with."""
    path = ctx.config_path
    message = str(exc).removeprefix("from the COGNITO_* environment variables: ")
    if path:
        message = message.removeprefix(f"{path}: ")
    match = _FIELD_FIRST.match(message)
    word = match.group(1) if match else ""
    by_variable = {name: field for field, name in ENV_NAMES.items()}
    return by_variable.get(word, word)


def _setting_hint(field: str, ctx: Context) -> str:
    """The hint for a setting of ``ENV_NAMES`` that is unset or refused."""
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


def _config_hint(exc: errors.ConfigError, ctx: Context) -> str:
    """Which setting to fix, where, and how, for a configuration error."""
    field = _field_of(exc, ctx)
    if ctx.args.command == "discover":
        return f"--client-id must be {_FORMS[field]}" if field == "client_id" else DISCOVER_HINT
    config = ctx.loaded
    if ctx.args.command == "m2m-token" and config is not None and not config.client_secret:
        field = "client_secret"  # the grant's own refusal: "... needs client_secret ..."
    if field == "redirect_uri" and getattr(ctx.args, "redirect_uri", None) is not None:
        return f"--redirect-uri must be {_FORMS['redirect_uri']}"
    if field in ENV_NAMES:
        return _setting_hint(field, ctx)
    path = ctx.config_path
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
    except (errors.CognitoError, ValueError, RecursionError):
        return None
    kinds = {"access": "an access token", "id": "an ID token"}
    return kinds.get(str(claims.get("token_use")), "a JWT")


def _argument_hint(ctx: Context) -> str:
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


def _config_of_token(ctx: Context) -> Optional[CognitoConfig]:
    """The one of verify's configs the token's (unverified) ``iss`` names, if known."""
    trusted = ctx.trusted or ()
    if len(trusted) == 1:
        return trusted[0]
    try:
        iss = decode_unverified(ctx.token or "")[1].get("iss")
    except (errors.CognitoError, ValueError, RecursionError):
        return None
    return next((config for config in trusted if iss in config.issuers), None)


def _unreachable_hint(ctx: Context) -> str:
    """The hint for a Cognito (or JWKS) that could not be used."""
    if ctx.args.command == "verify":
        config = _config_of_token(ctx)
    else:
        config = ctx.loaded
    if ctx.args.command == "verify" and config is not None:
        return (
            f"the JWKS URL {config.jwks_url} could not be used: check "
            f"{ctx.setting('user_pool_id')} (or {ctx.setting('jwks_url')}) and the network"
        )
    if config is not None and config.domain:
        return (
            f"the hosted-UI domain {config.domain} could not be used: check "
            f"{ctx.setting('domain')} and the network"
        )
    return "check the network"


def _with_hint(code: int, lines: List[str], hint: str) -> Tuple[int, List[str]]:
    return code, [*lines, f"hint: {hint}"] if hint else lines


def diagnose(exc: BaseException, ctx: Context) -> Tuple[int, List[str]]:
    """The exit code and the lines to print for an error."""
    command = ctx.args.command
    if isinstance(exc, UsageError):
        hint = exc.hint or f"see `cognito-helper {command} --help`"
        return EXIT_USAGE, [f"error: {exc}", f"hint: {hint}"]
    if isinstance(exc, ValueError) and not isinstance(exc, errors.ConfigError):
        return EXIT_USAGE, [f"error: invalid argument: {exc}", f"hint: {_argument_hint(ctx)}"]
    if isinstance(exc, DemoStepError):
        return EXIT_REJECTED, [
            f"error: {exc}",
            "hint: the demo flow did not behave as expected; please report this",
        ]
    if isinstance(exc, NotConfiguredError):
        return EXIT_USAGE, [f"error: ConfigError: {exc}"]
    # The library's exception, not one of the CLI's refinements of it.
    name = next(k.__name__ for k in type(exc).__mro__ if k.__module__ == errors.__name__)
    lines = [f"error: {name}: {exc}"]
    if isinstance(exc, errors.ConfigError):
        return _with_hint(EXIT_USAGE, lines, _config_hint(exc, ctx))
    if isinstance(exc, errors.CognitoConnectionError):
        return _with_hint(EXIT_UNREACHABLE, lines, f"{_unreachable_hint(ctx)}, then try again")
    if isinstance(exc, errors.TokenVerificationError):
        check, hint = _verification_failure(exc, ctx)
        return _with_hint(EXIT_REJECTED, [*lines, f"failed check: {check}"], hint)
    if isinstance(exc, errors.TokenExchangeError):
        return _with_hint(EXIT_REJECTED, lines, _exchange_hint(exc, ctx))
    return EXIT_REJECTED, lines  # another CognitoError
