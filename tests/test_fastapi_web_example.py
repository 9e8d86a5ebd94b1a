"""Issue 22: examples/fastapi_web.py, signed-in pages (CognitoLogin) and a bearer-token API
(CognitoBearer) in one FastAPI app.

With FastAPI's test client against LocalCognito; as documented, ``python
examples/fastapi_web.py`` against ``cognito-helper demo --serve`` (two processes); and in a
real headless Chromium under uvicorn (sign in, a page, a refresh after expiry, sign out).
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Dict, Iterator, List

import pytest
import requests

from cognito_helper.testing import LocalCognito
from cognito_helper.testing.browser import sign_in as hosted_ui_sign_in

from . import test_browser
from .helpers import EMAIL, PASSWORD, USER, MakeLocalCognito
from .starlette_support import (
    BASE,
    HTML,
    JSON,
    SESSION_COOKIE,
    Served,
    callback_path,
    expiring_sign_in,
    sign_in,
)
from .starlette_support import browser as client_of
from .test_browser import by_id, wait_for

pytest.importorskip("uvicorn")

#: tests/test_browser.py's fixture: a headless Chromium (skipped locally without one, failed
#: under CI=true), shared by the module's tests.
browser = test_browser.browser

ROOT = Path(__file__).parents[1]
EXAMPLE = ROOT / "examples" / "fastapi_web.py"


@pytest.fixture(scope="module")
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fastapi_web_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def text_of(html: str, element_id: str) -> str:
    found = re.search(rf'id="{element_id}"[^>]*>([^<]*)<', html)
    assert found, f"no #{element_id} in {html}"
    return found.group(1)


# -- with the test client ---------------------------------------------------------------------


def test_the_pages_sign_in_with_the_cookie_and_the_api_takes_bearer_tokens_only(
    example: ModuleType, lc: LocalCognito
) -> None:
    client = client_of(example.create_app(lc.config))
    home = client.get("/", headers=HTML)
    assert text_of(home.text, "status") == "You are signed out."
    assert 'href="/login?next=/account"' in home.text
    sent = client.get("/account", headers=HTML)
    assert (sent.status_code, sent.headers["location"]) == (302, "/login?next=%2Faccount")

    assert sign_in(client, lc, "/account").headers["location"] == "/account"
    account = client.get("/account", headers=HTML)
    assert account.status_code == 200
    assert text_of(account.text, "username") == USER
    assert text_of(account.text, "email") == EMAIL  # from userInfo, with the access token
    assert text_of(account.text, "groups") == "staff"
    assert text_of(client.get("/", headers=HTML).text, "status") == f"Signed in as {USER}."

    # The API: the session cookie is no credential there; an access token is.
    refused = client.get("/api/me", headers=JSON)
    assert refused.status_code == 401 and refused.json()["error"] == "unauthorized"
    token = lc.mint("access")
    me = client.get("/api/me", headers={"Authorization": f"Bearer {token}", **JSON})
    assert me.status_code == 200 and me.json()["username"]

    assert client.post("/logout", headers={"Origin": BASE}).status_code == 303
    assert text_of(client.get("/", headers=HTML).text, "status") == "You are signed out."


def test_the_account_page_refreshes_the_access_token_when_due(
    example: ModuleType, lc: LocalCognito
) -> None:
    client = client_of(example.create_app(lc.config))
    expiring_sign_in(client, lc, seconds_left=30, next_path="/account")
    first = client.get("/account", headers=HTML)
    assert first.status_code == 200 and lc.token_requests("refresh_token") == 1
    assert client.get("/account", headers=HTML).status_code == 200
    assert lc.token_requests("refresh_token") == 1


def test_without_the_variables_main_says_what_to_run(
    example: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(os.environ):
        if name.startswith("COGNITO_"):
            monkeypatch.delenv(name)
    assert example.main() == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "cognito-helper demo --serve" in err


# -- as documented: against `cognito-helper demo --serve` -------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def exports_of_the_app_client(demo: subprocess.Popen[str]) -> Dict[str, str]:
    """The first block of ``export`` lines ``demo --serve`` prints: the app client's."""
    assert demo.stdout is not None
    found: Dict[str, str] = {}
    while True:
        line = demo.stdout.readline()
        assert line, "demo --serve stopped before printing its variables"
        if line.startswith("export "):
            name, _, value = line[len("export ") :].strip().partition("=")
            found[name] = shlex.split(value)[0]
        elif found:
            return found


