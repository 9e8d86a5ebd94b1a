"""Secret hygiene: what a confidential client sends never shows up anywhere it should not.

Every public function and every CLI subcommand runs through success and failure paths with the
root logger at DEBUG and ``requests``/``urllib3`` logging on. Logs, stdout, stderr, exception
``str()``/``repr()``, formatted tracebacks and the whole exception chain (suppressed context
included) must not contain the client secret, the Basic header value, an authorization code, a
refresh token or a code verifier. The CLI's ``exchange``/``refresh`` print tokens (their job)
and ``login-url --pkce`` prints the verifier (its job): those, and only those, are allowed.
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
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple
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

from .servers import Handler, ScriptedServer, closed_port, hold, send

SECRET = "7kq2v9secretclientvalue4m1x8z3p6w0r5t2y7u4i1o8"
WRONG_SECRET = "0wrongsecretvalue9z8y7x6w5v4u3t2s1r0q9p8o7n6m5"
PASSWORD = "Al1ce-Passw0rd!"

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
    """Runs calls, keeping their exceptions and reprs for the final scan."""

    def __init__(self) -> None:
        self.texts: List[str] = []
        self.outcomes: List[Tuple[str, str]] = []

    def call(self, label: str, fn: Callable[[], Any], expect: Optional[type] = None) -> Any:
        try:
            result = fn()
        except Exception as exc:
            self.texts += exception_texts(exc)
            self.outcomes.append((label, type(exc).__name__))
            if expect is None or not isinstance(exc, expect):
                raise AssertionError(f"{label}: unexpected {type(exc).__name__}: {exc}") from exc
            return None
        self.outcomes.append((label, "ok"))
        if expect is not None:
            raise AssertionError(f"{label}: expected {expect.__name__}, it succeeded")
        self.texts.append(repr(result))
        return result


@pytest.fixture
def lc() -> Iterator[LocalCognito]:
    with LocalCognito(client_secret=SECRET, refresh_token_rotation=True) as pool:
        pool.add_user("alice", PASSWORD, email="alice@example.com", groups=["staff"])
        yield pool


@pytest.fixture
def secrets(lc: LocalCognito) -> Secrets:
    found = Secrets()
    found.add_client(lc.client_id, SECRET)
    found.add_client(lc.client_id, WRONG_SECRET)
    return found


def sign_in(
    lc: LocalCognito, secrets: Secrets, config: Optional[CognitoConfig] = None
) -> Tuple[str, LoginRequest]:
    login = (config or lc.config).start_login()
    secrets.add("code verifier", login.code_verifier)
    redirect = lc.sign_in(login.url, "alice", PASSWORD)
    code = re.search(r"[?&]code=([^&]+)", redirect)
    assert code is not None
    secrets.add("code", code.group(1))
    return code.group(1), login


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


def test_no_public_function_leaks_a_secret_in_logs_output_or_errors(
    lc: LocalCognito,
    secrets: Secrets,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "requests", "cognito_helper"):
        caplog.set_level(logging.DEBUG, logger=name)
    run = Record()
    config = lc.config
    wrong_client = replace(config, client_secret=WRONG_SECRET)

    # Configuration: reprs, the default switch, the environment, errors naming fields.
    run.texts += [repr(config), str(config), repr(wrong_client)]
    run.call("configure", lambda: configure(config))
    run.call("get_config", get_config)
    run.call(
        "configure dict",
        lambda: configure(
            {
                "user_pool_id": config.user_pool_id,
                "client_id": config.client_id,
                "client_secret": SECRET,
            }
        ),
    )
    for name, value in {
        "COGNITO_USER_POOL_ID": config.user_pool_id,
        "COGNITO_CLIENT_ID": config.client_id,
        "COGNITO_CLIENT_SECRET": SECRET,
        "COGNITO_DOMAIN": "not a domain!",
    }.items():
        monkeypatch.setenv(name, value)
    run.call("from_env bad domain", CognitoConfig.from_env, ConfigError)
    monkeypatch.setenv("COGNITO_DOMAIN", str(config.domain))
    run.call("from_env", CognitoConfig.from_env)
    run.call(
        "bad config",
        lambda: CognitoConfig(user_pool_id="nope", client_id="c", client_secret=SECRET),
        ConfigError,
    )
    run.call(
        "unknown key",
        lambda: CognitoConfig.from_dict(
            {"user_pool_id": "x", "client_secret": SECRET, "secret": SECRET}
        ),
        ConfigError,
    )
    configure(None)

    # Sign-in URLs and PKCE.
    code, login = sign_in(lc, secrets)
    run.texts += [repr(login), str(login), login.url, config.logout_url()]
    run.call("pkce_challenge", lambda: pkce_challenge(login.code_verifier))
    bad_verifier = "\u00e9" + login.code_verifier
    secrets.add("code verifier", bad_verifier)
    run.call("pkce_challenge non-ascii", lambda: pkce_challenge(bad_verifier), ValueError)

    # Code exchange: refused ones first (a code is consumed by its first use, even failed).
    run.call(
        "exchange bad verifier format",
        lambda: get_cognito_tokens(code, config=config, code_verifier="short"),
        ValueError,
    )
    run.call(
        "exchange non-ascii verifier",
        lambda: get_cognito_tokens(code, config=config, code_verifier=bad_verifier),
        ValueError,
    )
    run.call(
        "exchange code and refresh token",
        lambda: get_cognito_tokens(code, refresh_token="x", config=config),
        ValueError,
    )
    run.call(
        "exchange wrong secret",
        lambda: get_cognito_tokens(code, config=wrong_client, code_verifier=login.code_verifier),
        TokenExchangeError,
    )
    tokens = run.call(
        "exchange",
        lambda: get_cognito_tokens(code, config=config, code_verifier=login.code_verifier),
    )
    assert isinstance(tokens, Tokens) and tokens.refresh_token and tokens.id_token
    secrets.add("refresh token", tokens.refresh_token)
    secrets.add("token", tokens.access_token)
    secrets.add("token", tokens.id_token)
    run.texts += [repr(tokens), str(tokens)]
    run.call(
        "exchange reused code",
        lambda: get_cognito_tokens(code, config=config, code_verifier=login.code_verifier),
        InvalidGrantError,
    )
    code2, _ = sign_in(lc, secrets)
    other_verifier = "w" * 60
    secrets.add("code verifier", other_verifier)
    run.call(
        "exchange wrong verifier",
        lambda: get_cognito_tokens(code2, config=config, code_verifier=other_verifier),
        InvalidGrantError,
    )

    # Verification.
    run.call(
        "verify id",
        lambda: decode_verify_jwt(
            tokens.id_token,
            config=config,
            token_use="id",
            nonce=login.nonce,
            access_token=tokens.access_token,
        ),
    )
    run.call(
        "verify wrong use",
        lambda: decode_verify_jwt(tokens.id_token, config=config, token_use="access"),
        TokenVerificationError,
    )
    run.call(
        "verify tampered",
        lambda: decode_verify_jwt(tokens.access_token[:-4] + "AAAA", config=config),
        TokenVerificationError,
    )
    run.call(
        "verify refresh token",
        lambda: decode_verify_jwt(tokens.refresh_token, config=config),
        TokenVerificationError,
    )
    run.call("decode_unverified", lambda: decode_unverified(tokens.id_token))
    run.call(
        "decode_unverified refresh token",
        lambda: decode_unverified(tokens.refresh_token),
        TokenVerificationError,
    )
    run.texts.append(repr(jwks_cache(str(config.jwks_url))))

    # Refresh (rotating), userInfo, client credentials, revocation.
    refreshed = run.call(
        "refresh", lambda: get_cognito_tokens(refresh_token=tokens.refresh_token, config=config)
    )
    secrets.add("refresh token", refreshed.refresh_token)
    secrets.add("token", refreshed.access_token)
    run.call(
        "refresh rotated-out token",
        lambda: get_cognito_tokens(refresh_token=tokens.refresh_token, config=config),
        InvalidGrantError,
    )
    run.call(
        "refresh wrong secret",
        lambda: get_cognito_tokens(refresh_token=refreshed.refresh_token, config=wrong_client),
        TokenExchangeError,
    )
    run.call("user info", lambda: get_user_info(refreshed.access_token, config=config))
    run.call(
        "client credentials", lambda: get_client_credentials_token(["localapi/read"], config=config)
    )
    run.call(
        "client credentials wrong secret",
        lambda: get_client_credentials_token(config=wrong_client),
        TokenExchangeError,
    )
    run.call(
        "revoke wrong secret",
        lambda: revoke_token(refreshed.refresh_token, config=wrong_client),
        TokenExchangeError,
    )
    run.call("revoke", lambda: revoke_token(refreshed.refresh_token, config=config))
    run.call(
        "refresh revoked",
        lambda: get_cognito_tokens(refresh_token=refreshed.refresh_token, config=config),
        InvalidGrantError,
    )
    run.call(
        "user info revoked",
        lambda: get_user_info(refreshed.access_token, config=config),
        TokenExchangeError,
    )

    # A server that echoes what it was sent, and one that cannot be reached or never answers.
    code3, login3 = sign_in(lc, secrets)
    with ScriptedServer() as mirror:
        mirrored = replace(config, domain=mirror.url, timeout=0.5)
        for status, where in (
            (400, "description"),
            (400, "error"),
            (401, "error"),
            (401, "credentials"),
            (200, "body"),
            (503, "body"),
        ):
            mirror.routes["/oauth2/token"] = echo(status, where)
            mirror.routes["/oauth2/revoke"] = echo(status, where)
            mirror.routes["/oauth2/userInfo"] = echo(401 if status == 200 else status, where)
            run.call(
                f"echo {status} exchange",
                lambda: get_cognito_tokens(
                    code3, config=mirrored, code_verifier=login3.code_verifier
                ),
                CognitoError,
            )
            run.call(
                f"echo {status} refresh",
                lambda: get_cognito_tokens(refresh_token=tokens.refresh_token, config=mirrored),
                CognitoError,
            )
            run.call(
                f"echo {status} revoke",
                lambda: revoke_token(tokens.refresh_token, config=mirrored),
                None if status == 200 else CognitoError,  # revocation reads no body
            )
            run.call(
                f"echo {status} user info",
                lambda: get_user_info(tokens.access_token, config=mirrored),
                CognitoError,
            )
        mirror.routes["/oauth2/token"] = hold(5)
        run.call(
            "silent token endpoint",
            lambda: get_cognito_tokens(code3, config=mirrored, code_verifier=login3.code_verifier),
            CognitoConnectionError,
        )
    dead = replace(
        config,
        domain=f"http://127.0.0.1:{closed_port()}",
        jwks_url=f"http://127.0.0.1:{closed_port()}/jwks.json",
    )
    run.call(
        "refused exchange",
        lambda: get_cognito_tokens(code3, config=dead, code_verifier=login3.code_verifier),
        CognitoConnectionError,
    )
    run.call(
        "refused refresh",
        lambda: get_cognito_tokens(refresh_token=tokens.refresh_token, config=dead),
        CognitoConnectionError,
    )
    run.call(
        "refused revoke",
        lambda: revoke_token(tokens.refresh_token, config=dead),
        CognitoConnectionError,
    )
    forget_jwks_caches()
    run.call(
        "refused jwks",
        lambda: decode_verify_jwt(tokens.id_token, config=dead),
        CognitoConnectionError,
    )

    out, err = capsys.readouterr()
    logged = caplog.text + "".join(
        f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records
    )
    assert "Starting new HTTP connection" in logged, "urllib3 DEBUG logging was not captured"
    assert out == "" and err == "", "the library printed something"
    for text in [logged, *run.texts]:
        leaked = secrets.found_in(text)
        assert not leaked, f"{leaked} in: {text[:300]}"


CognitoError = cognito_helper.CognitoError


# -- the command line -------------------------------------------------------------------------

DEBUG_MAIN = (
    "import logging, sys\n"
    "logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)\n"
    "for name in ('urllib3', 'requests', 'cognito_helper'):\n"
    "    logging.getLogger(name).setLevel(logging.DEBUG)\n"
    "from cognito_helper.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
COVERED_COMMANDS = {"demo", "login-url", "exchange", "refresh", "verify", "decode"}


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


def test_every_cli_subcommand_is_covered_by_the_secret_checks() -> None:
    shown = cli(["--help"], dict(os.environ), debug=False).out
    commands = set(re.findall(r"^    ([a-z][a-z-]+)\s", shown, re.MULTILINE))
    assert commands and commands <= COVERED_COMMANDS, commands - COVERED_COMMANDS


def test_cli_subcommands_leak_no_secret_as_subprocesses(lc: LocalCognito, secrets: Secrets) -> None:
    env = cli_env(lc.config)
    tokens_may_show = ("refresh token", "token")
    runs: List[Tuple[Run, Sequence[str]]] = []

    def run(
        args: List[str],
        expect: int,
        stdin: str = "",
        may_show: Sequence[str] = (),
        debug: bool = True,
        environment: Optional[Dict[str, str]] = None,
    ) -> Run:
        done = cli(args, environment or env, stdin, debug=debug)
        assert done.code == expect, f"{args[0]}: exit {done.code}\n{done.err[-800:]}"
        runs.append((done, may_show))
        return done

    run(["login-url"], 0)
    pkce = run(["login-url", "--pkce"], 0, may_show=("code verifier",))

    secrets.add("code verifier", json.loads(pkce.out)["code_verifier"])
    run(["login-url", "--state", "s-123"], 0, debug=False)

    code, login = sign_in(lc, secrets)
    exchanged = run(
        ["exchange", code, f"--code-verifier={login.code_verifier}"], 0, may_show=tokens_may_show
    )
    tokens = json.loads(exchanged.out)
    secrets.add("refresh token", tokens["refresh_token"])
    secrets.add("token", tokens["access_token"])
    secrets.add("token", tokens["id_token"])
    run(["exchange", code, f"--code-verifier={login.code_verifier}"], 1)  # used already
    code2, _ = sign_in(lc, secrets)
    run(["exchange", code2, "--code-verifier=" + "x" * 50], 1)  # wrong verifier
    code3, login3 = sign_in(lc, secrets)
    run(
        ["exchange", code3, f"--code-verifier={login3.code_verifier}"],
        1,
        environment=cli_env(lc.config, COGNITO_CLIENT_SECRET=WRONG_SECRET),
    )
    run(
        ["exchange", code3, f"--code-verifier={login3.code_verifier}"],
        3,
        environment=cli_env(lc.config, COGNITO_DOMAIN=f"http://127.0.0.1:{closed_port()}"),
    )
    code4, login4 = sign_in(lc, secrets)
    run(
        ["exchange", "-", f"--code-verifier={login4.code_verifier}"],
        0,
        stdin=code4 + "\n",
        may_show=tokens_may_show,
        debug=False,
    )

    refreshed = run(["refresh", tokens["refresh_token"]], 0, may_show=tokens_may_show)
    new = json.loads(refreshed.out)
    secrets.add("refresh token", new["refresh_token"])
    secrets.add("token", new["access_token"])
    run(["refresh", tokens["refresh_token"]], 1)  # rotated out
    run(["refresh"], 1, stdin=tokens["refresh_token"] + "\n")
    run(["refresh"], 0, stdin=new["refresh_token"], may_show=tokens_may_show)
    run(
        ["refresh", new["refresh_token"]],
        1,
        environment=cli_env(lc.config, COGNITO_CLIENT_SECRET=WRONG_SECRET),
    )

    run(["verify", new["access_token"]], 0)
    run(["verify", "--token-use", "id", new["access_token"]], 1)
    run(["verify", tokens["refresh_token"]], 1)
    run(["verify"], 0, stdin=new["id_token"])
    run(["decode", new["id_token"]], 0)
    run(["decode", "not-a-token"], 1)
    run(["login-url"], 2, environment={k: v for k, v in env.items() if k != "COGNITO_USER_POOL_ID"})

    demo = run(["demo"], 0)
    # The demo runs its own LocalCognito: its secrets are unknown here, so check their shapes.
    assert not re.search(r"code=[0-9a-f-]{36}", demo.out + demo.err), "the demo shows a code"
    assert "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ." not in (
        demo.out + demo.err
    ), "the demo shows a refresh token"

    assert any("Starting new HTTP connection" in r.err for r, _ in runs), "no DEBUG logs"
    for done, may_show in runs:
        check_run(done, secrets, stdout_may_show=may_show)


def test_cli_in_process_leaks_no_secret_in_output_or_logs(
    lc: LocalCognito,
    secrets: Secrets,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cognito_helper.cli import main

    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "requests", "cognito_helper"):
        caplog.set_level(logging.DEBUG, logger=name)
    for name, value in cli_env(lc.config).items():
        if name.startswith("COGNITO_"):
            monkeypatch.setenv(name, value)

    def run(args: List[str], stdin: str = "") -> Tuple[int, str, str]:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        code = main(args)
        out, err = capsys.readouterr()
        return code, out, err

    code, login = sign_in(lc, secrets)
    status, out, err = run(["exchange", code, f"--code-verifier={login.code_verifier}"])
    assert status == 0
    tokens = json.loads(out)
    secrets.add("refresh token", tokens["refresh_token"])
    secrets.add("token", tokens["access_token"])
    assert not secrets.found_in(out, allowed=("refresh token", "token"))
    assert not secrets.found_in(err)

    checks = [
        (["exchange", code, f"--code-verifier={login.code_verifier}"], "", 1),
        (["refresh"], tokens["refresh_token"], 0),
        (["refresh", tokens["refresh_token"]], "", 1),
        (["verify", tokens["access_token"]], "", 0),
        (["decode", tokens["id_token"]], "", 0),
        (["login-url"], "", 0),
    ]
    for args, stdin, expect in checks:
        status, out, err = run(args, stdin)
        assert status == expect, (args[0], status, err)
        if args[0] == "refresh" and status == 0:
            new = json.loads(out)
            secrets.add("refresh token", new["refresh_token"])
            assert not secrets.found_in(out, allowed=("refresh token", "token"))
        else:
            assert not secrets.found_in(out), (args[0], out[:300])
        assert not secrets.found_in(err), (args[0], err[:300])
    monkeypatch.setenv("COGNITO_CLIENT_SECRET", WRONG_SECRET)
    code2, login2 = sign_in(lc, secrets)
    status, out, err = run(["exchange", code2, f"--code-verifier={login2.code_verifier}"])
    assert status == 1 and not secrets.found_in(out + err), err
    logged = caplog.text + "".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert "Starting new HTTP connection" in logged
    assert not secrets.found_in(logged)
