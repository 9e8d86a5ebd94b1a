"""Secret hygiene: what a confidential client sends never shows up anywhere it should not.

Every public function and every CLI subcommand runs through success and failure paths with the
root logger at DEBUG and ``requests``/``urllib3`` logging on. Logs, stdout, stderr, exception
``str()``/``repr()``, formatted tracebacks and the whole exception chain (suppressed context
included) must not contain the client secret, the Basic header value, an authorization code, a
refresh token or a code verifier. The CLI's ``exchange``/``refresh`` print tokens (their job)
and ``login-url --pkce`` prints the verifier (its job): those, and only those, are allowed.

Each case is one public function (``LIBRARY_CASES``) or one subcommand (``CLI_CASES``,
``IN_PROCESS_CLI_CASES``), so a failing test's id names the function and its message names the
secret and the call or stream that showed it.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import os
import re
import subprocess
import sys
import traceback
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple, TypeVar
from urllib.parse import parse_qs

import pytest

import cognito_helper
from cognito_helper import (
    CognitoConfig,
    CognitoConnectionError,
    ConfigError,
    InvalidGrantError,
    LoginRequest,
    TokenExchangeError,
    Tokens,
    TokenVerificationError,
    configure,
    decode_unverified,
    decode_verify_jwt,
    forget_jwks_caches,
    get_client_credentials_token,
    get_cognito_tokens,
    get_config,
    get_user_info,
    jwks_cache,
    pkce_challenge,
    revoke_token,
)
from cognito_helper.testing import LocalCognito

from .helpers import MakeLocalCognito, SignIn, sign_in
from .servers import Handler, ScriptedServer, closed_port, hold, send

SECRET = "7kq2v9secretclientvalue4m1x8z3p6w0r5t2y7u4i1o8"
WRONG_SECRET = "0wrongsecretvalue9z8y7x6w5v4u3t2s1r0q9p8o7n6m5"
OTHER_WRONG_SECRET = "1otherwrongsecret8y7x6w5v4u3t2s1r0q9p8o7n6m5l"
CognitoError = cognito_helper.CognitoError
HTTP_LOG = "Starting new HTTP connection"  # urllib3's DEBUG line: the logs were captured
Case = TypeVar("Case", bound=Callable[..., None])


def case_of(table: Dict[str, Any], name: str) -> Callable[[Case], Case]:
    """A decorator: the function is ``table[name]``, one parametrised case of a test below."""

    def register(run: Case) -> Case:
        table[name] = run
        return run

    return register


# -- what must not leak -------------------------------------------------------------------


@dataclass
class Secrets:
    """Every sensitive value seen so far, by kind."""

    values: Dict[str, Set[str]] = field(default_factory=dict)

    def add(self, kind: str, value: Optional[str]) -> Optional[str]:
        if value:
            self.values.setdefault(kind, set()).add(value)
        return value

    def add_client(self, client_id: str, secret: str) -> None:
        self.add("client secret", secret)
        basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        self.add("Basic header value", basic)
        self.add("Basic header value", "Basic " + basic)

    def add_sign_in(self, got: SignIn) -> SignIn:
        self.add("code", got.code)
        self.add("code verifier", got.code_verifier)
        return got

    def add_tokens(self, tokens: Tokens) -> Tokens:
        self.add("refresh token", tokens.refresh_token)
        self.add("token", tokens.access_token)
        self.add("token", tokens.id_token)
        return tokens

    def found_in(self, text: str, *, allowed: Sequence[str] = ()) -> List[str]:
        return [
            f"{kind}: {value[:12]}..."
            for kind, values in self.values.items()
            if kind not in allowed
            for value in values
            if value in text
        ]


def exception_texts(exc: BaseException) -> List[str]:
    """``str``, ``repr`` and the formatted traceback of ``exc``, and the same for every
    exception chained to it (suppressed context too), with the attributes that carry data
    (a requests exception's request, a decode error's document...)."""
    texts = ["".join(traceback.format_exception(type(exc), exc, exc.__traceback__))]
    seen: Set[int] = set()
    todo: List[BaseException] = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        texts += [str(current), repr(current), repr(current.args), repr(vars(current))]
        request = getattr(current, "request", None)
        if request is not None:
            texts += [repr(getattr(request, "headers", "")), repr(getattr(request, "body", ""))]
        for name in ("doc", "object", "response", "description", "error"):
            texts.append(repr(getattr(current, name, "")))
        todo += [e for e in (current.__cause__, current.__context__) if e is not None]
    return texts


class Record:
    """Runs calls, keeping their exceptions and reprs, labelled, for the final scan."""

    def __init__(self) -> None:
        self.texts: List[Tuple[str, str]] = []
        self.outcomes: List[Tuple[str, str]] = []

    def show(self, label: str, *texts: str) -> None:
        self.texts += [(label, text) for text in texts]

    def call(self, label: str, fn: Callable[[], Any], expect: Optional[type] = None) -> Any:
        try:
            result = fn()
        except Exception as exc:
            self.show(label, *exception_texts(exc))
            self.outcomes.append((label, type(exc).__name__))
            if expect is None or not isinstance(exc, expect):
                raise AssertionError(f"{label}: unexpected {type(exc).__name__}: {exc}") from exc
            return None
        self.outcomes.append((label, "ok"))
        if expect is not None:
            raise AssertionError(f"{label}: expected {expect.__name__}, it succeeded")
        self.show(label, repr(result))
        return result


@pytest.fixture
def confidential_lc(make_lc: MakeLocalCognito) -> LocalCognito:
    """A confidential client (it has SECRET) whose refresh tokens rotate."""
    return make_lc(client_secret=SECRET, refresh_token_rotation=True)


@pytest.fixture
def secrets(confidential_lc: LocalCognito) -> Secrets:
    found = Secrets()
    found.add_client(confidential_lc.client_id, SECRET)
    found.add_client(confidential_lc.client_id, WRONG_SECRET)
    return found


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every log record, down to DEBUG, of the root logger, urllib3, requests and the library."""
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "requests", "cognito_helper"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def echo(status: int, where: str) -> Callable[[Handler], None]:
    """A server that repeats what it was sent: as the error code, in the description (whole,
    or just the credentials of the Basic header), in WWW-Authenticate, or in a non-JSON body."""

    def run(h: Handler) -> None:
        form = {k: v[0] for k, v in parse_qs(h.body.decode("latin-1")).items()}
        auth = h.headers.get("Authorization", "")
        credentials = auth.split(" ", 1)[-1]
        seen = h.body.decode("latin-1") + " " + " ".join(f"{k}: {v}" for k, v in h.headers.items())
        sent = form.get("code") or form.get("refresh_token") or form.get("token") or credentials
        body: Dict[str, str] = {
            "error": "invalid_request",
            "error_description": seen,
        }
        if where == "error":
            body = {"error": sent}
        elif where == "credentials":
            body = {"error": "invalid_client", "error_description": f"bad client {credentials}"}
        raw = json.dumps(body).encode() if status != 200 else ("<html>" + seen).encode()
        challenge = f'Bearer error="{sent[:60]}", error_description="{seen[:300]}"'
        send(h, status, raw, headers={"WWW-Authenticate": challenge})

    return run