def wait_until_serving(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert process.poll() is None, "the example exited"
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            assert time.monotonic() < deadline, f"nothing answered at {url}"
            time.sleep(0.1)


@pytest.fixture
def processes() -> Iterator[List[subprocess.Popen[str]]]:
    started: List[subprocess.Popen[str]] = []
    yield started
    for process in started:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.mark.slow  # two subprocesses
def test_the_example_runs_against_cognito_helper_demo_serve(
    processes: List[subprocess.Popen[str]],
) -> None:
    app_url = f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
    env = {k: v for k, v in env.items() if not k.startswith("COGNITO_")}
    demo_command = ["demo", "--serve", "--port", str(free_port()), "--app-url", app_url]
    demo = subprocess.Popen(
        [sys.executable, "-m", "cognito_helper", *demo_command],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    processes.append(demo)
    variables = exports_of_the_app_client(demo)
    app = subprocess.Popen(
        [sys.executable, str(EXAMPLE)], text=True, env={**env, **variables}, cwd=ROOT
    )
    processes.append(app)
    wait_until_serving(app_url + "/", app)

    session = requests.Session()  # the browser: its cookies
    start = session.get(f"{app_url}/login?next=/account", allow_redirects=False, timeout=10)
    redirect = hosted_ui_sign_in(start.headers["Location"], "demo", "Demo-Passw0rd!")
    done = session.get(app_url + callback_path(redirect), allow_redirects=False, timeout=10)
    assert (done.status_code, done.headers["Location"]) == (302, "/account")
    account = session.get(f"{app_url}/account", headers=HTML, timeout=10)
    assert text_of(account.text, "email") == "demo@example.com"
    out = session.post(
        f"{app_url}/logout", headers={"Origin": app_url}, allow_redirects=False, timeout=10
    )
    assert out.status_code == 303
    assert out.headers["Location"].startswith(variables["COGNITO_DOMAIN"] + "/logout?")
    assert session.get(f"{app_url}/account", headers=JSON, timeout=10).status_code == 401


# -- in a real browser ------------------------------------------------------------------------


TOKEN_LIFETIME = 10  # seconds: the page is reloaded after the access token expired


@pytest.mark.slow  # a real Chromium
def test_sign_in_a_page_a_refresh_after_expiry_and_sign_out_in_chromium(
    example: ModuleType, browser: Any, make_lc: MakeLocalCognito
) -> None:
    served = Served()
    try:
        lc = make_lc(redirect_uri=f"{served.url}/cognito_redirect", logout_uri=f"{served.url}/")
        lc.token_lifetime = TOKEN_LIFETIME
        served.serve(example.create_app(lc.config))
        browse(browser, served, lc)
    finally:
        browser.delete_all_cookies()
        served.close()


def browse(browser: Any, served: Served, lc: LocalCognito) -> None:
    browser.get(served.url + "/")
    assert by_id(browser, "status").text == "You are signed out."
    by_id(browser, "login").click()
    wait_for(browser, "the hosted-UI sign-in form", lambda b: b.current_url.startswith(lc.url))
    by_id(browser, "username").send_keys(USER)
    by_id(browser, "password").send_keys(PASSWORD)
    by_id(browser, "signin").click()
    wait_for(browser, "the account page", lambda b: b.current_url == served.url + "/account")
    assert by_id(browser, "email").text == EMAIL

    # One cookie: the session's random id (the pending sign-in's is gone); HttpOnly.
    cookies = browser.get_cookies()
    assert [c["name"] for c in cookies] == [SESSION_COOKIE]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", cookies[0]["value"])
    assert cookies[0]["httpOnly"] is True and cookies[0]["sameSite"] == "Lax"

    # Reload after the access token expired: still signed in, through a refresh.
    first_exp = int(by_id(browser, "access-exp").get_attribute("data-exp"))
    refreshes = lc.token_requests("refresh_token")
    lc.token_lifetime = 3600
    time.sleep(max(0.0, first_exp - time.time()) + 0.5)
    browser.refresh()
    assert browser.current_url == served.url + "/account"
    assert lc.token_requests("refresh_token") == refreshes + 1
    assert int(by_id(browser, "access-exp").get_attribute("data-exp")) > first_exp

    # Sign out: revoked at Cognito, Cognito's /logout sends the browser home, no cookie left.
    by_id(browser, "logout").click()
    wait_for(browser, "the signed-out home page", lambda b: b.current_url == served.url + "/")
    assert by_id(browser, "status").text == "You are signed out."
    assert ("POST", "/oauth2/revoke") in lc.requests_seen
    assert browser.get_cookies() == []
    browser.get(served.url + "/account")
    wait_for(browser, "the hosted-UI sign-in form", lambda b: b.current_url.startswith(lc.url))
