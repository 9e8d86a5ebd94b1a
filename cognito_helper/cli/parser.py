"""The ``cognito-helper`` command line: the commands, their arguments and their help.

Each command's parser is set up by one function named after it; every parsed command carries
``run``, the function that carries it out.
"""

from __future__ import annotations

import argparse
from typing import Callable, List, NoReturn

from .._version import __version__
from ..settings.config import DEFAULT_TIMEOUT
from ..settings.env import ENV_NAMES
from .commands import (
    run_decode,
    run_exchange,
    run_login_url,
    run_m2m_token,
    run_refresh,
    run_verify,
)
from .context import Context
from .demo import DEFAULT_APP_URL, run_demo
from .discover import run_discover

__all__ = ["build_parser"]

# What the help says of each setting's variable; the others are listed by name only.
_VARIABLE_HELP = {
    "user_pool_id": "required, e.g. us-east-1_AbC123",
    "client_id": "required; verify takes several, separated by spaces",
    "client_secret": "confidential app clients only; m2m-token needs it",
    "domain": "hosted-UI domain: prefix, custom host or URL",
    "redirect_uri": "registered callback URL (login-url, exchange)",
    "logout_uri": "registered sign-out URL",
}

_CONFIG_HELP = (
    "a config.py defining cognito_config (a copy of config.example.py); before or after "
    "the command (demo takes none)"
)

_SEVERAL_CONFIGS_HELP = (
    "a config.py defining cognito_config (a copy of config.example.py); before or after "
    "the command. Give it once for each pool or app client the token may come from"
)

_FORMATTER = argparse.RawDescriptionHelpFormatter


def _environment_help() -> str:
    """The epilog: the ``COGNITO_*`` variables (from the one table) and the exit codes."""
    described = [f"  {ENV_NAMES[field]:<22} {text}" for field, text in _VARIABLE_HELP.items()]
    others = [name for field, name in ENV_NAMES.items() if field not in _VARIABLE_HELP]
    return "\n".join(
        [
            "configuration (when --config is not given):",
            *described,
            f"  {', '.join([*others, 'COGNITO_JWKS'])}: see docs/configuration.md",
            "",
            "exit codes:",
            "  0 ok, 1 token or grant rejected, 2 usage or configuration error, 3 Cognito "
            "unreachable",
            "",
        ]
    )


class _Parser(argparse.ArgumentParser):
    """argparse, with a way out of its one trap here: a value that starts with '-'."""

    def error(self, message: str) -> NoReturn:
        """Print usage and ``message`` and exit 2, saying how to pass a verifier with '-'."""
        for option in ("--code-verifier", "--nonce", "--state"):
            if f"{option}: expected one argument" in message:
                message += f" (a value that starts with '-' must be written {option}=V)"
        super().error(message)


class _Commands:
    """Adds a command to the parser, with ``--config`` accepted after it where it applies."""

    def __init__(self, parser: argparse.ArgumentParser) -> None:
        self.epilog = _environment_help()
        # Also accepted after the subcommand, kept apart from those before it (a subcommand's
        # values replace its parent's): Context.config_paths puts both together, in order.
        self.common = self._config_option(_CONFIG_HELP)
        self.several = self._config_option(_SEVERAL_CONFIGS_HELP)
        # Parsed after `demo` and `decode` too, so that each can answer it (refuse, ignore).
        self.unused = self._config_option(argparse.SUPPRESS)
        self.sub = parser.add_subparsers(dest="command", metavar="COMMAND")
        self.sub.required = True

    def add(
        self,
        name: str,
        summary: str,
        description: str,
        run: Callable[[Context], int],
        *,
        configured: bool = True,
        several: bool = False,
    ) -> argparse.ArgumentParser:
        """The parser of command ``name``, which ``run`` carries out.

        ``configured``: it uses the pool's config; ``several``: it takes several of them.
        """
        parent = self.several if several else self.common if configured else self.unused
        command: argparse.ArgumentParser = self.sub.add_parser(
            name,
            parents=[parent],
            help=summary,
            description=description,
            epilog=self.epilog if configured else None,
            formatter_class=_FORMATTER,
        )
        command.set_defaults(run=run)
        return command

    @staticmethod
    def _config_option(help_text: str) -> argparse.ArgumentParser:
        """A parent parser with the ``--config`` accepted after a command."""
        parent = _Parser(add_help=False)
        parent.add_argument(
            "--config",
            action="append",
            dest="config_after",
            metavar="FILE",
            default=argparse.SUPPRESS,
            help=help_text,
        )
        return parent


