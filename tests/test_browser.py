"""examples/flask_app.py in a real headless Chromium, against an embedded LocalCognito: sign
in, a page, a refresh after the access token expired (LocalCognito's short lifetimes), sign out.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them). Without them
the tests are skipped locally, and fail under ``CI=true``: CI must run them. Selenium is
given the driver and the browser explicitly (Debian's paths, or $CHROMIUM and $CHROMEDRIVER),
so Selenium Manager (which downloads) is never used. docs/flask-signed-in.png is written
when missing; UPDATE_SCREENSHOTS=1 rewrites it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import tempfile
import threading
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Iterator, List, NoReturn, Tuple

import pytest

from . import helpers
from .helpers import MakeLocalCognito

pytestmark = pytest.mark.slow  # a real Chromium

ROOT = Path(__file__).parents[1]
SCREENSHOT = ROOT / "docs" / "flask-signed-in.png"
TOKEN_LIFETIME = 6  # seconds: the page is reloaded after the access token expired
INSTALL = "sudo apt-get install chromium chromium-driver && pip install -e '.[test]'"


def unavailable(reason: str) -> NoReturn:
    """Skip locally; under CI=true a browser test that cannot run is a failure."""
    helpers.unavailable("the browser test", reason, INSTALL)


def find(name: str, debian_path: str) -> str:
    """$CHROMIUM / $CHROMEDRIVER when set, else Debian's path, else the PATH."""
    override = os.environ.get(name.upper())
    if override:
        if not Path(override).is_file():
            unavailable(f"${name.upper()}={override} does not exist")
        return override
    if Path(debian_path).is_file():
        return debian_path
    found = shutil.which(name)
    if found is None:
        unavailable(f"{name} not found (looked for {debian_path} and on PATH)")
    return str(found)


def load_example() -> ModuleType:
    if importlib.util.find_spec("flask") is None:
        unavailable("flask is not installed")
    return helpers.load_example("flask_app")


class Site:
    """The example app on a free loopback port, with the LocalCognito it signs in at."""

    def __init__(self, example: ModuleType, make_lc: MakeLocalCognito) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server

        class QuietHandler(WSGIRequestHandler):
            def log_request(self, *args: Any, **kwargs: Any) -> None:
                pass  # the callback URL carries the code

        app_holder: List[Callable[..., Any]] = []
        # The server comes first: its port is in the URLs LocalCognito must register.
        self.server = make_server(
            "127.0.0.1",
            0,
            lambda environ, start: app_holder[0](environ, start),
            threaded=True,
            request_handler=QuietHandler,
        )
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.lc = make_lc(redirect_uri=f"{self.url}/cognito_redirect", logout_uri=f"{self.url}/")
        app_holder.append(example.create_app(local_cognito=self.lc))
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def token_requests(self) -> int:
        return self.lc.requests_seen.count(("POST", "/oauth2/token"))

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()  # make_lc stops the LocalCognito


@pytest.fixture(scope="module")
def example() -> ModuleType:
    return load_example()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    chromium = find("chromium", "/usr/bin/chromium")
    chromedriver = find("chromedriver", "/usr/bin/chromedriver")
    if importlib.util.find_spec("selenium") is None:
        unavailable("selenium is not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = chromium
    profile = tempfile.mkdtemp(prefix="cognito-helper-chromium-")
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1000,760",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(chromedriver))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def site(example: ModuleType, browser: Any, make_lc: MakeLocalCognito) -> Iterator[Site]:
    running = Site(example, make_lc)
    try:
        yield running
    finally:
        browser.delete_all_cookies()
        running.close()


def by_id(browser: Any, element_id: str) -> Any:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.ID, element_id)


def wait_for(browser: Any, what: str, condition: Callable[[Any], Any]) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 15).until(condition, message=f"waiting for {what}")


