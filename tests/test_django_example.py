"""examples/django_site/ as documented: ``manage.py migrate`` and ``manage.py runserver`` (a
real server, in a subprocess) against ``cognito-helper demo --serve``; then in a real headless
Chromium against an embedded LocalCognito with short token lifetimes (sign in, a page, a
refresh after expiry, sign out).

Slow (subprocesses, a browser). The browser test needs Debian's ``chromium`` and
``chromium-driver`` (``$CHROMIUM``, ``$CHROMEDRIVER`` override): skipped locally without them,
failed under ``CI=true``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Callable, Dict, Iterator, NoReturn, Tuple

import pytest
import requests

from cognito_helper.settings.env import ENV_NAMES
from cognito_helper.testing import LocalCognito
from cognito_helper.testing.browser import sign_in as hosted_ui_sign_in

from . import helpers
from .helpers import MakeLocalCognito

pytest.importorskip("django")
pytestmark = pytest.mark.slow  # subprocesses, a browser

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "examples" / "django_site"
INSTALL = "sudo apt-get install chromium chromium-driver && pip install -e '.[test]'"
STATUS = re.compile(r'id="status">([^<]*)<')


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_answer(url: str, process: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited:\n{log.read_text()}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"the server did not answer within 60 s:\n{log.read_text()}")


@contextmanager
def example_site(port: int, env: Dict[str, str], tmp: Path) -> Iterator[Path]:
    """``manage.py migrate``, then ``manage.py runserver --noreload PORT`` with ``env`` (the
    COGNITO_* variables); yields the server's log file, and stops the server."""
    env = dict(os.environ, **env, PYTHONPATH=str(ROOT), DJANGO_SITE_DATABASE=str(tmp / "db"))
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=SITE, env=env, check=True, timeout=120)
    log = tmp / "runserver.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [*manage, "runserver", "--noreload", str(port)],
            cwd=SITE,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_for_answer(f"http://localhost:{port}/", server, log)
            yield log
        finally:
            server.terminate()
            server.wait(30)


# -- against `cognito-helper demo --serve` ----------------------------------------------------


@contextmanager
def demo_serve(app_url: str) -> Iterator[Tuple[Dict[str, str], str]]:
    """``cognito-helper demo --serve --app-url APP_URL``: the variables of the app client it
    prints (the first ``export`` block) and the demo user's password."""
    command = [sys.executable, "-m", "cognito_helper", "demo", "--serve", "--app-url", app_url]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    demo = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert demo.stdout is not None
        printed = read_until(demo.stdout, "Press Ctrl+C")
        first_block = printed.split("\n\n")[2]
        variables = dict(re.findall(r"^export (COGNITO_\w+)=(\S+)$", first_block, re.M))
        password = re.search(r"demo user  demo / (\S+)", printed)
        assert variables and password, printed
        yield variables, password.group(1)
    finally:
        demo.terminate()
        demo.wait(30)


def read_until(stream: IO[str], marker: str) -> str:
    lines = []
    for line in stream:
        lines.append(line)
        if marker in line:
            return "".join(lines)
    raise AssertionError("".join(lines))


def test_the_example_runs_with_runserver_against_demo_serve(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://localhost:{port}"
    with demo_serve(url) as (variables, password), example_site(port, variables, tmp_path) as log:
        browser = requests.Session()
        assert STATUS.findall(browser.get(url + "/").text) == ["You are signed out."]
        login = browser.get(url + "/auth/login/?next=/", allow_redirects=False)
        back = hosted_ui_sign_in(login.headers["Location"], "demo", password)
        assert back.startswith(url + "/cognito_redirect?code=")
        page = browser.get(back)
        assert page.url == url + "/" and STATUS.findall(page.text) == ["You are signed in."]
        assert 'id="email">demo@example.com<' in page.text
        assert 'id="groups">demo-users<' in page.text  # COGNITO_LOGIN["groups"]
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert csrf is not None
        out = browser.post(
            url + "/auth/logout/",
            data={"csrfmiddlewaretoken": csrf.group(1)},
            headers={"Origin": url},
            allow_redirects=False,
        )
        assert out.status_code == 302
        assert out.headers["Location"].startswith(variables["COGNITO_DOMAIN"] + "/logout?")
        home = browser.get(out.headers["Location"])
        assert home.url == url + "/" and STATUS.findall(home.text) == ["You are signed out."]
    served = log.read_text()
    assert '"GET /cognito_redirect HTTP/1.1" 302' in served
    assert "code=" not in served and "state=" not in served  # the access log hides queries


# -- in Chromium ------------------------------------------------------------------------------


def unavailable(reason: str) -> NoReturn:
    helpers.unavailable("the Django browser test", reason, INSTALL)


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
    return found


@pytest.fixture
def chromium() -> Iterator[Any]:
    program = find("chromium", "/usr/bin/chromium")
    driver_program = find("chromedriver", "/usr/bin/chromedriver")
    if importlib.util.find_spec("selenium") is None:
        unavailable("selenium is not installed")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = program
    profile = tempfile.mkdtemp(prefix="cognito-helper-chromium-")
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=Service(driver_program))
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def by_id(browser: Any, element_id: str) -> Any:
    from selenium.webdriver.common.by import By

    return browser.find_element(By.ID, element_id)