# -- the library, in process ----------------------------------------------------------------


@dataclass
class Scene:
    """One library case: the client, what must not leak, and the calls made."""

    lc: LocalCognito
    secrets: Secrets
    monkeypatch: pytest.MonkeyPatch
    run: Record = field(default_factory=Record)

    @property
    def config(self) -> CognitoConfig:
        return self.lc.config

    @property
    def wrong_client(self) -> CognitoConfig:
        return replace(self.config, client_secret=WRONG_SECRET)

    def sign_in(self, login: Optional[LoginRequest] = None) -> SignIn:
        """A new authorization code, its verifier remembered as a secret with it."""
        return self.secrets.add_sign_in(sign_in(self.lc, login))

    def tokens(self) -> Tuple[Tokens, SignIn]:
        """A new sign-in's tokens (the exchange is a recorded call), and the sign-in."""
        got = self.sign_in()
        tokens = self.run.call(
            "exchange",
            lambda: get_cognito_tokens(
                got.code, config=self.config, code_verifier=got.code_verifier
            ),
        )
        assert isinstance(tokens, Tokens) and tokens.refresh_token and tokens.id_token
        return self.secrets.add_tokens(tokens), got

    def unreachable(self) -> CognitoConfig:
        """The client with a hosted-UI domain and a JWKS URL where nothing listens."""
        return replace(
            self.config,
            domain=f"http://127.0.0.1:{closed_port()}",
            jwks_url=f"http://127.0.0.1:{closed_port()}/jwks.json",
        )


LIBRARY_CASES: Dict[str, Callable[[Scene], None]] = {}
# The cases that never call Cognito; in the others urllib3's DEBUG logs must be in the scan.
OFFLINE = {"CognitoConfig", "configure-get_config", "start_login-logout_url", "pkce_challenge"}


