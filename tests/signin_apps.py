"""One driver per sign-in integration (Flask, Django, Starlette/FastAPI), for the shared table of
behaviours in ``test_signin_behaviours.py``.

Each driver builds its framework's app on the session core against a LocalCognito (a memory
store, a ``RevocationList``) and drives it with the framework's own test client as a browser
(cookies kept, redirects not followed): start a sign-in, sign in on LocalCognito's hosted UI,
call the callback, GET a protected page with or without the session, POST sign-out. Every
answer is an :class:`Answer` (status and headers: the frameworks' bodies differ).
"""

from __future__ import annotations

import asyncio
import sys
import types
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any, Dict, Iterator, List, Optional
from urllib.parse import urlencode, urlsplit

from cognito_helper.sessions import MemorySessionStore, RevocationList, SessionRecord, storage_key
from cognito_helper.testing import LocalCognito

from .helpers import PASSWORD, USER, MakeLocalCognito
from .sessions_support import run_together

FRAMEWORKS = ["flask", "django", "starlette"]
#: What a browser's page navigation accepts (Chromium's header).
HTML = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
JSON = "application/json"


@dataclass
class Answer:
    """What a framework answered, outside the body: status, headers, the cookies it set."""

    status: int
    headers: Dict[str, str]  # lower-case names
    cookies: Dict[str, str]  # cookie name: its whole Set-Cookie header
    body: bytes = field(repr=False)

    @property
    def location(self) -> Optional[str]:
        return self.headers.get("location")


def _cookies(headers: List[str]) -> Dict[str, str]:
    return {header.split("=", 1)[0].strip(): header for header in headers}


class Driver:
    """A framework's sign-in app and a browser on it; the same interface for each."""

    name = ""
    session_cookie = ""  # the cookie that names the browser's session
    login_path = "/login"
    logout_path = "/logout"
    page = "/page"  # needs a session
    token_path = "/token"  # needs a session; its body is the fresh access token
    sign_out_status = 303  # a sign-out's redirect to Cognito's /logout

    def __init__(self, lc: LocalCognito, origin: str) -> None:
        self.lc = lc
        self.origin = origin
        self.store = MemorySessionStore()
        self.revocations = RevocationList()

    # -- what each framework provides ----------------------------------------------------

    def get(self, path: str, accept: Optional[str] = HTML, session: bool = True) -> Answer:
        """GET ``path`` with ``accept`` (no header for ``None``), as the browser, or, with
        ``session=False``, as a client that holds no cookie."""
        raise NotImplementedError

    def with_cookie(self, path: str, value: str) -> Answer:
        """GET ``path`` from a new client that sends only the session cookie ``value``."""
        raise NotImplementedError

    def request(self, method: str, path: str, headers: Dict[str, str]) -> Answer:
        """Another method, as the browser, with extra request headers."""
        raise NotImplementedError

    def session_id(self) -> Optional[str]:
        """The browser's session cookie's value."""
        raise NotImplementedError

    def record(self) -> Optional[SessionRecord]:
        """The session core's record of the browser's session (its cookie names it)."""
        sid = self.session_id()
        return None if sid is None else self.store.load(storage_key(sid))

    def token_of(self, answer: Answer) -> str:
        return answer.body.decode()

    def together(self, count: int, path: str) -> List[Answer]:
        """``count`` requests of the browser's session at once (threads by default)."""
        value = self.session_id()
        assert value is not None
        results, errors = run_together(count, lambda: self.with_cookie(path, value))
        assert errors == [], errors
        return results

    # -- the same for each ---------------------------------------------------------------

    def start(self, next_path: Optional[str] = None) -> Answer:
        query = "" if next_path is None else "?" + _query(next=next_path)
        return self.get(self.login_path + query)

    def hosted_ui(self, started: Answer) -> str:
        """Sign in on the hosted UI the sign-in sent the browser to: the callback's path."""
        assert started.status == 302 and started.location, started
        redirect = urlsplit(self.lc.sign_in(started.location, USER, PASSWORD))
        assert f"{redirect.scheme}://{redirect.netloc}" == self.origin, redirect
        return f"{redirect.path}?{redirect.query}"

    def sign_in(self, next_path: Optional[str] = None) -> Answer:
        """The whole sign-in: the callback's answer."""
        return self.get(self.hosted_ui(self.start(next_path)))

    def token(self) -> str:
        answer = self.get(self.token_path, accept=JSON)
        assert answer.status == 200, answer
        return self.token_of(answer)

    def sign_out(self, method: str = "POST", origin: Optional[str] = None) -> Answer:
        return self.request(method, self.logout_path, {"Origin": origin or self.origin})


