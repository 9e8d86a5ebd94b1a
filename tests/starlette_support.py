"""What the Starlette/FastAPI sign-in tests share: an app on :class:`CognitoLogin`, a browser
(the framework's test client, cookies kept) that signs in through LocalCognito's hosted UI,
and a reading of ``Set-Cookie`` headers.

The app runs at ``BASE``, the origin of LocalCognito's default ``redirect_uri``
(``http://localhost:8000/cognito_redirect``): plain http on a loopback host, so the cookies
are not ``Secure`` and the test client sends them back.
"""

from __future__ import annotations

import socket
import threading
import time
from http.cookies import SimpleCookie
from typing import Any, Dict, List, Optional
from urllib.parse import urlsplit

import httpx
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from cognito_helper.sessions import MemorySessionStore, SessionRecord, storage_key
from cognito_helper.starlette import CognitoLogin
from cognito_helper.testing import LocalCognito

from .helpers import PASSWORD, USER

BASE = "http://localhost:8000"
CALLBACK = "/cognito_redirect"
#: What a browser's page request accepts (Chromium's navigation header).
HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
#: What an API client that reads JSON only accepts.
JSON = {"Accept": "application/json"}
SESSION_COOKIE = "cognito_session"
PENDING_COOKIE = "cognito_session_signin"
Claims = Dict[str, Any]


def make_app(login: CognitoLogin) -> FastAPI:
    """A FastAPI app with ``login``'s routes and one route per dependency."""
    app = FastAPI()
    app.include_router(login.router)
    staff = login.login_required(groups=["staff"])
    admins = login.login_required(groups="admin ops")

    @app.get("/")
    async def home() -> Claims:
        return {"public": True}

    @app.get("/me")
    async def me(user: Claims = Depends(login.current_user)) -> Claims:
        return {"user": user}

    @app.get("/token")
    async def token(token: str = Depends(login.access_token)) -> Claims:
        return {"token": token}

    @app.get("/both")
    async def both(
        user: Claims = Depends(login.current_user), token: str = Depends(login.access_token)
    ) -> Claims:
        return {"sub": user["sub"], "token": token}

    @app.get("/staff")
    async def staff_page(user: Claims = Depends(staff)) -> Claims:
        return {"sub": user["sub"]}

    @app.get("/admin")
    async def admin_page(user: Claims = Depends(admins)) -> Claims:
        return {"sub": user["sub"]}

    return app


def browser(app: Any, base_url: str = BASE) -> TestClient:
    """The framework's test client as a browser: cookies kept, redirects not followed."""
    return TestClient(app, base_url=base_url, follow_redirects=False)


def start_sign_in(client: httpx.Client, next_path: Optional[str] = "/me") -> httpx.Response:
    """``GET /login?next=...``: the answer that sends the browser to the hosted UI."""
    params = {} if next_path is None else {"next": next_path}
    answer = client.get("/login", params=params)
    assert answer.status_code == 302, answer.text
    return answer


def callback_path(redirect: str) -> str:
    """The app-relative URL of LocalCognito's redirect back to the app (path and query)."""
    parts = urlsplit(redirect)
    return f"{parts.path}?{parts.query}"


def sign_in(
    client: httpx.Client,
    lc: LocalCognito,
    next_path: Optional[str] = "/me",
    *,
    username: str = USER,
    password: str = PASSWORD,
) -> httpx.Response:
    """The whole sign-in a browser makes: the app's /login, the hosted UI, the callback.
    Returns the callback's answer."""
    start = start_sign_in(client, next_path)
    redirect = lc.sign_in(start.headers["location"], username, password)
    return client.get(callback_path(redirect))


def expiring_sign_in(
    client: httpx.Client, lc: LocalCognito, seconds_left: float, next_path: str = "/me"
) -> httpx.Response:
    """A sign-in whose tokens have ``seconds_left`` of their lifetime left: a refresh is due
    (LocalCognito's clock is moved back while it issues them, then restored)."""
    lc.advance_clock(seconds_left - lc.token_lifetime)
    try:
        return sign_in(client, lc, next_path)
    finally:
        lc.clock = time.time


def set_cookies(answer: httpx.Response) -> Dict[str, Any]:
    """The cookies an answer sets, by name (``http.cookies.Morsel``: value and attributes)."""
    found: Dict[str, Any] = {}
    for header in answer.headers.get_list("set-cookie"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        found.update(jar)
    return found


def cleared(answer: httpx.Response, name: str) -> bool:
    """Whether ``answer`` deletes the cookie ``name`` (empty, expired)."""
    morsel = set_cookies(answer).get(name)
    return morsel is not None and morsel.value == "" and morsel["max-age"] == "0"


def record_of(store: MemorySessionStore, session_id: Optional[str]) -> Optional[SessionRecord]:
    """The stored session of a browser's cookie value."""
    assert session_id is not None
    return store.load(storage_key(session_id))


def every_header_and_cookie(answers: List[httpx.Response]) -> str:
    """Everything the app told the browser outside the bodies: what a token must never be in."""
    return "\n".join(f"{k}: {v}" for answer in answers for k, v in answer.headers.multi_items())


class Served:
    """An ASGI app under uvicorn, in a thread, on a loopback port bound before the app exists
    (its URL goes into the LocalCognito config the app is made with)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server: Optional[Any] = None
        self.thread: Optional[threading.Thread] = None

    def serve(self, app: Any) -> None:
        """Start serving ``app``; returns once uvicorn accepts connections."""
        import uvicorn

        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self.server = server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=server.run, kwargs={"sockets": [self.sock]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 20
        while not server.started:
            assert self.thread.is_alive(), "uvicorn stopped before it started"
            assert time.monotonic() < deadline, "uvicorn did not start"
            time.sleep(0.01)

    def close(self) -> None:
        if self.server is not None and self.thread is not None:
            self.server.should_exit = True
            self.thread.join(20)
        self.sock.close()