@case_of(LIBRARY_CASES, "CognitoConfig")
def _config_reprs_from_env_and_errors(s: Scene) -> None:
    config = s.config
    s.run.show("repr/str of CognitoConfig", repr(config), str(config), repr(s.wrong_client))
    for name, value in {
        "COGNITO_USER_POOL_ID": config.user_pool_id,
        "COGNITO_CLIENT_ID": config.client_id,
        "COGNITO_CLIENT_SECRET": SECRET,
        "COGNITO_DOMAIN": "not a domain!",
    }.items():
        s.monkeypatch.setenv(name, value)
    s.run.call("from_env bad domain", CognitoConfig.from_env, ConfigError)
    s.monkeypatch.setenv("COGNITO_DOMAIN", str(config.domain))
    s.run.call("from_env", CognitoConfig.from_env)
    s.run.call(
        "bad config",
        lambda: CognitoConfig(user_pool_id="nope", client_id="c", client_secret=SECRET),
        ConfigError,
    )
    s.run.call(
        "unknown key",
        lambda: CognitoConfig.from_dict(
            {"user_pool_id": "x", "client_secret": SECRET, "secret": SECRET}
        ),
        ConfigError,
    )


@case_of(LIBRARY_CASES, "configure-get_config")
def _configure_and_get_config(s: Scene) -> None:
    config = s.config
    s.run.call("configure", lambda: configure(config))
    s.run.call("get_config", get_config)
    s.run.call(
        "configure dict",
        lambda: configure(
            {
                "user_pool_id": config.user_pool_id,
                "client_id": config.client_id,
                "client_secret": SECRET,
            }
        ),
    )
    configure(None)


@case_of(LIBRARY_CASES, "start_login-logout_url")
def _login_and_logout_urls(s: Scene) -> None:
    login = s.run.call("start_login", s.config.start_login)
    s.sign_in(login)
    s.run.show("the LoginRequest", repr(login), str(login), login.url)
    s.run.call("logout_url", s.config.logout_url)


@case_of(LIBRARY_CASES, "pkce_challenge")
def _pkce_challenge(s: Scene) -> None:
    verifier = s.secrets.add("code verifier", s.config.start_login().code_verifier)
    assert verifier is not None
    s.run.call("pkce_challenge", lambda: pkce_challenge(verifier))
    bad_verifier = "\u00e9" + verifier
    s.secrets.add("code verifier", bad_verifier)
    s.run.call("pkce_challenge non-ascii", lambda: pkce_challenge(bad_verifier), ValueError)


@case_of(LIBRARY_CASES, "get_cognito_tokens-code")
def _exchange_a_code(s: Scene) -> None:
    config = s.config
    got = s.sign_in()
    code, verifier = got.code, got.code_verifier
    bad_verifier = "\u00e9" + str(verifier)
    s.secrets.add("code verifier", bad_verifier)
    # Refused ones first (a code is consumed by its first use, even failed).
    s.run.call(
        "exchange bad verifier format",
        lambda: get_cognito_tokens(code, config=config, code_verifier="short"),
        ValueError,
    )
    s.run.call(
        "exchange non-ascii verifier",
        lambda: get_cognito_tokens(code, config=config, code_verifier=bad_verifier),
        ValueError,
    )
    s.run.call(
        "exchange code and refresh token",
        lambda: get_cognito_tokens(code, refresh_token="x", config=config),
        ValueError,
    )
    s.run.call(
        "exchange wrong secret",
        lambda: get_cognito_tokens(code, config=s.wrong_client, code_verifier=verifier),
        TokenExchangeError,
    )
    tokens = s.run.call(
        "exchange", lambda: get_cognito_tokens(code, config=config, code_verifier=verifier)
    )
    assert isinstance(tokens, Tokens) and tokens.refresh_token and tokens.id_token
    s.secrets.add_tokens(tokens)
    s.run.show("repr/str of Tokens", repr(tokens), str(tokens))
    s.run.call(
        "exchange reused code",
        lambda: get_cognito_tokens(code, config=config, code_verifier=verifier),
        InvalidGrantError,
    )
    code2 = s.sign_in().code
    other_verifier = "w" * 60
    s.secrets.add("code verifier", other_verifier)
    s.run.call(
        "exchange wrong verifier",
        lambda: get_cognito_tokens(code2, config=config, code_verifier=other_verifier),
        InvalidGrantError,
    )


@case_of(LIBRARY_CASES, "get_cognito_tokens-refresh")
def _refresh(s: Scene) -> None:
    config = s.config
    tokens, _ = s.tokens()
    refreshed = s.run.call(
        "refresh", lambda: get_cognito_tokens(refresh_token=tokens.refresh_token, config=config)
    )
    s.secrets.add_tokens(refreshed)
    s.run.call(
        "refresh rotated-out token",
        lambda: get_cognito_tokens(refresh_token=tokens.refresh_token, config=config),
        InvalidGrantError,
    )
    s.run.call(
        "refresh wrong secret",
        lambda: get_cognito_tokens(refresh_token=refreshed.refresh_token, config=s.wrong_client),
        TokenExchangeError,
    )