def _query(**params: str) -> str:
    return urlencode(params)


# -- Flask ------------------------------------------------------------------------------------


class FlaskDriver(Driver):
    name = "flask"
    session_cookie = "cognito_session"

    def __init__(self, lc: LocalCognito, origin: str) -> None:
        from flask import Flask

        from cognito_helper.flask import CognitoLogin, login_required

        super().__init__(lc, origin)
        self.app = app = Flask(__name__)
        login = CognitoLogin(app, config=lc.config, store=self.store, revocations=self.revocations)

        @app.get("/page")
        @login_required
        def page() -> Any:
            return "page"

        @app.get("/token")
        @login_required
        def token() -> Any:
            return login.access_token()

        self.client = app.test_client()

    @staticmethod
    def _answer(response: Any) -> Answer:
        headers = {k.lower(): v for k, v in response.headers.items()}
        return Answer(
            response.status_code,
            headers,
            _cookies(response.headers.getlist("Set-Cookie")),
            response.data,
        )

    def get(self, path: str, accept: Optional[str] = HTML, session: bool = True) -> Answer:
        client = self.client if session else self.app.test_client()
        return self._answer(client.get(path, headers={} if accept is None else {"Accept": accept}))

    def with_cookie(self, path: str, value: str) -> Answer:
        client = self.app.test_client()
        client.set_cookie(self.session_cookie, value)
        return self._answer(client.get(path, headers={"Accept": JSON}))

    def request(self, method: str, path: str, headers: Dict[str, str]) -> Answer:
        return self._answer(self.client.open(path, method=method, headers=headers))

    def session_id(self) -> Optional[str]:
        cookie = self.client.get_cookie(self.session_cookie)
        return None if cookie is None else cookie.value


# -- Starlette / FastAPI ----------------------------------------------------------------------


class StarletteDriver(Driver):
    name = "starlette"
    session_cookie = "cognito_session"
    page = "/me"

    def __init__(self, lc: LocalCognito, origin: str) -> None:
        import httpx

        from cognito_helper.starlette import CognitoLogin

        from .starlette_support import browser, make_app

        super().__init__(lc, origin)
        login = CognitoLogin(lc.config, store=self.store, revocations=self.revocations)
        self.app = make_app(login)
        self.client = browser(self.app, origin)
        self.httpx = httpx

    @staticmethod
    def _answer(response: Any) -> Answer:
        headers = {k.lower(): v for k, v in response.headers.items()}
        cookies = _cookies(response.headers.get_list("set-cookie"))
        return Answer(response.status_code, headers, cookies, response.content)

    def get(self, path: str, accept: Optional[str] = HTML, session: bool = True) -> Answer:
        from .starlette_support import browser

        client = self.client if session else browser(self.app, self.origin)
        client.headers.pop("accept", None)  # the test client's default is */*
        return self._answer(client.get(path, headers={} if accept is None else {"Accept": accept}))

    def together(self, count: int, path: str) -> List[Answer]:
        """``count`` requests at once on the app's event loop (the ASGI app, in one loop)."""
        httpx = self.httpx
        cookie = {self.session_cookie: self.session_id() or ""}

        async def run() -> List[Any]:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(
                transport=transport, base_url=self.origin, cookies=cookie
            ) as client:
                asks = (client.get(path, headers={"Accept": JSON}) for _ in range(count))
                return list(await asyncio.gather(*asks))

        return [self._answer(answer) for answer in asyncio.run(run())]

    def request(self, method: str, path: str, headers: Dict[str, str]) -> Answer:
        return self._answer(self.client.request(method, path, headers=headers))

    def session_id(self) -> Optional[str]:
        value = self.client.cookies.get(self.session_cookie)
        return None if value is None else str(value)

    def token_of(self, answer: Answer) -> str:
        import json

        return str(json.loads(answer.body)["token"])