def wait_for(browser: Any, what: str, condition: Callable[[Any], Any]) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 15).until(condition, message=f"waiting for {what}")


def variables_of(lc: LocalCognito) -> Dict[str, str]:
    """The COGNITO_* variables of ``lc``'s app client, as ``demo --serve`` prints them."""
    config = lc.config
    values = {
        "user_pool_id": lc.user_pool_id,
        "client_id": lc.client_id,
        "domain": lc.url,
        "redirect_uri": config.redirect_uri or "",
        "logout_uri": config.logout_uri or "",
        "issuer": lc.issuer,
        "jwks_url": lc.jwks_url,
    }
    return {ENV_NAMES[name]: value for name, value in values.items()}


def test_sign_in_a_page_a_refresh_after_expiry_and_sign_out_in_chromium(
    chromium: Any, make_lc: MakeLocalCognito, tmp_path: Path
) -> None:
    port = free_port()
    url = f"http://localhost:{port}"
    lc = make_lc(redirect_uri=url + "/cognito_redirect", logout_uri=url + "/", token_lifetime=6)
    lc.add_user("demo", "Demo-Passw0rd!", email="demo@example.com", groups=["demo-users"])
    with example_site(port, variables_of(lc), tmp_path):
        chromium.get(url + "/")
        assert by_id(chromium, "status").text == "You are signed out."
        by_id(chromium, "login").click()
        wait_for(chromium, "the hosted UI", lambda b: b.current_url.startswith(lc.url))
        by_id(chromium, "username").send_keys("demo")
        by_id(chromium, "password").send_keys("Demo-Passw0rd!")
        by_id(chromium, "signin").click()
        wait_for(chromium, "the signed-in page", lambda b: "signed in" in b.page_source)
        assert chromium.current_url == url + "/"  # no code left in the address bar
        assert by_id(chromium, "email").text == "demo@example.com"
        assert by_id(chromium, "groups").text == "demo-users"
        assert lc.token_requests() == 1  # the code exchange
        first_exp = int(by_id(chromium, "access-exp").get_attribute("data-exp"))

        # Django's session cookie (a random key: the tokens are on the server) and CSRF's.
        cookies = {c["name"]: c for c in chromium.get_cookies()}
        assert set(cookies) == {"sessionid", "csrftoken"}
        assert cookies["sessionid"]["httpOnly"] and cookies["sessionid"]["sameSite"] == "Lax"
        assert re.fullmatch(r"[a-z0-9]{32}", cookies["sessionid"]["value"])

        # After the access token expired, a reload is still signed in, by one refresh.
        lc.token_lifetime = 3600
        time.sleep(max(0.0, first_exp - time.time()) + 0.5)
        chromium.refresh()
        assert by_id(chromium, "email").text == "demo@example.com"
        assert lc.token_requests("refresh_token") == 1
        assert int(by_id(chromium, "access-exp").get_attribute("data-exp")) > first_exp

        by_id(chromium, "logout").click()
        wait_for(chromium, "the signed-out page", lambda b: "signed out" in b.page_source)
        assert chromium.current_url == url + "/"
        assert ("POST", "/oauth2/revoke") in lc.requests_seen
        assert ("GET", "/logout") in lc.requests_seen
        assert "sessionid" not in {c["name"] for c in chromium.get_cookies()}