@case_of(LIBRARY_CASES, "decode_verify_jwt")
def _verify(s: Scene) -> None:
    config = s.config
    tokens, got = s.tokens()
    id_token = str(tokens.id_token)
    s.run.call(
        "verify id",
        lambda: decode_verify_jwt(
            id_token,
            config=config,
            token_use="id",
            nonce=got.nonce,
            access_token=tokens.access_token,
        ),
    )
    s.run.call(
        "verify wrong use",
        lambda: decode_verify_jwt(id_token, config=config, token_use="access"),
        TokenVerificationError,
    )
    s.run.call(
        "verify tampered",
        lambda: decode_verify_jwt(tokens.access_token[:-4] + "AAAA", config=config),
        TokenVerificationError,
    )
    s.run.call(
        "verify refresh token",
        lambda: decode_verify_jwt(str(tokens.refresh_token), config=config),
        TokenVerificationError,
    )


@case_of(LIBRARY_CASES, "jwks_cache")
def _jwks_cache_repr(s: Scene) -> None:
    tokens, _ = s.tokens()
    s.run.call("verify", lambda: decode_verify_jwt(tokens.access_token, config=s.config))
    s.run.show("repr of jwks_cache", repr(jwks_cache(str(s.config.jwks_url))))


@case_of(LIBRARY_CASES, "decode_unverified")
def _decode_unverified(s: Scene) -> None:
    tokens, _ = s.tokens()
    s.run.call("decode_unverified", lambda: decode_unverified(str(tokens.id_token)))
    s.run.call(
        "decode_unverified refresh token",
        lambda: decode_unverified(str(tokens.refresh_token)),
        TokenVerificationError,
    )


@case_of(LIBRARY_CASES, "get_user_info")
def _user_info(s: Scene) -> None:
    config = s.config
    tokens, _ = s.tokens()
    s.run.call("user info", lambda: get_user_info(tokens.access_token, config=config))
    s.run.call("revoke", lambda: revoke_token(str(tokens.refresh_token), config=config))
    s.run.call(
        "user info revoked",
        lambda: get_user_info(tokens.access_token, config=config),
        TokenExchangeError,
    )


@case_of(LIBRARY_CASES, "get_client_credentials_token")
def _client_credentials(s: Scene) -> None:
    granted = s.run.call(
        "client credentials",
        lambda: get_client_credentials_token(["localapi/read"], config=s.config),
    )
    s.secrets.add_tokens(granted)
    s.run.call(
        "client credentials wrong secret",
        lambda: get_client_credentials_token(config=s.wrong_client),
        TokenExchangeError,
    )


@case_of(LIBRARY_CASES, "revoke_token")
def _revoke(s: Scene) -> None:
    config = s.config
    tokens, _ = s.tokens()
    refresh_token = str(tokens.refresh_token)
    s.run.call(
        "revoke wrong secret",
        lambda: revoke_token(refresh_token, config=s.wrong_client),
        TokenExchangeError,
    )
    s.run.call("revoke", lambda: revoke_token(refresh_token, config=config))
    s.run.call(
        "refresh revoked",
        lambda: get_cognito_tokens(refresh_token=refresh_token, config=config),
        InvalidGrantError,
    )


# Each way echo() repeats what it was sent, by status.
ECHOES = (
    (400, "description"),
    (400, "error"),
    (401, "error"),
    (401, "credentials"),
    (200, "body"),
    (503, "body"),
)


def against_echoing_servers(
    s: Scene, label: str, call: Callable[[CognitoConfig], Any], *, ok_on_200: bool = False
) -> None:
    """``call(config)`` against a server that echoes what it was sent, in each way of echo()."""
    with ScriptedServer() as mirror:
        mirrored = replace(s.config, domain=mirror.url, timeout=0.5)
        for status, where in ECHOES:
            mirror.routes["/oauth2/token"] = echo(status, where)
            mirror.routes["/oauth2/revoke"] = echo(status, where)
            mirror.routes["/oauth2/userInfo"] = echo(401 if status == 200 else status, where)
            expect = None if ok_on_200 and status == 200 else CognitoError
            s.run.call(f"echo {status} {where}: {label}", lambda: call(mirrored), expect)