# -- Django -----------------------------------------------------------------------------------


class DjangoDriver(Driver):
    name = "django"
    session_cookie = "sessionid"  # Django's session: the core's id is kept inside it
    login_path = "/auth/login/"
    logout_path = "/auth/logout/"
    page = "/account"
    token_path = "/token"
    sign_out_status = 302  # Django's redirect

    def __init__(self, lc: LocalCognito, origin: str, site: Any) -> None:
        super().__init__(lc, origin)
        self.store = site.store
        self.site = site
        self.client = site.client

    @staticmethod
    def _answer(response: Any) -> Answer:
        headers = {k.lower(): v for k, v in response.items()}
        cookies = [morsel.OutputString() for morsel in response.cookies.values()]
        return Answer(response.status_code, headers, _cookies(cookies), response.content)

    def get(self, path: str, accept: Optional[str] = HTML, session: bool = True) -> Answer:
        client = self.client if session else self.site.new_client()
        extra = {} if accept is None else {"HTTP_ACCEPT": accept}
        path, _, query = path.partition("?")
        return self._answer(client.get(path, QUERY_STRING=query, **extra))

    def with_cookie(self, path: str, value: str) -> Answer:
        client = self.site.new_client()
        client.cookies = SimpleCookie({self.session_cookie: value})
        return self._answer(client.get(path, HTTP_ACCEPT=JSON))

    def request(self, method: str, path: str, headers: Dict[str, str]) -> Answer:
        extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
        return self._answer(self.client.generic(method, path, **extra))

    def session_id(self) -> Optional[str]:
        morsel = self.client.cookies.get(self.session_cookie)
        return None if morsel is None or not morsel.value else str(morsel.value)

    def record(self) -> Optional[SessionRecord]:
        from cognito_helper.integrations.django_settings import SESSION_ID_KEY

        sid = self.client.session.get(SESSION_ID_KEY)
        return None if sid is None else self.store.load(storage_key(sid))


def _django_token_route() -> None:
    """The Django site's URL module with ``/token`` (LoginRequiredMixin, the access token)."""
    from django.urls import path

    from .django_support import Orders, make_urls

    if "tests_signin_behaviours_urls" not in sys.modules:
        make_urls("tests_signin_behaviours_urls", extra=[path("token", Orders.as_view())])
    assert isinstance(sys.modules["tests_signin_behaviours_urls"], types.ModuleType)


# -- building one ---------------------------------------------------------------------------


@contextmanager
def running(framework: str, make_lc: MakeLocalCognito, **lc_options: Any) -> Iterator[Driver]:
    """The ``framework``'s app against a new LocalCognito (``lc_options``), and its driver."""
    if framework == "flask":
        origin = "http://localhost"  # Flask's test client
        lc = make_lc(
            redirect_uri=origin + "/cognito_redirect", logout_uri=origin + "/", **lc_options
        )
        yield FlaskDriver(lc, origin)
    elif framework == "starlette":
        from .starlette_support import BASE

        lc = make_lc(redirect_uri=BASE + "/cognito_redirect", logout_uri=BASE + "/", **lc_options)
        yield StarletteDriver(lc, BASE)
    else:
        yield from _django(make_lc, **lc_options)


def _django(make_lc: MakeLocalCognito, **lc_options: Any) -> Iterator[Driver]:
    from .django_setup import configure_django

    configure_django()
    from django.test import override_settings

    from .django_support import ORIGIN, local_cognito, migrate, running_site

    migrate()
    _django_token_route()
    lc = local_cognito(make_lc, **lc_options)
    revocations = RevocationList()
    with running_site(lc, revocations=revocations) as site:
        with override_settings(ROOT_URLCONF="tests_signin_behaviours_urls"):
            driver = DjangoDriver(lc, ORIGIN, site)
            driver.revocations = revocations
            yield driver