def _text(what: str) -> Callable[[str], str]:
    """An option's value that must not be blank; ``what`` names it in the refusal."""

    def check(text: str) -> str:
        if not text.strip():
            raise argparse.ArgumentTypeError(f"{what} is empty")
        return text

    return check


def _scope_names(text: str) -> List[str]:
    """``--scope``: one scope name, or several separated by spaces (as COGNITO_SCOPES)."""
    names = text.split()
    if not names:
        raise argparse.ArgumentTypeError("the scope is empty: give a scope name, e.g. openid")
    return names


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


def _add_demo(commands: _Commands) -> None:
    demo = commands.add(
        "demo",
        "run the whole sign-in flow against a local Cognito (no AWS needed)",
        "Start LocalCognito, create the user 'demo', and walk the hosted-UI flow through the\n"
        "library: sign-in URL, sign-in, code exchange with PKCE, verification, refresh,\n"
        "userInfo, revocation. Exits 0 only if every step behaved as expected.\n"
        "With --serve, keep LocalCognito running and print the COGNITO_* variables that\n"
        "point an app (or the other commands) at it, and those of a confidential app client\n"
        "for m2m-token (its throwaway secret included). Takes no --config.",
        run_demo,
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


def _add_login_url(commands: _Commands) -> None:
    login = commands.add(
        "login-url",
        "print a sign-in URL for the configured pool",
        "Print the hosted-UI /oauth2/authorize URL. With --pkce, print JSON with the URL and\n"
        "the state, nonce and PKCE code_verifier it was made with (keep the verifier for\n"
        "`exchange --code-verifier=V`).",
        run_login_url,
    )
    login.add_argument(
        "--pkce", action="store_true", help="add state, nonce and PKCE; print them as JSON"
    )
    login.add_argument("--state", help="an opaque state value to include (without --pkce)")
    login.add_argument(
        "--redirect-uri", metavar="URL", help=f"instead of {ENV_NAMES['redirect_uri']}"
    )


def _add_exchange(commands: _Commands) -> None:
    exchange = commands.add(
        "exchange",
        "exchange an authorization code for tokens (prints them as JSON)",
        "Exchange an authorization code at /oauth2/token and print the tokens as JSON.\n"
        "CODE may also be the whole redirect URL the browser landed on, or '-' for stdin.\n"
        "Codes are single-use and live 5 minutes.",
        run_exchange,
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


def _add_refresh(commands: _Commands) -> None:
    refresh = commands.add(
        "refresh",
        "get new tokens with a refresh token (prints them as JSON)",
        "Use a refresh token at /oauth2/token and print the new tokens as JSON. The refresh\n"
        "token is read from stdin when omitted or '-' (keeps it out of shell history).",
        run_refresh,
    )
    refresh.add_argument(
        "refresh_token", metavar="REFRESH_TOKEN", nargs="?", help="omitted or '-': stdin"
    )


def _add_m2m_token(commands: _Commands) -> None:
    m2m = commands.add(
        "m2m-token",
        "get a machine-to-machine access token (prints the token response as JSON)",
        "Ask /oauth2/token for an access token with the client_credentials grant and print\n"
        "the token response (access_token, expires_in, token_type) as JSON. Needs a\n"
        f"confidential app client ({ENV_NAMES['client_secret']}) allowed that grant. Each run\n"
        "is one token request, which AWS bills: cache the token for its lifetime.\n"
        'For curl: -H "Authorization: Bearer $(cognito-helper m2m-token | jq -r .access_token)"',
        run_m2m_token,
    )
    m2m.add_argument(
        "--scope",
        action="extend",
        type=_scope_names,
        metavar="SCOPE",
        help="a custom scope to ask for (repeatable; one value may list several, separated by "
        "spaces); default: every scope the app client may ask for",
    )
    m2m.add_argument(
        "--resource",
        type=_text("the resource"),
        metavar="URI",
        help="bind the token to this API (a resource server identifier): its aud",
    )


def _seconds(text: str) -> float:
    """``--timeout``: a number of seconds, more than 0 and at most 300."""
    try:
        seconds = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not 0 < seconds <= 300:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 300 seconds")
    return seconds


def _add_discover(commands: _Commands) -> None:
    discover = commands.add(
        "discover",
        "print a pool's COGNITO_* variables, read from its OpenID configuration",
        "Read the pool's OpenID configuration from URL, its issuer\n"
        "(https://cognito-idp.REGION.amazonaws.com/POOL_ID) or the document's own URL\n"
        "(ISSUER/.well-known/openid-configuration), and print the settings it gives as\n"
        "export lines: COGNITO_USER_POOL_ID, COGNITO_DOMAIN, and COGNITO_ISSUER and\n"
        "COGNITO_JWKS_URL when they are not the pool's defaults; COGNITO_CLIENT_ID with\n"
        "--client-id. It prints no secret: set COGNITO_CLIENT_SECRET yourself.\n"
        'For a shell: eval "$(cognito-helper discover URL --client-id ID)". Ignores --config.',
        run_discover,
        configured=False,
    )
    discover.add_argument("url", metavar="URL", help="the pool's issuer, or its document's URL")
    discover.add_argument(
        "--client-id",
        type=_text("the client id"),
        metavar="ID",
        help="the app client's id: printed as COGNITO_CLIENT_ID",
    )
    discover.add_argument(
        "--timeout",
        type=_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"bound on the request (default {DEFAULT_TIMEOUT:g})",
    )


def _add_jwt_argument(command: argparse.ArgumentParser) -> None:
    """The TOKEN argument of a command that reads a JWT."""
    command.add_argument("token", metavar="TOKEN", nargs="?", help="the JWT; omitted or '-': stdin")


def _add_verify(commands: _Commands) -> None:
    verify = commands.add(
        "verify",
        "verify a token; prints its claims as JSON",
        "Verify an ID or access token with every check AWS requires (RS256 signature with the\n"
        "pool's JWKS, exp, iss, token_use, aud/client_id) and print its claims as JSON.\n"
        "On failure, print the check that failed and exit 1.\n"
        "Several pools or app clients: give --config once for each, or list the app client\n"
        "ids of the one pool in COGNITO_CLIENT_ID, separated by spaces; the token is checked\n"
        "against the one its iss and aud/client_id name. Replica regions of a multi-Region\n"
        "pool: COGNITO_REPLICA_REGIONS (comma-separated) trusts their issuers too.\n"
        "--scope, --group and --audience may be given more than once: the token must hold\n"
        "at least one of the values given.",
        run_verify,
        several=True,
    )
    _add_jwt_argument(verify)
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
    for flag, action, kind, metavar, text in _CHECK_OPTIONS:
        verify.add_argument(flag, action=action, type=kind, metavar=metavar, help=text)


# The checks `verify` can ask for beyond the standard ones: flag, argparse action, value type,
# metavar, help. --scope, --group and --audience may be repeated: one of the values must hold.
_CHECK_OPTIONS = (
    (
        "--scope",
        "extend",
        _scope_names,
        "SCOPE",
        "the access token must grant this scope (or another one given; one value may list "
        "several, separated by spaces)",
    ),
    (
        "--group",
        "append",
        _text("the group"),
        "GROUP",
        "the user must be in this group, by cognito:groups (or in another one given)",
    ),
    (
        "--audience",
        "append",
        _text("the audience"),
        "URI",
        "the access token must be bound to this resource, by aud (or to another one given)",
    ),
    (
        "--nonce",
        "store",
        _text("the nonce"),
        "NONCE",
        "the ID token's nonce must be this one (from `login-url --pkce`)",
    ),
    (
        "--access-token",
        "store",
        _text("the access token"),
        "TOKEN",
        "the ID token's at_hash, when it has one, must match this access token",
    ),
)


def _add_decode(commands: _Commands) -> None:
    decode = commands.add(
        "decode",
        "show a token's header and claims WITHOUT verifying",
        "Show a JWT's header and claims WITHOUT verifying anything, with readable times\n"
        "(expires in 42 min / expired 3 h ago). Needs no configuration. Never trust the\n"
        "output: anyone can make a token that decodes to anything; use `verify`.\n"
        'Prints {"header": ..., "claims": ...} as JSON on stdout; the UNVERIFIED banners\n'
        "and the readable times go to stderr. Ignores --config.",
        run_decode,
        configured=False,
    )
    _add_jwt_argument(decode)


def build_parser() -> argparse.ArgumentParser:
    """The parser of the whole command line, every command included."""
    parser = _Parser(
        prog="cognito-helper",
        description="Amazon Cognito hosted-UI helper: a demo of the whole sign-in flow, "
        "sign-in URLs, code and refresh-token exchange, machine-to-machine tokens, token "
        "verification and decoding.",
        epilog=_environment_help(),
        formatter_class=_FORMATTER,
    )
    parser.add_argument("--version", action="version", version=f"cognito-helper {__version__}")
    parser.add_argument("--config", action="append", metavar="FILE", help=_CONFIG_HELP)
    commands = _Commands(parser)
    adders = (
        _add_demo,
        _add_login_url,
        _add_exchange,
        _add_refresh,
        _add_m2m_token,
        _add_verify,
        _add_decode,
        _add_discover,
    )
    for add in adders:
        add(commands)
    return parser