@case_of(LIBRARY_CASES, "two-client-secrets")
def _two_client_secrets(s: Scene) -> None:
    """A config whose first secret is stale: the retry with the second and its warning; a
    config whose two secrets are both refused, by LocalCognito and by echoing servers."""
    s.secrets.add_client(s.lc.client_id, OTHER_WRONG_SECRET)
    rotated = replace(s.config, client_secret=[WRONG_SECRET, SECRET])
    both_wrong = replace(s.config, client_secret=[WRONG_SECRET, OTHER_WRONG_SECRET])
    s.run.show("repr/str of a config with two secrets", repr(rotated), str(both_wrong))
    got = s.sign_in()
    tokens = s.run.call(
        "exchange, the first secret stale",
        lambda: get_cognito_tokens(got.code, config=rotated, code_verifier=got.code_verifier),
    )
    s.secrets.add_tokens(tokens)
    s.run.call(
        "client credentials, both secrets refused",
        lambda: get_client_credentials_token(config=both_wrong),
        TokenExchangeError,
    )
    refreshed = s.run.call(
        "refresh with the second secret",
        lambda: get_cognito_tokens(refresh_token=tokens.refresh_token, config=rotated),
    )
    s.secrets.add_tokens(refreshed)
    refresh_token = str(refreshed.refresh_token)
    with ScriptedServer() as mirror:
        mirrored = replace(both_wrong, domain=mirror.url, timeout=0.5)
        for status, where in ECHOES:
            mirror.routes["/oauth2/revoke"] = echo(status, where)
            s.run.call(
                f"echo {status} {where}: revoke with two secrets",
                lambda: revoke_token(refresh_token, config=mirrored),
                None if status == 200 else CognitoError,
            )
    s.run.call("revoke", lambda: revoke_token(refresh_token, config=rotated))
    for variable in (f"{WRONG_SECRET},,{SECRET}", f"{SECRET},{SECRET}"):
        s.monkeypatch.setenv("COGNITO_USER_POOL_ID", s.config.user_pool_id)
        s.monkeypatch.setenv("COGNITO_CLIENT_ID", s.lc.client_id)
        s.monkeypatch.setenv("COGNITO_CLIENT_SECRET", variable)
        s.run.call("from_env two bad secrets", CognitoConfig.from_env, ConfigError)


@case_of(LIBRARY_CASES, "get_cognito_tokens-code-echoing-server")
def _exchange_echoed(s: Scene) -> None:
    got = s.sign_in()
    against_echoing_servers(
        s,
        "exchange",
        lambda config: get_cognito_tokens(got.code, config=config, code_verifier=got.code_verifier),
    )


@case_of(LIBRARY_CASES, "get_cognito_tokens-refresh-echoing-server")
def _refresh_echoed(s: Scene) -> None:
    tokens, _ = s.tokens()
    against_echoing_servers(
        s,
        "refresh",
        lambda config: get_cognito_tokens(refresh_token=tokens.refresh_token, config=config),
    )


@case_of(LIBRARY_CASES, "revoke_token-echoing-server")
def _revoke_echoed(s: Scene) -> None:
    tokens, _ = s.tokens()
    refresh_token = str(tokens.refresh_token)
    # Revocation reads no body: a 200 is a success whatever it says.
    against_echoing_servers(
        s, "revoke", lambda config: revoke_token(refresh_token, config=config), ok_on_200=True
    )


@case_of(LIBRARY_CASES, "get_user_info-echoing-server")
def _user_info_echoed(s: Scene) -> None:
    tokens, _ = s.tokens()
    against_echoing_servers(
        s, "user info", lambda config: get_user_info(tokens.access_token, config=config)
    )


@case_of(LIBRARY_CASES, "get_cognito_tokens-code-unreachable")
def _exchange_unreachable(s: Scene) -> None:
    got = s.sign_in()
    with ScriptedServer() as silent:
        silent.routes["/oauth2/token"] = hold(5)
        s.run.call(
            "silent token endpoint",
            lambda: get_cognito_tokens(
                got.code,
                config=replace(s.config, domain=silent.url, timeout=0.5),
                code_verifier=got.code_verifier,
            ),
            CognitoConnectionError,
        )
    s.run.call(
        "refused exchange",
        lambda: get_cognito_tokens(
            got.code, config=s.unreachable(), code_verifier=got.code_verifier
        ),
        CognitoConnectionError,
    )


@case_of(LIBRARY_CASES, "get_cognito_tokens-refresh-unreachable")
def _refresh_unreachable(s: Scene) -> None:
    tokens, _ = s.tokens()
    s.run.call(
        "refused refresh",
        lambda: get_cognito_tokens(refresh_token=tokens.refresh_token, config=s.unreachable()),
        CognitoConnectionError,
    )


@case_of(LIBRARY_CASES, "revoke_token-unreachable")
def _revoke_unreachable(s: Scene) -> None:
    tokens, _ = s.tokens()
    s.run.call(
        "refused revoke",
        lambda: revoke_token(str(tokens.refresh_token), config=s.unreachable()),
        CognitoConnectionError,
    )


