"""The ``cognito-helper`` command, run as a real subprocess against a LocalCognito.

Each test runs the installed console script (``python -m cognito_helper`` where noted) with
``COGNITO_*`` variables pointing at a LocalCognito in this process, and checks what a user
sees: stdout, stderr and the exit code (0 ok, 1 rejected, 2 usage/config, 3 unreachable).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional
from urllib.parse import parse_qs, urlsplit

import pytest

from cognito_helper import CognitoConfig, decode_unverified, pkce_challenge
from cognito_helper.testing import LocalCognito

from .helpers import EMAIL, GROUPS, PASSWORD, USER, at_hash, sign_in
from .servers import closed_port
from .tokens import KeyPair

pytestmark = pytest.mark.slow  # each test runs the command in a subprocess

SCRIPT = Path(sys.executable).with_name("cognito-helper")
SUBCOMMANDS = [
    "demo",
    "login-url",
    "exchange",
    "refresh",
    "m2m-token",
    "verify",
    "decode",
    "discover",
]
SECRET = "client-secret-that-must-never-be-printed-0123456789"
# A valid PKCE verifier that argparse would take for an option after a space.
DASH_VERIFIER = "-" + "dash-verifier-0123456789" * 3
# The shape of a Cognito refresh token: an encrypted JWE of five segments.
REFRESH_SHAPED = "eyJjdHkiOiJKV1QiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiUlNBLU9BRVAifQ.a.b.c.d"


def base_env() -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COGNITO_")}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run(
    *args: str,
    env: Optional[Dict[str, str]] = None,
    stdin: Optional[str] = None,
    module: bool = False,
    timeout: float = 30,
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "cognito_helper"] if module else [str(SCRIPT)]
    return subprocess.run(
        [*command, *args],
        env=base_env() if env is None else env,
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def env(lc: LocalCognito) -> Dict[str, str]:
    """COGNITO_* for the LocalCognito, as `cognito-helper demo --serve` prints them."""
    config = lc.config
    return {
        **base_env(),
        "COGNITO_USER_POOL_ID": config.user_pool_id,
        "COGNITO_CLIENT_ID": config.client_id,
        "COGNITO_DOMAIN": lc.url,
        "COGNITO_REDIRECT_URI": str(config.redirect_uri),
        "COGNITO_LOGOUT_URI": str(config.logout_uri),
        "COGNITO_ISSUER": lc.issuer,
        "COGNITO_JWKS_URL": lc.jwks_url,
    }


def sign_in_from_the_cli(lc: LocalCognito, env: Dict[str, str]) -> Dict[str, str]:
    """`login-url --pkce`, then the browser's part; returns the JSON plus the redirect and code."""
    result = run("login-url", "--pkce", env=env)
    assert result.returncode == 0, result.stderr
    login = json.loads(result.stdout)
    got = sign_in(lc, login["url"])
    login["redirect"] = got.redirect
    login["code"] = got.code
    return login


