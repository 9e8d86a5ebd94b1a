"""The Flask code users copy: the README's sign-in snippet and examples/flask_app.py.

The snippet is taken from README.md and run as written, with Flask's test client, against a
LocalCognito. The example (on ``CognitoLogin``, whose own tests are tests/test_flask_login.py)
is run in-process with Flask's test client, and as ``python examples/flask_app.py`` in a
subprocess, the way its docstring says to start it, on a free loopback port.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import pytest
import requests

from cognito_helper import CognitoConfig
from cognito_helper.testing import LocalCognito

from .helpers import (
    MakeLocalCognito,
    example_env,
    free_port,
    load_example,
    running_example,
    sign_in,
)
from .snippets import snippets_for

pytest.importorskip("flask")

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "examples" / "flask_app.py"


def cognito_env(config: CognitoConfig) -> Dict[str, str]:
    """The variables ``cognito-helper demo --serve`` prints for a LocalCognito's config."""
    return {
        "COGNITO_USER_POOL_ID": config.user_pool_id,
        "COGNITO_CLIENT_ID": config.client_id,
        "COGNITO_DOMAIN": config.base_url,
        "COGNITO_REDIRECT_URI": config.redirect_uri or "",
        "COGNITO_LOGOUT_URI": config.logout_uri or "",
        "COGNITO_ISSUER": config.issuers[0],
        "COGNITO_JWKS_URL": config.jwks_url or "",
    }


# -- the README's sign-in snippet ---------------------------------------------------------


class Snippet:
    """The README snippet running against a LocalCognito, seen through Flask's test client."""

    def __init__(self, lc: LocalCognito, monkeypatch: pytest.MonkeyPatch) -> None:
        for name, value in cognito_env(lc.config).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("FLASK_SECRET_KEY", "a-test-only-secret-key-0123456789")
        self.lc = lc
        (flow,) = snippets_for(Snippet)  # "The sign-in flow (state, nonce, PKCE)"
        self.namespace: Dict[str, Any] = flow.run()
        self.app: Any = self.namespace["app"]
        self.client = self.app.test_client()
        self.set_cookies: List[str] = []  # every Set-Cookie header the browser was sent
        self.secrets: List[str] = []  # the verifier and tokens the snippet handled
        exchange = self.namespace["get_cognito_tokens"]

        def recording_exchange(*args: Any, **kwargs: Any) -> Any:
            tokens = exchange(*args, **kwargs)
            self.secrets.extend(filter(None, [kwargs.get("code_verifier"), *tokens]))
            return tokens

        self.namespace["get_cognito_tokens"] = recording_exchange

    def request(self, method: str, url: str) -> Any:
        response = self.client.open(url, method=method)
        self.set_cookies.extend(response.headers.getlist("Set-Cookie"))
        return response

    def sign_in(self) -> None:
        start = self.request("GET", "/login")
        assert start.status_code == 302
        callback = sign_in(self.lc, start.headers["Location"]).redirect
        landed = self.request("GET", callback)
        assert (landed.status_code, landed.headers["Location"]) == (302, "/")
        assert len(self.secrets) == 4  # the verifier and the ID, access and refresh tokens

    def cookie_contents(self) -> List[str]:
        """Each cookie value as sent and, when it is Flask's signed session, as decoded."""
        serializer = self.app.session_interface.get_signing_serializer(self.app)
        contents = []
        for header in self.set_cookies:
            value = header.split(";", 1)[0].split("=", 1)[1]
            contents.append(value)
            if value and serializer is not None:
                contents.append(repr(serializer.loads(value)))
        return contents


@pytest.fixture
def snippet(make_lc: MakeLocalCognito, monkeypatch: pytest.MonkeyPatch) -> Snippet:
    # Flask's test client is http://localhost/: those are the URLs LocalCognito registers.
    lc = make_lc(redirect_uri="http://localhost/cognito_redirect", logout_uri="http://localhost/")
    return Snippet(lc, monkeypatch)


def test_readme_snippet_keeps_the_verifier_and_tokens_out_of_the_cookie(
    snippet: Snippet,
) -> None:
    snippet.sign_in()
    contents = snippet.cookie_contents()
    assert contents, "the snippet set no cookie: it cannot tell browsers apart"
    for secret in snippet.secrets:
        assert not any(secret in content for content in contents), "a secret is in the cookie"
    for header in snippet.set_cookies:
        assert "HttpOnly" in header and "SameSite=Lax" in header, header


def test_readme_snippet_signs_out_only_with_post(snippet: Snippet) -> None:
    snippet.sign_in()
    # A GET (a link or an image on another site) must not sign the user out.
    assert snippet.request("GET", "/logout").status_code == 405
    signed_out = snippet.request("POST", "/logout")
    assert signed_out.status_code == 302
    assert signed_out.headers["Location"] == snippet.lc.config.logout_url()


# -- examples/flask_app.py ----------------------------------------------------------------