def sign_in_with_the_demo_user(browser: Any, site: Site) -> Tuple[str, str]:
    """Open /, read the demo credentials the page shows, sign in on the hosted UI."""
    browser.get(site.url + "/")
    assert by_id(browser, "status").text == "You are signed out."
    username = by_id(browser, "demo-username").text
    password = by_id(browser, "demo-password").text
    by_id(browser, "login").click()
    wait_for(browser, "the hosted-UI sign-in form", lambda b: b.current_url.startswith(site.lc.url))
    by_id(browser, "username").send_keys(username)
    by_id(browser, "password").send_keys(password)
    by_id(browser, "signin").click()
    wait_for(browser, "the app's /me page", lambda b: b.current_url == site.url + "/me")
    return username, password


def test_sign_in_refresh_after_expiry_and_sign_out_in_a_real_browser(
    browser: Any, site: Site, example: ModuleType
) -> None:
    site.lc.token_lifetime = TOKEN_LIFETIME
    sign_in_with_the_demo_user(browser, site)

    # Landed on the page it asked for (no code in the address bar), signed in, one token
    # request: the code exchange.
    assert browser.current_url == site.url + "/me"
    assert by_id(browser, "email").text == example.DEMO_EMAIL
    assert site.token_requests() == 1
    first_exp = int(by_id(browser, "access-exp").get_attribute("data-exp"))

    # The browser holds one cookie: a random session id; no token, code or verifier. The
    # pending sign-in's cookie was cleared by the callback.
    cookies = browser.get_cookies()
    assert [c["name"] for c in cookies] == ["cognito_session"]
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", cookies[0]["value"])
    assert cookies[0]["httpOnly"] is True and cookies[0]["sameSite"] == "Lax"

    # A page of the app: the home page knows who is signed in.
    browser.get(site.url + "/")
    assert by_id(browser, "email").text == example.DEMO_EMAIL
    by_id(browser, "me").click()
    wait_for(browser, "the account page", lambda b: b.current_url == site.url + "/me")
    assert site.token_requests() == 1

    # Wait until the access token has expired, then reload: still signed in, by a refresh.
    site.lc.token_lifetime = 3600  # the refreshed tokens are long-lived
    time.sleep(max(0.0, first_exp - time.time()) + 0.5)
    browser.refresh()
    assert browser.current_url == site.url + "/me"
    assert by_id(browser, "email").text == example.DEMO_EMAIL
    assert site.lc.token_requests("refresh_token") == 1
    assert int(by_id(browser, "access-exp").get_attribute("data-exp")) > first_exp
    assert [c["value"] for c in browser.get_cookies()] == [cookies[0]["value"]]  # same session

    if not SCREENSHOT.exists() or os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOT.parent.mkdir(exist_ok=True)
        assert browser.save_screenshot(str(SCREENSHOT))

    # Sign out (a same-origin POST): the refresh token is revoked, Cognito's /logout sends
    # the browser home.
    by_id(browser, "logout").click()
    wait_for(browser, "the signed-out home page", lambda b: b.current_url == site.url + "/")
    assert by_id(browser, "status").text == "You are signed out."
    assert ("POST", "/oauth2/revoke") in site.lc.requests_seen
    assert ("GET", "/logout") in site.lc.requests_seen
    assert browser.get_cookies() == []

    # The account page now needs a new sign-in.
    browser.get(site.url + "/me")
    wait_for(browser, "the hosted-UI sign-in form", lambda b: b.current_url.startswith(site.lc.url))


def test_a_callback_this_browser_did_not_start_is_refused(browser: Any, site: Site) -> None:
    browser.get(site.url + "/cognito_redirect?code=stolen-code&state=forged-state")
    assert "This sign-in was not started here" in browser.find_element("tag name", "body").text
    assert site.token_requests() == 0
    assert browser.get_cookies() == []


def test_the_account_page_sends_a_signed_out_browser_to_the_hosted_ui(
    browser: Any, site: Site
) -> None:
    browser.get(site.url + "/me")
    wait_for(browser, "the hosted-UI sign-in form", lambda b: b.current_url.startswith(site.lc.url))
    assert by_id(browser, "signin").text == "Sign in"