def tokens_for(lc: LocalCognito, env: Dict[str, str]) -> Dict[str, str]:
    login = sign_in_from_the_cli(lc, env)
    result = run("exchange", login["code"], f"--code-verifier={login['code_verifier']}", env=env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def error_lines(result: subprocess.CompletedProcess[str]) -> List[str]:
    return result.stderr.strip().splitlines()


def placed(option: List[str], command: List[str], before: bool) -> List[str]:
    """``option`` before ``command`` (the subcommand and its arguments), or after it."""
    return [*option, *command] if before else [*command, *option]


def dash_login_url(config: CognitoConfig) -> str:
    """A sign-in URL for ``config``'s pool with the PKCE challenge of DASH_VERIFIER."""
    return config.login_url(state="st", nonce="nc", code_challenge=pkce_challenge(DASH_VERIFIER))


def follow(printed: str, redirect: str, env: Dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the exchange command a hint printed, filled in as a user would (DASH_VERIFIER)."""
    line = next(x for x in printed.splitlines() if "cognito-helper exchange" in x).strip()
    line = line.replace("CODE_OR_REDIRECT_URL", redirect).replace("CODE_VERIFIER", DASH_VERIFIER)
    argv = shlex.split(line)
    assert argv[:2] == ["cognito-helper", "exchange"], line
    return run(*argv[1:], env=env)


# -- the command itself --------------------------------------------------------------------


def test_console_script_is_installed_next_to_the_interpreter() -> None:
    assert SCRIPT.is_file(), f"{SCRIPT} missing: pip install -e . installs it"


@pytest.mark.parametrize("command", [[], *([c] for c in SUBCOMMANDS)])
def test_help_exits_0_for_the_command_and_every_subcommand(command: List[str]) -> None:
    result = run(*command, "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("usage: cognito-helper")
    assert result.stderr == ""


def test_help_lists_the_configuration_variables_and_exit_codes() -> None:
    result = run("--help")
    assert "COGNITO_USER_POOL_ID" in result.stdout
    assert "3 Cognito unreachable" in result.stdout


def test_python_dash_m_runs_the_same_command() -> None:
    result = run("--version", module=True)
    assert result.returncode == 0
    assert result.stdout.startswith("cognito-helper ")


def test_no_subcommand_is_a_usage_error() -> None:
    result = run()
    assert result.returncode == 2
    assert "usage: cognito-helper" in result.stderr


def test_an_unknown_option_is_a_usage_error() -> None:
    result = run("verify", "--no-such-option", "x.y.z")
    assert result.returncode == 2
    assert "unrecognized arguments: --no-such-option" in result.stderr


# -- configuration ---------------------------------------------------------------------------


def test_nothing_configured_exits_2_and_says_what_to_set() -> None:
    result = run("login-url")
    assert result.returncode == 2
    assert result.stdout == ""
    message = result.stderr
    assert message.startswith("error: ConfigError: no Cognito configuration")
    for advice in ("COGNITO_USER_POOL_ID", "COGNITO_CLIENT_ID", "--config", "demo --serve"):
        assert advice in message


def test_an_invalid_variable_exits_2_naming_the_variable_to_fix(env: Dict[str, str]) -> None:
    result = run("verify", "a.b.c", env={**env, "COGNITO_USER_POOL_ID": "not-a-pool"})
    assert result.returncode == 2
    assert "user_pool_id 'not-a-pool' does not look like a Cognito pool id" in result.stderr
    assert error_lines(result)[-1].startswith("hint: COGNITO_USER_POOL_ID is set but invalid: ")


def test_a_malformed_pool_id_hint_says_it_is_malformed_and_the_form_wanted(
    env: Dict[str, str],
) -> None:
    result = run("verify", "a.b.c", env={**env, "COGNITO_USER_POOL_ID": "not-a-pool"})
    hint = error_lines(result)[-1]
    assert hint.startswith("hint: COGNITO_USER_POOL_ID is set but invalid: it must be ")
    assert "us-east-1_AbC123" in hint
    assert "set COGNITO_USER_POOL_ID" not in hint


def test_a_malformed_key_in_a_config_file_hint_names_the_key_and_the_form(
    env: Dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "config.py"
    path.write_text("cognito_config = {'user_pool_id': 'not-a-pool', 'client_id': 'c'}\n")
    result = run("verify", "a.b.c", "--config", str(path), env=env)
    assert result.returncode == 2
    hint = error_lines(result)[-1]
    assert hint.startswith(f"hint: 'user_pool_id' in {path} is set but invalid: it must be ")
    assert "us-east-1_AbC123" in hint


def test_an_issuer_of_another_pool_hint_says_it_names_another_pool(env: Dict[str, str]) -> None:
    issuer = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Other9"
    result = run("verify", "a.b.c", env={**env, "COGNITO_ISSUER": issuer})
    assert result.returncode == 2
    hint = error_lines(result)[-1]
    assert hint.startswith("hint: COGNITO_ISSUER names another pool than COGNITO_USER_POOL_ID")
    assert "dataclasses" not in hint


def test_a_missing_redirect_uri_names_the_variable_and_the_option(env: Dict[str, str]) -> None:
    env.pop("COGNITO_REDIRECT_URI")
    result = run("login-url", env=env)
    assert result.returncode == 2
    assert error_lines(result)[-1] == "hint: set COGNITO_REDIRECT_URI or pass --redirect-uri"


def test_a_misspelled_variable_is_a_warning_line_naming_the_one_meant(
    lc: LocalCognito, env: Dict[str, str]
) -> None:
    env["COGNITO_DOMAN"] = env.pop("COGNITO_DOMAIN")
    result = run("login-url", env=env)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert lines[0] == (
        "warning: COGNITO_DOMAN is set, but cognito_helper reads no such variable (it is "
        "ignored): did you mean COGNITO_DOMAIN?"
    )
    assert lines[1].startswith("error: ConfigError: domain is not set")
    env["COGNITO_DOMAIN"] = env.pop("COGNITO_DOMAN")
    env["COGNITO_SCOPE"] = "openid"
    result = run("login-url", env=env)
    assert result.returncode == 0
    assert result.stderr == (
        "warning: COGNITO_SCOPE is set, but cognito_helper reads no such variable (it is "
        "ignored): did you mean COGNITO_SCOPES?\n"
    )
    assert result.stdout.startswith(lc.url + "/oauth2/authorize?")


def test_an_invalid_redirect_uri_option_hint_is_about_the_option(env: Dict[str, str]) -> None:
    result = run("login-url", "--redirect-uri", "http://example.com/cb", env=env)
    assert result.returncode == 2
    hint = error_lines(result)[-1]
    assert hint.startswith("hint: --redirect-uri must be ")
    assert "COGNITO_REDIRECT_URI" not in hint


def test_a_missing_config_file_exits_2_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "config.py"
    result = run("login-url", "--config", str(missing))
    assert result.returncode == 2
    assert f"--config {missing}: no such file" in result.stderr
    assert "config.example.py" in result.stderr


def test_a_config_file_without_cognito_config_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "config.py"
    path.write_text("settings = {}\n")
    result = run("login-url", "--config", str(path))
    assert result.returncode == 2
    assert "defines no 'cognito_config'" in result.stderr


def test_a_config_path_that_is_a_directory_says_so(tmp_path: Path) -> None:
    result = run("login-url", "--config", str(tmp_path))
    assert result.returncode == 2
    assert f"--config {tmp_path} is a directory, not a file" in result.stderr
    assert "no such file" not in result.stderr


@pytest.mark.parametrize(
    ("value", "found"), [('["a"]', "a list"), ("'us-east-1_AbC'", "a str"), ("None", "None")]
)
def test_a_cognito_config_of_the_wrong_type_names_the_type_found_and_wanted(
    tmp_path: Path, value: str, found: str
) -> None:
    path = tmp_path / "config.py"
    path.write_text(f"cognito_config = {value}\n")
    result = run("login-url", "--config", str(path))
    assert result.returncode == 2
    assert f"cognito_config is {found}, expected a dict of settings" in result.stderr
    assert "defines no" not in result.stderr


def test_a_config_file_that_fails_exits_2_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "config.py"
    path.write_text("import no_such_module_here\n")
    result = run("login-url", "--config", str(path))
    assert result.returncode == 2
    assert "failed to run: ModuleNotFoundError" in result.stderr


def test_a_copy_of_config_example_is_used_and_wins_over_variables(
    lc: LocalCognito, env: Dict[str, str], tmp_path: Path
) -> None:
    example = (Path(__file__).parents[1] / "config.example.py").read_text()
    assert '"domain": "my-app"' in example
    copied = example.replace('"domain": "my-app"', f'"domain": "{lc.url}"')
    copied = copied.replace('"us-east-1_AbC123"', f'"{lc.user_pool_id}"')
    path = tmp_path / "config.py"
    path.write_text(copied)
    result = run("--config", str(path), "login-url", env={**env, "COGNITO_DOMAIN": "elsewhere"})
    assert result.returncode == 0, result.stderr
    url = urlsplit(result.stdout.strip())
    assert f"{url.scheme}://{url.netloc}" == lc.url
    assert parse_qs(url.query)["client_id"] == ["1example23456789"]


@pytest.mark.parametrize(
    "command", [["login-url"], ["exchange", "c"], ["refresh", "r"], ["verify", "a.b.c"]]
)
@pytest.mark.parametrize("before", [True, False], ids=["before", "after"])
def test_config_is_read_before_or_after_every_command_that_uses_it(
    env: Dict[str, str], tmp_path: Path, command: List[str], before: bool
) -> None:
    missing = tmp_path / "config.py"  # its error proves the file, not the variables, is read
    args = ["--config", str(missing)]
    result = run(*placed(args, command, before), env=env)
    assert result.returncode == 2
    assert f"--config {missing}: no such file" in result.stderr


@pytest.mark.parametrize("before", [True, False], ids=["before", "after"])
def test_decode_accepts_config_before_or_after_and_needs_none(tmp_path: Path, before: bool) -> None:
    token = KeyPair().token({"sub": "s-1"})
    args = ["--config", str(tmp_path / "config.py")]
    result = run(*placed(args, ["decode", token], before))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["claims"]["sub"] == "s-1"


@pytest.mark.parametrize("before", [True, False], ids=["before", "after"])
def test_demo_refuses_config_before_or_after_it(tmp_path: Path, before: bool) -> None:
    args = ["--config", str(tmp_path / "config.py")]
    result = run(*placed(args, ["demo"], before))
    assert result.returncode == 2
    assert result.stdout == ""
    assert error_lines(result)[0] == "error: demo runs its own LocalCognito and takes no --config"
    assert error_lines(result)[-1].startswith("hint: to use your pool, pass --config to ")


# -- login-url -------------------------------------------------------------------------------


def test_login_url_prints_the_authorize_url_for_the_pool(
    lc: LocalCognito, env: Dict[str, str]
) -> None:
    result = run("login-url", "--state", "s-123", env=env)
    assert result.returncode == 0
    url = result.stdout.strip()
    assert url.startswith(lc.url + "/oauth2/authorize?")
    query = parse_qs(urlsplit(url).query)
    assert query["client_id"] == [lc.client_id]
    assert query["redirect_uri"] == [lc.config.redirect_uri]
    assert query["state"] == ["s-123"]
    assert "code_challenge" not in query


def test_login_url_pkce_prints_state_nonce_and_the_matching_verifier(
    env: Dict[str, str],
) -> None:
    result = run("login-url", "--pkce", env=env)
    assert result.returncode == 0
    login = json.loads(result.stdout)
    query = parse_qs(urlsplit(login["url"]).query)
    assert query["state"] == [login["state"]]
    assert query["nonce"] == [login["nonce"]]
    assert query["code_challenge"] == [pkce_challenge(login["code_verifier"])]
    assert "cognito-helper exchange" in result.stderr


def test_login_url_pkce_prints_an_exchange_command_that_works_for_a_dash_verifier(
    lc: LocalCognito, env: Dict[str, str]
) -> None:
    printed = run("login-url", "--pkce", env=env).stderr
    assert "--code-verifier=CODE_VERIFIER" in printed
    redirect = lc.sign_in(dash_login_url(lc.config), USER, PASSWORD)
    result = follow(printed, redirect, env)
    assert result.returncode == 0, result.stderr
    assert "access_token" in json.loads(result.stdout)


def test_login_url_with_an_unregistrable_redirect_uri_is_refused(env: Dict[str, str]) -> None:
    result = run("login-url", "--redirect-uri", "http://example.com/cb", env=env)
    assert result.returncode == 2
    assert "must use https" in result.stderr


# -- exchange ----------------------------------------------------------------------------------


def test_exchange_prints_the_tokens_as_json(lc: LocalCognito, env: Dict[str, str]) -> None:
    tokens = tokens_for(lc, env)
    assert set(tokens) == {"id_token", "access_token", "refresh_token", "expires_in", "token_type"}
    assert tokens["id_token"].count(".") == 2
    assert tokens["refresh_token"].count(".") == 4
    assert tokens["expires_in"] == lc.token_lifetime


def test_exchange_accepts_the_whole_redirect_url(lc: LocalCognito, env: Dict[str, str]) -> None:
    login = sign_in_from_the_cli(lc, env)
    result = run(
        "exchange", login["redirect"], f"--code-verifier={login['code_verifier']}", env=env
    )
    assert result.returncode == 0, result.stderr
    assert "access_token" in json.loads(result.stdout)


def test_exchange_of_a_used_code_exits_1_with_invalid_grant(
    lc: LocalCognito, env: Dict[str, str]
) -> None:
    login = sign_in_from_the_cli(lc, env)
    args = ("exchange", login["code"], f"--code-verifier={login['code_verifier']}")
    assert run(*args, env=env).returncode == 0
    again = run(*args, env=env)
    assert again.returncode == 1
    assert again.stdout == ""
    assert error_lines(again)[0].startswith("error: InvalidGrantError: ")
    assert "sign in again" in error_lines(again)[-1]
    assert login["code"] not in again.stderr


def test_exchange_with_the_wrong_verifier_exits_1(lc: LocalCognito, env: Dict[str, str]) -> None:
    login = sign_in_from_the_cli(lc, env)
    wrong = "w" * 64
    result = run("exchange", login["code"], f"--code-verifier={wrong}", env=env)
    assert result.returncode == 1
    assert "InvalidGrantError" in result.stderr
    assert wrong not in result.stderr


def test_exchange_with_a_dash_verifier_after_a_space_says_to_write_it_with_equals(
    env: Dict[str, str],
) -> None:
    result = run("exchange", "some-code", "--code-verifier", DASH_VERIFIER, env=env)
    assert result.returncode == 2
    assert "must be written --code-verifier=V" in result.stderr


def test_exchange_of_a_jwt_says_it_is_not_a_code(lc: LocalCognito, env: Dict[str, str]) -> None:
    token = lc.mint("id")
    result = run("exchange", token, env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert error_lines(result)[0].startswith("error: invalid argument: ")
    assert "looks like a JWT" in error_lines(result)[0]
    assert error_lines(result)[-1].startswith(
        "hint: that is an ID token, not an authorization code: "
    )
    assert token not in result.stderr


def test_exchange_with_a_malformed_verifier_is_a_usage_error(env: Dict[str, str]) -> None:
    result = run("exchange", "some-code", "--code-verifier", "too short", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("error: invalid argument: code_verifier")


def test_exchange_by_an_unknown_client_names_the_settings_to_check(env: Dict[str, str]) -> None:
    result = run("exchange", "some-code", env={**env, "COGNITO_CLIENT_ID": "nosuchclient"})
    assert result.returncode == 1
    assert "TokenExchangeError" in result.stderr
    assert "invalid_client" in result.stderr
    assert "check COGNITO_CLIENT_ID and COGNITO_CLIENT_SECRET" in result.stderr


def test_exchange_with_cognito_unreachable_exits_3(env: Dict[str, str]) -> None:
    domain = f"http://127.0.0.1:{closed_port()}"
    result = run("exchange", "some-code", env={**env, "COGNITO_DOMAIN": domain})
    assert result.returncode == 3
    assert result.stderr.startswith("error: CognitoConnectionError: ")
    assert f"the hosted-UI domain {domain} could not be used: check COGNITO_DOMAIN" in result.stderr


# -- refresh -----------------------------------------------------------------------------------


def test_refresh_prints_new_tokens_as_json(lc: LocalCognito, env: Dict[str, str]) -> None:
    tokens = tokens_for(lc, env)
    result = run("refresh", tokens["refresh_token"], env=env)
    assert result.returncode == 0, result.stderr
    refreshed = json.loads(result.stdout)
    assert refreshed["access_token"] != tokens["access_token"]
    assert refreshed["refresh_token"] == tokens["refresh_token"]  # no rotation configured


def test_refresh_reads_the_token_from_stdin(lc: LocalCognito, env: Dict[str, str]) -> None:
    tokens = tokens_for(lc, env)
    result = run("refresh", env=env, stdin=tokens["refresh_token"] + "\n")
    assert result.returncode == 0, result.stderr
    assert "access_token" in json.loads(result.stdout)


def test_refresh_of_a_revoked_token_exits_1_and_says_sign_in_again(
    lc: LocalCognito, env: Dict[str, str]
) -> None:
    from cognito_helper import revoke_token

    tokens = tokens_for(lc, env)
    revoke_token(tokens["refresh_token"], config=lc.config)
    result = run("refresh", tokens["refresh_token"], env=env)
    assert result.returncode == 1
    assert error_lines(result)[0].startswith("error: InvalidGrantError: ")
    assert error_lines(result)[-1] == (
        "hint: the refresh token expired or was revoked: the user must sign in again"
    )
    assert tokens["refresh_token"] not in result.stderr


def test_refresh_of_an_access_token_says_it_is_not_a_refresh_token(
    lc: LocalCognito, env: Dict[str, str]
) -> None:
    token = lc.mint("access")
    result = run("refresh", env=env, stdin=token + "\n")
    assert result.returncode == 2
    assert result.stdout == ""
    assert "looks like a JWT" in error_lines(result)[0]
    assert error_lines(result)[-1].startswith(
        "hint: that is an access token, not a refresh token: pass the refresh_token from "
    )
    assert "expired or was revoked" not in result.stderr
    assert token not in result.stderr


def test_refresh_without_a_token_is_a_usage_error(env: Dict[str, str]) -> None:
    result = run("refresh", env=env, stdin="")
    assert result.returncode == 2
    assert "the refresh token is empty" in result.stderr


# -- m2m-token ---------------------------------------------------------------------------------

M2M_RESOURCE = "https://api.example.com/m2m"


@pytest.fixture
def m2m(make_lc: Callable[..., LocalCognito]) -> LocalCognito:
    """A LocalCognito whose app client is confidential and may bind tokens to M2M_RESOURCE."""
    return make_lc(client_secret=SECRET, resources=[M2M_RESOURCE])


@pytest.fixture
def m2m_env(m2m: LocalCognito) -> Dict[str, str]:
    """COGNITO_* for the confidential app client of ``m2m``."""
    return {
        **base_env(),
        "COGNITO_USER_POOL_ID": m2m.user_pool_id,
        "COGNITO_CLIENT_ID": m2m.client_id,
        "COGNITO_CLIENT_SECRET": SECRET,
        "COGNITO_DOMAIN": m2m.url,
        "COGNITO_ISSUER": m2m.issuer,
        "COGNITO_JWKS_URL": m2m.jwks_url,
    }


def test_m2m_token_prints_the_token_response_as_json(
    m2m: LocalCognito, m2m_env: Dict[str, str]
) -> None:
    result = run("m2m-token", "--scope", "localapi/read", env=m2m_env)
    assert result.returncode == 0, result.stderr
    response = json.loads(result.stdout)
    assert set(response) == {"access_token", "expires_in", "token_type"}
    assert response["expires_in"] == 3600 and response["token_type"] == "Bearer"
    assert m2m.token_requests("client_credentials") == 1
    checked = run("verify", response["access_token"], "--scope", "localapi/read", env=m2m_env)
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["scope"] == "localapi/read"
    assert SECRET not in result.stdout + result.stderr


def test_m2m_token_takes_several_scopes_and_a_resource(
    m2m: LocalCognito, m2m_env: Dict[str, str]
) -> None:
    result = run(
        "m2m-token",
        "--scope",
        "localapi/write",
        "--scope",
        "localapi/read",
        "--resource",
        M2M_RESOURCE,
        env=m2m_env,
    )
    assert result.returncode == 0, result.stderr
    claims = decode_unverified(json.loads(result.stdout)["access_token"])[1]
    assert claims["scope"].split() == ["localapi/write", "localapi/read"]
    assert claims["aud"] == M2M_RESOURCE


def test_m2m_token_without_a_secret_exits_2_saying_to_set_it(m2m_env: Dict[str, str]) -> None:
    env = {k: v for k, v in m2m_env.items() if k != "COGNITO_CLIENT_SECRET"}
    result = run("m2m-token", env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith("error: ConfigError: ")
    assert error_lines(result)[-1] == "hint: set COGNITO_CLIENT_SECRET"


def test_m2m_token_with_a_scope_the_client_may_not_ask_for_exits_1(
    m2m_env: Dict[str, str],
) -> None:
    result = run("m2m-token", "--scope", "localapi/admin", env=m2m_env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "TokenExchangeError" in result.stderr and "invalid_scope" in result.stderr
    assert error_lines(result)[-1].startswith("hint: ask for custom scopes")


def test_m2m_token_with_a_wrong_secret_exits_1_without_printing_either_secret(
    m2m_env: Dict[str, str],
) -> None:
    wrong = "wrong-secret-that-must-not-be-printed-either"
    result = run("m2m-token", env={**m2m_env, "COGNITO_CLIENT_SECRET": wrong})
    assert result.returncode == 1
    assert "invalid_client" in result.stderr
    assert "check COGNITO_CLIENT_ID and COGNITO_CLIENT_SECRET" in result.stderr
    assert wrong not in result.stdout + result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_m2m_token_with_an_unregistered_resource_exits_1_naming_the_resource_rule(
    m2m_env: Dict[str, str],
) -> None:
    result = run("m2m-token", "--resource", "https://elsewhere.example.com", env=m2m_env)
    assert result.returncode == 1
    assert "invalid_request" in result.stderr
    hint = error_lines(result)[-1]
    assert hint.startswith("hint: a parameter is missing or malformed; a --resource must be")


def test_m2m_token_with_a_resource_that_is_not_a_uri_is_a_usage_error(
    m2m: LocalCognito, m2m_env: Dict[str, str]
) -> None:
    result = run("m2m-token", "--resource", "orders", env=m2m_env)
    assert result.returncode == 2
    assert result.stderr.startswith("error: invalid argument: resource")
    assert m2m.token_requests() == 0


def test_m2m_token_with_cognito_failing_exits_3(m2m: LocalCognito, m2m_env: Dict[str, str]) -> None:
    with m2m.fail_token_endpoint(503):
        result = run("m2m-token", env=m2m_env)
    assert result.returncode == 3
    assert result.stderr.startswith("error: CognitoConnectionError: ")
    assert f"the hosted-UI domain {m2m.url} could not be used" in result.stderr


# -- verify ------------------------------------------------------------------------------------


def test_verify_prints_the_claims_of_a_valid_token(lc: LocalCognito, env: Dict[str, str]) -> None:
    tokens = tokens_for(lc, env)
    result = run("verify", tokens["id_token"], "--token-use", "id", env=env)
    assert result.returncode == 0, result.stderr
    claims = json.loads(result.stdout)
    assert claims["email"] == EMAIL
    assert claims["cognito:groups"] == list(GROUPS)
    assert claims["aud"] == lc.client_id


def test_verify_reads_the_token_from_stdin_even_with_a_bearer_prefix(
    lc: LocalCognito, env: Dict[str, str]
) -> None:
    token = lc.mint("access", username="bob")
    result = run("verify", "-", env=env, stdin=f"Bearer {token}\n")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["username"] == "bob"


def test_verify_of_the_other_kind_of_token_exits_1_naming_the_claim(
    lc: LocalCognito, env: Dict[str, str]
) -> None:
    result = run("verify", lc.mint("access"), "--token-use", "id", env=env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert error_lines(result) == [
        "error: InvalidClaimsError: 'token_use' must be 'id', found 'access'",
        "failed check: claim 'token_use'",
        "hint: it is the other kind of token: change or drop --token-use",
    ]


def test_verify_of_an_expired_token_exits_1_and_leeway_accepts_it(
    lc: LocalCognito, env: Dict[str, str]
) -> None:
    token = lc.mint("access", exp=int(time.time()) - 30)
    result = run("verify", token, env=env)
    assert result.returncode == 1
    assert error_lines(result)[0].startswith("error: TokenExpiredError: the token expired ")
    assert "failed check: expiry (exp)" in result.stderr
    assert run("verify", token, "--leeway", "120", env=env).returncode == 0


def test_verify_of_a_forged_signature_exits_1(lc: LocalCognito, env: Dict[str, str]) -> None:
    forged = lc.mint("access", key=KeyPair().private)
    result = run("verify", forged, env=env)
    assert result.returncode == 1
    assert error_lines(result)[0].startswith("error: InvalidSignatureError: ")
    assert "failed check: signature" in result.stderr


def test_verify_of_an_unknown_kid_exits_1(lc: LocalCognito, env: Dict[str, str]) -> None:
    result = run("verify", lc.mint("access", header={"kid": "not-a-key-of-this-pool"}), env=env)
    assert result.returncode == 1
    assert error_lines(result)[0].startswith("error: UnknownKeyError: ")
    assert "check COGNITO_USER_POOL_ID" in result.stderr


def test_verify_of_another_issuer_exits_1_naming_the_setting(
    lc: LocalCognito, env: Dict[str, str]
) -> None:
    result = run("verify", lc.mint("id", iss="https://cognito-idp.example/other"), env=env)
    assert result.returncode == 1
    assert "error: InvalidClaimsError: 'iss' must be" in result.stderr
    assert "failed check: claim 'iss'" in result.stderr


def test_verify_of_garbage_exits_1_as_malformed(env: Dict[str, str]) -> None:
    result = run("verify", "not-a-token", env=env)
    assert result.returncode == 1
    assert error_lines(result)[0].startswith("error: MalformedTokenError: ")
    assert "failed check: format" in result.stderr


def test_verify_of_a_refresh_token_explains_what_it_is(
    lc: LocalCognito, env: Dict[str, str]
) -> None:
    refresh_token = tokens_for(lc, env)["refresh_token"]
    result = run("verify", refresh_token, env=env)
    assert result.returncode == 1
    assert "it is a refresh token (an encrypted JWE)" in result.stderr
    assert refresh_token not in result.stderr


def test_verify_of_a_refresh_token_hint_agrees_with_the_reason(env: Dict[str, str]) -> None:
    result = run("verify", REFRESH_SHAPED, env=env)
    assert result.returncode == 1
    assert error_lines(result)[0].startswith("error: MalformedTokenError: this has 5 ")
    assert "it is a refresh token" in error_lines(result)[0]
    assert error_lines(result)[-1] == (
        "hint: `cognito-helper verify` takes an ID or access token (3 dot-separated parts): "
        "the id_token or access_token from `cognito-helper exchange` or `refresh`"
    )


def test_decode_of_a_refresh_token_hint_agrees_with_the_reason() -> None:
    result = run("decode", REFRESH_SHAPED)
    assert result.returncode == 1
    assert "it is a refresh token" in error_lines(result)[0]
    assert error_lines(result)[-1].startswith(
        "hint: `cognito-helper decode` takes an ID or access token"
    )


@pytest.mark.parametrize("quote", ['"', "'"])
def test_verify_of_a_quoted_token_says_remove_the_quotes(
    lc: LocalCognito, env: Dict[str, str], quote: str
) -> None:
    token = lc.mint("access")
    result = run("verify", env=env, stdin=f"{quote}{token}{quote}\n")  # as `jq` without -r
    assert result.returncode == 1
    assert "remove the quotes" in error_lines(result)[0]
    assert "with no quotes" in error_lines(result)[-1]
    assert "whole JWT" not in result.stderr


def test_verify_with_the_jwks_unreachable_exits_3(lc: LocalCognito, env: Dict[str, str]) -> None:
    jwks_url = f"http://127.0.0.1:{closed_port()}/jwks.json"
    result = run("verify", lc.mint("access"), env={**env, "COGNITO_JWKS_URL": jwks_url})
    assert result.returncode == 3
    assert result.stderr.startswith("error: CognitoConnectionError: ")
    assert f"the JWKS URL {jwks_url} could not be used" in result.stderr


def test_verify_with_a_negative_leeway_is_a_usage_error(env: Dict[str, str]) -> None:
    result = run("verify", "a.b.c", "--leeway", "-5", env=env)
    assert result.returncode == 2
    assert result.stderr.startswith("error: invalid argument: leeway")


# -- verify: what the library checks beyond the standard checks --------------------------------

API = "https://api.example.com/orders"
MOBILE = "mobile-client-0123456789"


def test_verify_of_a_sign_in_checks_its_nonce_and_access_token(
    lc: LocalCognito, env: Dict[str, str]
) -> None:
    login = sign_in_from_the_cli(lc, env)
    result = run("exchange", login["code"], f"--code-verifier={login['code_verifier']}", env=env)
    assert result.returncode == 0, result.stderr
    tokens = json.loads(result.stdout)
    args = [f"--nonce={login['nonce']}", "--access-token", tokens["access_token"]]
    result = run("verify", tokens["id_token"], "--token-use", "id", *args, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["nonce"] == login["nonce"]


def test_verify_with_another_nonce_exits_1_naming_the_claim(
    lc: LocalCognito, env: Dict[str, str]
) -> None:
    result = run("verify", lc.mint("id", nonce="n-1"), "--nonce", "n-2", env=env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert error_lines(result) == [
        "error: InvalidClaimsError: 'nonce' does not match this sign-in's nonce",
        "failed check: claim 'nonce'",
        "hint: the ID token is not from the sign-in that nonce was made for: pass the nonce "
        "`cognito-helper login-url --pkce` printed with this sign-in's URL",
    ]


@pytest.mark.parametrize(
    ("token_use", "option", "value", "claim", "hint"),
    [
        pytest.param(
            "access",
            "--nonce",
            "n-1",
            "nonce",
            "hint: only an ID token carries a nonce: pass the id_token, or drop --nonce",
            id="a-nonce-of-an-access-token-says-only-id-tokens-carry-one",
        ),
        pytest.param(
            "id",
            "--scope",
            "openid",
            "scope",
            "hint: scopes are in access tokens: pass the access_token, or drop --scope",
            id="a-scope-of-an-id-token-says-scopes-are-in-access-tokens",
        ),
        pytest.param(
            "id",
            "--audience",
            API,
            "aud",
            "hint: --audience checks access tokens (an ID token's aud is its app client): pass "
            "the access_token, or drop --audience",
            id="an-id-token-with-an-audience-says-audience-is-for-access-tokens",
        ),
    ],
)
def test_verify_with_an_option_for_the_other_kind_of_token_says_which_kind_it_is_for(
    lc: LocalCognito,
    env: Dict[str, str],
    token_use: str,
    option: str,
    value: str,
    claim: str,
    hint: str,
) -> None:
    result = run("verify", lc.mint(token_use), option, value, env=env)
    assert result.returncode == 1
    assert f"failed check: claim '{claim}'" in result.stderr
    assert error_lines(result)[-1] == hint


def test_verify_with_another_access_token_exits_1_naming_at_hash(
    lc: LocalCognito, env: Dict[str, str]
) -> None:
    access, other = lc.mint("access"), lc.mint("access", username="other")
    id_token = lc.mint("id", at_hash=at_hash(access))
    assert run("verify", id_token, "--access-token", access, env=env).returncode == 0
    result = run("verify", id_token, "--access-token", other, env=env)
    assert result.returncode == 1
    assert "failed check: claim 'at_hash'" in result.stderr
    assert error_lines(result)[-1].startswith("hint: the ID token was not issued with that ")
    assert other not in result.stderr


def test_verify_with_scopes_accepts_a_token_granting_one_of_them(
    lc: LocalCognito, env: Dict[str, str]
) -> None:
    token = lc.mint("access", scope="openid localapi/read")
    ok = run("verify", token, "--scope", "localapi/write", "--scope", "localapi/read", env=env)
    assert ok.returncode == 0, ok.stderr
    listed = run("verify", token, "--scope", "localapi/write localapi/read", env=env)
    assert listed.returncode == 0, listed.stderr
    result = run("verify", token, "--scope", "localapi/write", "--scope", "admin", env=env)
    assert result.returncode == 1
    assert error_lines(result)[:2] == [
        "error: InvalidClaimsError: the token grants none of the scopes ['admin', "
        "'localapi/write']",
        "failed check: claim 'scope'",
    ]
    assert error_lines(result)[-1].startswith(
        "hint: the token grants none of the scopes given with --scope: sign in asking for one "
        "(COGNITO_SCOPES; "
    )


@pytest.mark.parametrize("token_use", ["id", "access"])
def test_verify_with_groups_accepts_a_member_of_one_of_them(
    lc: LocalCognito, env: Dict[str, str], token_use: str
) -> None:
    groups: Dict[str, Any] = {"cognito:groups": ["admins", "staff"]}
    token = lc.mint(token_use, **groups)
    ok = run("verify", token, "--group", "auditors", "--group", "staff", env=env)
    assert ok.returncode == 0, ok.stderr
    result = run("verify", token, "--group", "auditors", env=env)
    assert result.returncode == 1
    assert error_lines(result)[:2] == [
        "error: InvalidClaimsError: the user is in none of the groups ['auditors']",
        "failed check: claim 'cognito:groups'",
    ]
    assert error_lines(result)[-1].startswith(
        "hint: the user is in none of the groups given with --group: "
    )


def test_verify_with_an_audience_accepts_an_access_token_bound_to_one_of_them(
    lc: LocalCognito, env: Dict[str, str]
) -> None:
    token = lc.mint("access", aud=[API])
    ok = run("verify", token, "--audience", "https://other.example.com", "--audience", API, env=env)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["aud"] == [API]


@pytest.mark.parametrize("aud", [["https://other.example.com/api"], None], ids=["other", "none"])
def test_verify_of_an_access_token_not_bound_to_the_audience_exits_1_saying_so(
    lc: LocalCognito, env: Dict[str, str], aud: Optional[List[str]]
) -> None:
    result = run("verify", lc.mint("access", aud=aud), "--audience", API, env=env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert error_lines(result)[1] == "failed check: claim 'aud'"
    assert error_lines(result)[-1].startswith(
        "hint: the access token is not bound to that resource: "
    )
    assert "COGNITO_CLIENT_ID" not in result.stderr


def test_verify_of_an_id_token_of_another_client_with_an_audience_names_the_client(
    lc: LocalCognito, env: Dict[str, str]
) -> None:
    result = run("verify", lc.mint("id", aud="another-client"), "--audience", API, env=env)
    assert result.returncode == 1
    assert "failed check: claim 'aud'" in result.stderr
    assert error_lines(result)[-1].startswith(
        "hint: the token was issued to another app client: check COGNITO_CLIENT_ID"
    )


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--scope", " "),
        ("--group", ""),
        ("--audience", ""),
        ("--nonce", ""),
        ("--access-token", ""),
    ],
)
def test_verify_with_an_empty_option_value_is_a_usage_error(
    env: Dict[str, str], option: str, value: str
) -> None:
    result = run("verify", "a.b.c", f"{option}={value}", env=env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"argument {option}: " in result.stderr
    assert "is empty" in result.stderr


# -- verify: several app clients and pools -------------------------------------------------


def config_file(path: Path, lc: LocalCognito, client_id: Optional[str] = None, **more: str) -> str:
    """A config.py at ``path`` for ``lc``'s pool and app client ``client_id`` (default main)."""
    settings = {
        "user_pool_id": lc.user_pool_id,
        "client_id": client_id or lc.client_id,
        "issuer": lc.issuer,
        "jwks_url": lc.jwks_url,
        **more,
    }
    path.write_text(f"cognito_config = {settings!r}\n")
    return str(path)


def minted(lc: LocalCognito, token_use: str, client_id: str) -> str:
    """A token of ``lc``'s pool issued to app client ``client_id``."""
    claims: Dict[str, Any] = {"aud" if token_use == "id" else "client_id": client_id}
    return lc.mint(token_use, **claims)


@pytest.mark.parametrize("token_use", ["id", "access"])
def test_verify_trusts_every_app_client_listed_in_cognito_client_id(
    lc: LocalCognito, env: Dict[str, str], token_use: str
) -> None:
    lc.add_client(MOBILE)
    both = {**env, "COGNITO_CLIENT_ID": f"{lc.client_id}  {MOBILE}"}
    for client in (lc.client_id, MOBILE):
        result = run("verify", minted(lc, token_use, client), env=both)
        assert result.returncode == 0, result.stderr
    alone = run("verify", minted(lc, token_use, MOBILE), env=env)
    assert alone.returncode == 1
    claim = "aud" if token_use == "id" else "client_id"
    assert f"failed check: claim '{claim}'" in alone.stderr
    assert error_lines(alone)[-1] == (
        "hint: the token was issued to another app client: check COGNITO_CLIENT_ID (verify "
        "takes several ids of the pool, separated by spaces)"
    )


def test_verify_with_several_client_ids_refuses_an_unlisted_client_naming_it(
    lc: LocalCognito, env: Dict[str, str]
) -> None:
    lc.add_client(MOBILE)
    both = {**env, "COGNITO_CLIENT_ID": f"{lc.client_id} {MOBILE}"}
    result = run("verify", minted(lc, "access", "some-other-client"), env=both)
    assert result.returncode == 1
    assert error_lines(result)[0].startswith(
        "error: InvalidClaimsError: 'client_id' 'some-other-client' is none of this pool's "
        "trusted app clients"
    )
    assert "failed check: claim 'client_id'" in result.stderr
    assert "check COGNITO_CLIENT_ID" in error_lines(result)[-1]


def test_verify_with_several_client_ids_still_runs_the_asked_checks(
    lc: LocalCognito, env: Dict[str, str]
) -> None:
    lc.add_client(MOBILE)
    both = {**env, "COGNITO_CLIENT_ID": f"{lc.client_id} {MOBILE}"}
    token = lc.mint("access", client_id=MOBILE, scope="localapi/read", aud=API)
    args = ["--scope", "localapi/read", "--audience", API, "--token-use", "access"]
    assert run("verify", token, *args, env=both).returncode == 0
    result = run("verify", token, "--scope", "localapi/write", env=both)
    assert result.returncode == 1
    assert "failed check: claim 'scope'" in result.stderr


@pytest.mark.parametrize(
    "command", [["login-url"], ["exchange", "c"], ["refresh", "r"]], ids=lambda c: c[0]
)
def test_a_command_acting_as_one_client_refuses_several_client_ids(
    lc: LocalCognito, env: Dict[str, str], command: List[str]
) -> None:
    result = run(*command, env={**env, "COGNITO_CLIENT_ID": f"{lc.client_id} {MOBILE}"})
    assert result.returncode == 2
    assert result.stdout == ""
    assert error_lines(result) == [
        f"error: COGNITO_CLIENT_ID lists 2 app clients ({lc.client_id} {MOBILE}), and "
        f"`cognito-helper {command[0]}` acts as one app client",
        f"hint: set COGNITO_CLIENT_ID to the one app client's id for {command[0]}; only "
        "`cognito-helper verify` accepts several ids, separated by spaces",
    ]


def test_verify_trusts_every_config_file_given_before_or_after_it(
    make_lc: Callable[..., LocalCognito], env: Dict[str, str], tmp_path: Path
) -> None:
    a, b, c = make_lc(), make_lc(), make_lc()
    a.add_client(MOBILE)
    web = config_file(tmp_path / "web.py", a)
    mobile = config_file(tmp_path / "mobile.py", a, MOBILE)
    staff = config_file(tmp_path / "staff.py", b)
    files = ["--config", web, "verify", "--config", mobile, "--config", staff]
    for lc, client in ((a, a.client_id), (a, MOBILE), (b, b.client_id)):
        for token_use in ("id", "access"):
            result = run(*files, minted(lc, token_use, client), env=env)  # env is not read
            assert result.returncode == 0, result.stderr
            assert json.loads(result.stdout)["iss"] == lc.issuer
    foreign = run(*files, minted(c, "access", c.client_id))
    assert foreign.returncode == 1
    assert "failed check: claim 'iss'" in foreign.stderr
    assert error_lines(foreign)[-1] == (
        "hint: the token is from none of the pools of the --config files: check "
        "'user_pool_id' in the --config files, or add a --config for its pool"
    )
    assert c.jwks_requests == 0
    unlisted = run(*files, minted(a, "id", "some-other-client"))
    assert unlisted.returncode == 1
    assert "failed check: claim 'aud'" in unlisted.stderr
    assert error_lines(unlisted)[-1] == (
        "hint: the token was issued to an app client none of the --config files names: add a "
        "--config for that app client"
    )


def test_verify_with_one_config_file_says_another_can_be_given_for_another_client(
    lc: LocalCognito, tmp_path: Path
) -> None:
    path = config_file(tmp_path / "config.py", lc)
    result = run("verify", minted(lc, "access", MOBILE), "--config", path)
    assert result.returncode == 1
    assert error_lines(result)[-1] == (
        f"hint: the token was issued to another app client: check 'client_id' in {path}, or "
        "give --config once more for that app client"
    )


def test_verify_names_the_config_file_that_is_wrong_among_several(
    lc: LocalCognito, tmp_path: Path
) -> None:
    good = config_file(tmp_path / "good.py", lc)
    bad = tmp_path / "bad.py"
    bad.write_text("cognito_config = {'user_pool_id': 'not-a-pool', 'client_id': 'c'}\n")
    result = run("verify", lc.mint("id"), "--config", good, "--config", str(bad))
    assert result.returncode == 2
    assert error_lines(result)[0].startswith(f"error: ConfigError: {bad}: user_pool_id ")
    assert error_lines(result)[-1].startswith(
        f"hint: 'user_pool_id' in {bad} is set but invalid: it must be "
    )
    missing = tmp_path / "missing.py"
    result = run("verify", lc.mint("id"), "--config", str(missing), "--config", good)
    assert result.returncode == 2
    assert f"--config {missing}: no such file" in result.stderr


def test_verify_among_config_files_names_the_jwks_url_of_the_tokens_pool_when_unreachable(
    make_lc: Callable[..., LocalCognito], tmp_path: Path
) -> None:
    a, b = make_lc(), make_lc()
    jwks_url = f"http://127.0.0.1:{closed_port()}/jwks.json"
    files = [
        *("--config", config_file(tmp_path / "a.py", a)),
        *("--config", config_file(tmp_path / "b.py", b, jwks_url=jwks_url)),
    ]
    result = run("verify", b.mint("access"), *files)
    assert result.returncode == 3
    assert f"the JWKS URL {jwks_url} could not be used" in result.stderr
    assert run("verify", a.mint("access"), *files).returncode == 0


def test_a_command_acting_as_one_client_reads_the_last_config_file_given(
    lc: LocalCognito, env: Dict[str, str], tmp_path: Path
) -> None:
    missing = str(tmp_path / "missing.py")
    path = config_file(
        tmp_path / "config.py", lc, domain=lc.url, redirect_uri=str(lc.config.redirect_uri)
    )
    result = run("--config", missing, "login-url", "--config", path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(lc.url + "/oauth2/authorize?")


# -- decode ------------------------------------------------------------------------------------


def test_decode_prints_header_and_claims_as_json_on_stdout() -> None:
    key = KeyPair(kid="kid-decode")
    token = key.token({"sub": "s-1", "exp": int(time.time()) + 600, "token_use": "id"})
    result = run("decode", token)  # no configuration needed
    assert result.returncode == 0, result.stderr
    decoded = json.loads(result.stdout)
    assert set(decoded) == {"header", "claims"}
    assert decoded["header"]["kid"] == "kid-decode"
    assert decoded["claims"]["sub"] == "s-1"


def test_decode_labels_its_output_unverified_on_stderr() -> None:
    key = KeyPair(kid="kid-decode")
    token = key.token({"sub": "s-1", "exp": int(time.time()) + 42 * 60 + 30, "token_use": "id"})
    result = run("decode", token)
    assert result.returncode == 0, result.stderr
    err = result.stderr
    assert err.startswith("*** UNVERIFIED")
    assert err.rstrip().endswith("***")
    assert "(expires in 42 min)" in err
    assert "UNVERIFIED" not in result.stdout


def test_decode_says_how_long_ago_a_token_expired() -> None:
    now = int(time.time())
    token = KeyPair().token({"exp": now - 3 * 3600 - 60, "iat": now - 4 * 3600 - 60})
    result = run("decode", token)
    assert "(expired 3 h ago)" in result.stderr
    assert "(4 h ago)" in result.stderr


def test_decode_of_something_that_is_not_a_jwt_exits_1() -> None:
    result = run("decode", "abc.def")
    assert result.returncode == 1
    assert "MalformedTokenError" in result.stderr


def test_decode_without_a_token_is_a_usage_error() -> None:
    result = run("decode", stdin="")
    assert result.returncode == 2
    assert "the token is empty" in result.stderr


# -- secrets -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [["login-url"], ["login-url", "--state", "s"], ["verify"], ["verify", "x"], ["decode"]],
    ids=" ".join,
)
def test_the_client_secret_is_never_printed(
    lc: LocalCognito, env: Dict[str, str], args: List[str]
) -> None:
    if args == ["verify"] or args == ["decode"]:
        args = [*args, lc.mint("access")]
    result = run(*args, env={**env, "COGNITO_CLIENT_SECRET": SECRET})
    assert SECRET not in result.stdout + result.stderr


def test_the_client_secret_is_not_printed_when_cognito_refuses_it(env: Dict[str, str]) -> None:
    result = run("refresh", "x.y.z.w.v", env={**env, "COGNITO_CLIENT_SECRET": SECRET})
    assert result.returncode == 1
    assert "invalid_client" in result.stderr
    assert SECRET not in result.stdout + result.stderr


# -- demo --------------------------------------------------------------------------------------


def test_demo_walks_all_eight_steps_and_exits_0() -> None:
    result = run("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for step in range(1, 9):
        assert f"\n[{step}] " in out
    assert "id token email: demo@example.com" in out
    assert "InvalidGrantError as expected: invalid_grant" in out
    assert "Every step behaved as expected." in out
    assert result.stderr == ""


class ServedDemo:
    """``cognito-helper demo --serve`` running: what it printed up to its Ctrl+C line, the
    variables it exported (``exports``: the first block of ``export`` lines, for the app;
    ``m2m_exports``: the second, for the machine-to-machine client), and (once stopped) the
    rest of its output."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.lines: List[str] = []
        self.exports: Dict[str, str] = {}
        self.m2m_exports: Dict[str, str] = {}
        self.out = self.err = ""

    def read_exports(self) -> None:
        """Each block of consecutive ``export NAME=VALUE`` lines, as the shell reads them."""
        blocks: List[Dict[str, str]] = []
        in_block = False
        for line in self.lines:
            if line.startswith("export "):
                if not in_block:
                    blocks.append({})
                [assignment] = shlex.split(line[len("export ") :])
                name, value = assignment.split("=", 1)
                blocks[-1][name] = value
            in_block = line.startswith("export ")
        self.exports, self.m2m_exports = [*blocks, {}, {}][:2]


@contextlib.contextmanager
def demo_serve(*args: str) -> Iterator[ServedDemo]:
    """Start ``demo --serve ARGS``, read up to its Ctrl+C line, stop it with SIGTERM after."""
    process = subprocess.Popen(
        [str(SCRIPT), "demo", "--serve", *args],
        env=base_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    served = ServedDemo(process)
    try:
        assert process.stdout is not None
        for line in process.stdout:
            served.lines.append(line)
            if line.startswith("Press Ctrl+C"):
                break
        served.read_exports()
        yield served
    finally:
        process.send_signal(signal.SIGTERM)
        served.out, served.err = process.communicate(timeout=10)


def test_demo_serve_prints_variables_that_point_the_other_commands_at_it(
    lc: LocalCognito,
) -> None:
    with demo_serve("--app-url", "http://localhost:8123") as served:
        lines, exports = served.lines, served.exports
        assert exports["COGNITO_REDIRECT_URI"] == "http://localhost:8123/cognito_redirect"
        assert any("demo / Demo-Passw0rd!" in line for line in lines)
        login = run("login-url", "--pkce", env={**base_env(), **exports})
        assert login.returncode == 0, login.stderr
        # sign_in does what a browser does, so any instance can sign in at the served one
        redirect = lc.sign_in(json.loads(login.stdout)["url"], "demo", "Demo-Passw0rd!")
        assert redirect.startswith("http://localhost:8123/cognito_redirect?code=")
    assert served.process.returncode == 0, served.err
    assert served.out.endswith("stopped\n")


def test_demo_serve_prints_an_exchange_command_that_works_for_a_dash_verifier(
    lc: LocalCognito,
) -> None:
    with demo_serve() as served:
        printed = "".join(served.lines)
        assert "--code-verifier=CODE_VERIFIER" in printed
        exports = served.exports
        env = {**base_env(), **exports}
        served_config = CognitoConfig.from_env(exports)
        redirect = lc.sign_in(dash_login_url(served_config), "demo", "Demo-Passw0rd!")
        result = follow(printed, redirect, env)
        assert result.returncode == 0, result.stderr
        assert "access_token" in json.loads(result.stdout)


def test_demo_serve_offers_a_confidential_client_for_m2m_token() -> None:
    with demo_serve() as served:
        printed = "".join(served.lines)
        app, m2m = served.exports, served.m2m_exports
        assert "COGNITO_CLIENT_SECRET" not in app
        assert m2m["COGNITO_CLIENT_ID"] != app["COGNITO_CLIENT_ID"]
        assert m2m["COGNITO_USER_POOL_ID"] == app["COGNITO_USER_POOL_ID"]
        assert "throwaway" in printed and "localapi/read" in printed
        env = {**base_env(), **m2m}
        result = run("m2m-token", "--scope", "localapi/read", env=env)
        assert result.returncode == 0, result.stderr
        token = json.loads(result.stdout)["access_token"]
        checked = run("verify", token, "--scope", "localapi/read", env=env)
        assert checked.returncode == 0, checked.stderr
        claims = json.loads(checked.stdout)
        assert (claims["client_id"], claims["scope"]) == (m2m["COGNITO_CLIENT_ID"], "localapi/read")
        public = run("m2m-token", env={**base_env(), **app})
        assert public.returncode == 2
        assert "client_secret" in public.stderr
    assert served.process.returncode == 0, served.err


def test_demo_with_an_app_url_that_cannot_be_registered_is_about_app_url() -> None:
    result = run("demo", "--app-url", "http://example.com")
    assert result.returncode == 2
    assert result.stdout == ""
    assert error_lines(result)[0].startswith("error: --app-url 'http://example.com' cannot be used")
    assert error_lines(result)[-1].startswith("hint: --app-url must be an https URL, or http on ")
    assert "COGNITO_REDIRECT_URI" not in result.stderr


@pytest.mark.parametrize("port", ["99999", "65536", "-5"])
def test_demo_with_a_port_out_of_range_is_a_usage_error(port: str) -> None:
    result = run("demo", "--port", port)
    assert result.returncode == 2
    assert f"argument --port: {port} is not a port: give 1..65535, or 0 for a free one" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_demo_serve_on_a_busy_port_exits_2() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        result = run("demo", "--serve", "--port", str(busy.getsockname()[1]))
    assert result.returncode == 2
    assert "choose another --port" in result.stderr