@case_of(LIBRARY_CASES, "decode_verify_jwt-unreachable-jwks")
def _verify_unreachable(s: Scene) -> None:
    tokens, _ = s.tokens()
    forget_jwks_caches()
    s.run.call(
        "refused jwks",
        lambda: decode_verify_jwt(str(tokens.id_token), config=s.unreachable()),
        CognitoConnectionError,
    )


def logged_text(caplog: pytest.LogCaptureFixture) -> str:
    return caplog.text + "".join(
        f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    )


@pytest.mark.parametrize("function", list(LIBRARY_CASES))
def test_no_public_function_leaks_a_secret_in_logs_output_or_errors(
    function: str,
    confidential_lc: LocalCognito,
    secrets: Secrets,
    debug_logs: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scene = Scene(confidential_lc, secrets, monkeypatch)
    LIBRARY_CASES[function](scene)

    out, err = capsys.readouterr()
    logged = logged_text(debug_logs)
    if function not in OFFLINE:
        assert HTTP_LOG in logged, "urllib3 DEBUG logging was not captured"
    assert (out, err) == ("", ""), "the library printed something"
    for label, text in [("the log", logged), *scene.run.texts]:
        leaked = secrets.found_in(text)
        assert not leaked, f"{function}: {label} shows {leaked}: {text[:300]}"


# -- the command line -------------------------------------------------------------------------

DEBUG_MAIN = (
    "import logging, sys\n"
    "logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)\n"
    "for name in ('urllib3', 'requests', 'cognito_helper'):\n"
    "    logging.getLogger(name).setLevel(logging.DEBUG)\n"
    "from cognito_helper.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
TOKENS_MAY_SHOW = ("refresh token", "token")


def cli_env(config: CognitoConfig, **changes: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COGNITO_")}
    env.update(
        COGNITO_USER_POOL_ID=config.user_pool_id,
        COGNITO_CLIENT_ID=config.client_id,
        COGNITO_CLIENT_SECRET=str(config.client_secret),
        COGNITO_DOMAIN=str(config.domain),
        COGNITO_REDIRECT_URI=str(config.redirect_uri),
        COGNITO_LOGOUT_URI=str(config.logout_uri),
        COGNITO_ISSUER=config.issuers[0],
        COGNITO_JWKS_URL=str(config.jwks_url),
    )
    env.update(changes)
    return env


@dataclass
class Run:
    args: List[str]
    code: int
    out: str
    err: str


def cli(args: List[str], env: Dict[str, str], stdin: str = "", *, debug: bool = True) -> Run:
    command = (
        [sys.executable, "-c", DEBUG_MAIN] if debug else [sys.executable, "-m", "cognito_helper"]
    )
    done = subprocess.run(
        command + args, env=env, input=stdin, capture_output=True, text=True, timeout=60
    )
    return Run(args, done.returncode, done.stdout, done.stderr)


def check_run(run: Run, secrets: Secrets, *, stdout_may_show: Sequence[str] = ()) -> None:
    for stream, text in (("stdout", run.out), ("stderr", run.err)):
        allowed = stdout_may_show if stream == "stdout" else ()
        leaked = secrets.found_in(text, allowed=allowed)
        assert not leaked, f"cognito-helper {run.args[0]} {stream} shows {leaked}:\n{text[:500]}"


def new_tokens(lc: LocalCognito, secrets: Secrets) -> Tokens:
    """A new sign-in's tokens, exchanged in this process, remembered as secrets."""
    got = secrets.add_sign_in(sign_in(lc))
    tokens = get_cognito_tokens(got.code, config=lc.config, code_verifier=got.code_verifier)
    assert tokens.refresh_token and tokens.id_token
    return secrets.add_tokens(tokens)


@dataclass
class CliScene:
    """One subcommand's case, as subprocesses: each run is kept for the final scan."""

    lc: LocalCognito
    secrets: Secrets
    runs: List[Tuple[Run, Sequence[str]]] = field(default_factory=list)

    @property
    def env(self) -> Dict[str, str]:
        return cli_env(self.lc.config)

    def run(
        self,
        args: List[str],
        expect: int,
        stdin: str = "",
        may_show: Sequence[str] = (),
        debug: bool = True,
        environment: Optional[Dict[str, str]] = None,
    ) -> Run:
        done = cli(args, environment or self.env, stdin, debug=debug)
        assert done.code == expect, f"{args[0]}: exit {done.code}\n{done.err[-800:]}"
        self.runs.append((done, may_show))
        return done

    def sign_in(self) -> SignIn:
        return self.secrets.add_sign_in(sign_in(self.lc))


CLI_CASES: Dict[str, Callable[[CliScene], None]] = {}
# these talk to Cognito: DEBUG logs must show
CLI_HTTP = {"exchange", "refresh", "verify", "discover"}


@case_of(CLI_CASES, "login-url")
def _cli_login_url(s: CliScene) -> None:
    s.run(["login-url"], 0)
    pkce = s.run(["login-url", "--pkce"], 0, may_show=("code verifier",))
    s.secrets.add("code verifier", json.loads(pkce.out)["code_verifier"])
    s.run(["login-url", "--state", "s-123"], 0, debug=False)
    without_pool = {k: v for k, v in s.env.items() if k != "COGNITO_USER_POOL_ID"}
    s.run(["login-url"], 2, environment=without_pool)


@case_of(CLI_CASES, "exchange")
def _cli_exchange(s: CliScene) -> None:
    got = s.sign_in()
    args = ["exchange", got.code, f"--code-verifier={got.code_verifier}"]
    exchanged = s.run(args, 0, may_show=TOKENS_MAY_SHOW)
    tokens = json.loads(exchanged.out)
    s.secrets.add("refresh token", tokens["refresh_token"])
    s.secrets.add("token", tokens["access_token"])
    s.secrets.add("token", tokens["id_token"])
    s.run(args, 1)  # used already
    code2 = s.sign_in().code
    s.run(["exchange", code2, "--code-verifier=" + "x" * 50], 1)  # wrong verifier
    got3 = s.sign_in()
    args3 = ["exchange", got3.code, f"--code-verifier={got3.code_verifier}"]
    s.run(args3, 1, environment=cli_env(s.lc.config, COGNITO_CLIENT_SECRET=WRONG_SECRET))
    dead = f"http://127.0.0.1:{closed_port()}"
    s.run(args3, 3, environment=cli_env(s.lc.config, COGNITO_DOMAIN=dead))
    got4 = s.sign_in()
    s.run(
        ["exchange", "-", f"--code-verifier={got4.code_verifier}"],
        0,
        stdin=got4.code + "\n",
        may_show=TOKENS_MAY_SHOW,
        debug=False,
    )


@case_of(CLI_CASES, "refresh")
def _cli_refresh(s: CliScene) -> None:
    tokens = new_tokens(s.lc, s.secrets)
    old = str(tokens.refresh_token)
    refreshed = s.run(["refresh", old], 0, may_show=TOKENS_MAY_SHOW)
    new = json.loads(refreshed.out)
    s.secrets.add("refresh token", new["refresh_token"])
    s.secrets.add("token", new["access_token"])
    s.run(["refresh", old], 1)  # rotated out
    s.run(["refresh"], 1, stdin=old + "\n")
    s.run(["refresh"], 0, stdin=new["refresh_token"], may_show=TOKENS_MAY_SHOW)
    wrong_secret = cli_env(s.lc.config, COGNITO_CLIENT_SECRET=WRONG_SECRET)
    s.run(["refresh", new["refresh_token"]], 1, environment=wrong_secret)


@case_of(CLI_CASES, "verify")
def _cli_verify(s: CliScene) -> None:
    tokens = new_tokens(s.lc, s.secrets)
    s.run(["verify", tokens.access_token], 0)
    s.run(["verify", "--token-use", "id", tokens.access_token], 1)
    s.run(["verify", str(tokens.refresh_token)], 1)
    s.run(["verify"], 0, stdin=str(tokens.id_token))


@case_of(CLI_CASES, "decode")
def _cli_decode(s: CliScene) -> None:
    tokens = new_tokens(s.lc, s.secrets)
    s.run(["decode", str(tokens.id_token)], 0)
    s.run(["decode", "not-a-token"], 1)


@case_of(CLI_CASES, "discover")
def _cli_discover(s: CliScene) -> None:
    # COGNITO_CLIENT_SECRET is set in the environment: discover reads no secret, prints none.
    s.run(["discover", s.lc.issuer, "--client-id", s.lc.client_id], 0)
    s.run(["discover", f"http://127.0.0.1:{closed_port()}/{s.lc.user_pool_id}"], 2)


@case_of(CLI_CASES, "demo")
def _cli_demo(s: CliScene) -> None:
    demo = s.run(["demo"], 0)
    # The demo runs its own LocalCognito: its secrets are unknown here, so check their shapes.
    assert not re.search(r"code=[0-9a-f-]{36}", demo.out + demo.err), "the demo shows a code"
    assert "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ." not in (
        demo.out + demo.err
    ), "the demo shows a refresh token"


def test_every_cli_subcommand_is_covered_by_the_secret_checks() -> None:
    shown = cli(["--help"], dict(os.environ), debug=False).out
    commands = set(re.findall(r"^    ([a-z][a-z-]+)\s", shown, re.MULTILINE))
    assert commands and commands <= set(CLI_CASES), commands - set(CLI_CASES)


@pytest.mark.slow  # several debug-logging subprocesses per case
@pytest.mark.parametrize("command", list(CLI_CASES))
def test_cli_subcommand_leaks_no_secret_as_a_subprocess(
    command: str, confidential_lc: LocalCognito, secrets: Secrets
) -> None:
    scene = CliScene(confidential_lc, secrets)
    CLI_CASES[command](scene)
    if command in CLI_HTTP:
        assert any(HTTP_LOG in r.err for r, _ in scene.runs), "no DEBUG logs"
    for done, may_show in scene.runs:
        check_run(done, secrets, stdout_may_show=may_show)


# -- the command line, in process -------------------------------------------------------------


@dataclass
class InProcessCli:
    """``cli.main`` called in this process: stdout and stderr of each call kept for the scan."""

    secrets: Secrets
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]
    outputs: List[Tuple[str, str, str, Sequence[str]]] = field(default_factory=list)

    def run(
        self, args: List[str], expect: int, stdin: str = "", may_show: Sequence[str] = ()
    ) -> str:
        from cognito_helper.cli import main

        self.monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        status = main(args)
        out, err = self.capsys.readouterr()
        assert status == expect, (args[0], status, err)
        self.outputs.append((args[0], out, err, may_show))
        return out


IN_PROCESS_CLI_CASES: Dict[str, Callable[[InProcessCli, LocalCognito], None]] = {}


@case_of(IN_PROCESS_CLI_CASES, "exchange")
def _in_process_exchange(c: InProcessCli, lc: LocalCognito) -> None:
    got = c.secrets.add_sign_in(sign_in(lc))
    args = ["exchange", got.code, f"--code-verifier={got.code_verifier}"]
    tokens = json.loads(c.run(args, 0, may_show=TOKENS_MAY_SHOW))
    c.secrets.add("refresh token", tokens["refresh_token"])
    c.secrets.add("token", tokens["access_token"])
    c.run(args, 1)  # used already
    c.monkeypatch.setenv("COGNITO_CLIENT_SECRET", WRONG_SECRET)
    got2 = c.secrets.add_sign_in(sign_in(lc))
    c.run(["exchange", got2.code, f"--code-verifier={got2.code_verifier}"], 1)


@case_of(IN_PROCESS_CLI_CASES, "refresh")
def _in_process_refresh(c: InProcessCli, lc: LocalCognito) -> None:
    old = str(new_tokens(lc, c.secrets).refresh_token)
    new = json.loads(c.run(["refresh"], 0, stdin=old, may_show=TOKENS_MAY_SHOW))
    c.secrets.add("refresh token", new["refresh_token"])
    c.run(["refresh", old], 1)  # rotated out


@case_of(IN_PROCESS_CLI_CASES, "verify")
def _in_process_verify(c: InProcessCli, lc: LocalCognito) -> None:
    c.run(["verify", new_tokens(lc, c.secrets).access_token], 0)


@case_of(IN_PROCESS_CLI_CASES, "decode")
def _in_process_decode(c: InProcessCli, lc: LocalCognito) -> None:
    c.run(["decode", str(new_tokens(lc, c.secrets).id_token)], 0)


@case_of(IN_PROCESS_CLI_CASES, "login-url")
def _in_process_login_url(c: InProcessCli, lc: LocalCognito) -> None:
    c.run(["login-url"], 0)


@pytest.mark.parametrize("command", list(IN_PROCESS_CLI_CASES))
def test_cli_in_process_leaks_no_secret_in_output_or_logs(
    command: str,
    confidential_lc: LocalCognito,
    secrets: Secrets,
    debug_logs: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in cli_env(confidential_lc.config).items():
        if name.startswith("COGNITO_"):
            monkeypatch.setenv(name, value)
    cli_main = InProcessCli(secrets, monkeypatch, capsys)
    IN_PROCESS_CLI_CASES[command](cli_main, confidential_lc)

    for args0, out, err, may_show in cli_main.outputs:
        for stream, text, allowed in (("stdout", out, may_show), ("stderr", err, ())):
            leaked = secrets.found_in(text, allowed=allowed)
            assert not leaked, f"cognito-helper {args0} {stream} shows {leaked}:\n{text[:300]}"
    logged = debug_logs.text + "".join(f"{r.getMessage()} {r.args!r}" for r in debug_logs.records)
    if command in CLI_HTTP:
        assert HTTP_LOG in logged, "urllib3 DEBUG logging was not captured"
    leaked = secrets.found_in(logged)
    assert not leaked, f"cognito-helper {command}: the log shows {leaked}"