def run_example_briefly(
    cwd: Path, port: int, env: Dict[str, str], visit: Optional[Any] = None
) -> Tuple[str, str]:
    """Start the example, wait until it answers on ``port``, call ``visit(base_url)``, stop it.

    Returns its stdout and stderr.
    """
    with running_example("flask_app", cwd, env, port) as run:
        if visit is not None:
            visit(f"http://localhost:{port}")
    return run.out, run.err


@pytest.mark.slow  # a subprocess per case
@pytest.mark.parametrize(
    ("variables", "config_py", "expected"),
    [
        ({"COGNITO_USER_POOL_ID": "not-a-pool", "COGNITO_CLIENT_ID": "c"}, None, "not-a-pool"),
        ({"PORT": "99999"}, None, "PORT"),
        ({}, "cognito_config = {\n", "SyntaxError"),
        ({}, "settings = {}\n", "cognito_config"),
        ({}, 'cognito_config = {"user_pool_id": "us-east-1_AbC123"}\n', "client_id"),
    ],
    ids=["bad-pool-id", "bad-port", "config-py-syntax", "config-py-no-settings", "no-client"],
)
def test_example_reports_a_bad_configuration_in_one_line_with_status_2(
    tmp_path: Path, variables: Dict[str, str], config_py: Optional[str], expected: str
) -> None:
    if config_py is not None:
        (tmp_path / "config.py").write_text(config_py, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        cwd=tmp_path,
        env=example_env(**variables),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert expected in lines[0]


def test_the_example_signs_in_shows_the_account_and_signs_out(make_lc: MakeLocalCognito) -> None:
    lc = make_lc(redirect_uri="http://localhost/cognito_redirect", logout_uri="http://localhost/")
    example = load_example("flask_app")
    client = example.create_app(local_cognito=lc).test_client()
    home = client.get("/").get_data(as_text=True)
    assert "You are signed out." in home and 'id="demo-username">demo<' in home
    to_sign_in = client.get("/me", headers={"Accept": "text/html"})
    assert to_sign_in.headers["Location"] == "/login?next=/me"
    started = client.get(to_sign_in.headers["Location"])
    got = sign_in(lc, started.headers["Location"], username="demo", password="Demo-Passw0rd!")
    landed = client.get(got.redirect)
    assert (landed.status_code, landed.headers["Location"]) == (302, "/me")
    me = client.get("/me").get_data(as_text=True)
    assert f'id="email">{example.DEMO_EMAIL}<' in me and 'id="access-exp"' in me
    assert "Sign out" in client.get("/").get_data(as_text=True)
    signed_out = client.post("/logout", headers={"Origin": "http://localhost"})
    assert signed_out.headers["Location"] == lc.config.logout_url()
    assert ("POST", "/oauth2/revoke") in lc.requests_seen
    assert "You are signed out." in client.get("/").get_data(as_text=True)


@pytest.mark.slow  # starts the example in a subprocess
def test_example_access_log_never_shows_the_code_or_state(tmp_path: Path) -> None:
    port = free_port()
    seen: Dict[str, str] = {}
    browser_stand_in = LocalCognito()  # never started: only its sign_in() is used

    def visit(base: str) -> None:
        with requests.Session() as browser:
            browser.trust_env = False
            start = browser.get(base + "/login?next=/me", allow_redirects=False, timeout=10)
            # The embedded LocalCognito is in the example's process; any one can drive its form.
            got = sign_in(
                browser_stand_in,
                start.headers["Location"],
                username="demo",
                password="Demo-Passw0rd!",
            )
            assert got.state is not None
            seen.update(code=got.code, state=got.state)
            landed = browser.get(got.redirect, allow_redirects=False, timeout=10)
            assert (landed.status_code, landed.headers["Location"]) == (302, "/me")
            assert browser.get(base + "/me", timeout=10).status_code == 200

    out, err = run_example_briefly(tmp_path, port, example_env(PORT=str(port)), visit)
    assert "GET /cognito_redirect?" in err  # the request is logged...
    for name, value in seen.items():  # ...without its query string
        assert value not in out + err, f"the {name} is in the example's output"


@pytest.mark.slow  # starts the example in a subprocess
def test_example_signs_in_to_the_pool_the_variables_name(
    tmp_path: Path, make_lc: MakeLocalCognito
) -> None:
    port = free_port()
    app_url = f"http://localhost:{port}"
    lc = make_lc(redirect_uri=f"{app_url}/cognito_redirect", logout_uri=f"{app_url}/")
    env = example_env(PORT=str(port), **cognito_env(lc.config))
    pages: List[str] = []

    def visit(base: str) -> None:
        with requests.Session() as browser:
            browser.trust_env = False
            start = browser.get(base + "/login?next=/me", allow_redirects=False, timeout=10)
            assert start.headers["Location"].startswith(lc.config.authorize_url)
            got = sign_in(lc, start.headers["Location"])  # the standard user of this pool
            pages.append(browser.get(got.redirect, timeout=10).text)

    run_example_briefly(tmp_path, port, env, visit)
    assert 'id="email">alice@example.com<' in pages[0]
    assert lc.token_requests("authorization_code") == 1
