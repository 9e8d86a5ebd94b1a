"""Issue 22, Starlette and FastAPI: no blocking work on the event loop, and a session store in
Redis (a real ``redis-server``, up and down).

A refresh (and a code exchange) held at LocalCognito's token endpoint does not stop an app
under uvicorn from serving other requests, the held session's included; a store that may do
I/O is only ever called from a worker thread; Redis down is a 503 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import socket
import time
from typing import Any, Callable, Iterator, List, Tuple

import httpx
import pytest

from cognito_helper.sessions import MemorySessionStore, RedisSessionStore
from cognito_helper.starlette import CognitoLogin
from cognito_helper.testing import LocalCognito

from .helpers import PASSWORD, USER, MakeLocalCognito
from .redis_server import RedisServer, redis_server_path
from .starlette_support import (
    BASE,
    HTML,
    JSON,
    SESSION_COOKIE,
    Served,
    browser,
    callback_path,
    cleared,
    expiring_sign_in,
    make_app,
    set_cookies,
    sign_in,
    start_sign_in,
)

pytest.importorskip("uvicorn")

SECRET = "a session secret of the tests, long enough to be one"


async def until(condition: Callable[[], bool], what: str) -> None:
    """Wait (without blocking the test's loop) until ``condition()`` holds; fail after 20 s."""
    deadline = time.monotonic() + 20
    while not condition():
        assert time.monotonic() < deadline, f"waited too long for {what}"
        await asyncio.sleep(0.01)


@pytest.fixture
def served() -> Iterator[Served]:
    running = Served()
    try:
        yield running
    finally:
        running.close()


def test_a_refresh_or_code_exchange_in_progress_does_not_stop_other_requests(
    make_lc: MakeLocalCognito, served: Served
) -> None:
    lc = make_lc(redirect_uri=f"{served.url}/cognito_redirect", logout_uri=f"{served.url}/")
    served.serve(make_app(CognitoLogin(lc.config)))
    with httpx.Client(base_url=served.url) as due, httpx.Client(base_url=served.url) as other:
        expiring_sign_in(due, lc, seconds_left=30)  # due for a refresh, still valid 30 s
        sign_in(other, lc)
        held_token = due.get("/me", headers=JSON)  # loads, refreshes nothing
        assert held_token.status_code == 200 and lc.token_requests("refresh_token") == 0
        with httpx.Client(base_url=served.url) as newcomer:
            start = start_sign_in(newcomer)
            back = callback_path(lc.sign_in(start.headers["location"], USER, PASSWORD))
            pending = dict(newcomer.cookies)

        async def scenario() -> Tuple[List[httpx.Response], httpx.Response, httpx.Response]:
            async with (
                httpx.AsyncClient(base_url=served.url, cookies=due.cookies) as a,
                httpx.AsyncClient(base_url=served.url, cookies=other.cookies) as b,
                httpx.AsyncClient(base_url=served.url, cookies=pending) as c,
                httpx.AsyncClient(base_url=served.url) as anonymous,
            ):
                with lc.hold_token_endpoint() as hold:
                    refreshing = asyncio.create_task(a.get("/token", headers=JSON))
                    exchanging = asyncio.create_task(c.get(back))
                    await until(lambda: hold.waiting == 2, "the two token requests")
                    meanwhile = await asyncio.gather(
                        anonymous.get("/"),
                        anonymous.get("/me", headers=HTML),
                        anonymous.get("/login"),
                        b.get("/me", headers=JSON),
                        b.get("/token", headers=JSON),
                        a.get("/me", headers=JSON),
                        a.get("/token", headers=JSON),  # due, valid: the held token, no wait
                    )
                    assert not refreshing.done() and not exchanging.done()
                    assert hold.waiting == 2
                    hold.release()
                    return meanwhile, await refreshing, await exchanging

        meanwhile, refreshed, signed_in = asyncio.run(scenario())
    assert [a.status_code for a in meanwhile] == [200, 302, 302, 200, 200, 200, 200]
    old_token = meanwhile[-1].json()["token"]
    assert refreshed.status_code == 200 and refreshed.json()["token"] != old_token
    assert signed_in.status_code == 302 and SESSION_COOKIE in set_cookies(signed_in)
    assert lc.token_requests("refresh_token") == 1


class LoopWatchingStore:
    """A session store that forwards to ``inner`` and notes, per call, whether it was made on
    an event loop's thread."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: List[Tuple[str, bool]] = []

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                asyncio.get_running_loop()
                on_loop = True
            except RuntimeError:
                on_loop = False
            self.calls.append((name, on_loop))
            return method(*args, **kwargs)

        return call


def test_a_store_that_may_do_io_is_only_called_from_worker_threads(lc: LocalCognito) -> None:
    store = LoopWatchingStore(MemorySessionStore())
    client = browser(make_app(CognitoLogin(lc.config, store=store)))
    expiring_sign_in(client, lc, seconds_left=30)
    assert client.get("/me", headers=JSON).status_code == 200
    assert client.get("/token", headers=JSON).status_code == 200
    assert client.post("/logout", headers={"Origin": BASE}).status_code == 303
    names = {name for name, _ in store.calls}
    assert {"put_pending", "take_pending", "create", "load", "lock", "update", "delete"} <= names
    assert [call for call in store.calls if call[1]] == []
    assert lc.token_requests("refresh_token") == 1


# -- Redis ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    with RedisServer(redis_server_path()) as running:
        yield running


def test_sessions_in_redis_sign_in_refresh_and_sign_out(
    lc: LocalCognito, redis_server: RedisServer
) -> None:
    redis = redis_server.client()
    redis.flushall()
    try:
        login = CognitoLogin(lc.config, store=RedisSessionStore(redis, secret=SECRET))
        client = browser(make_app(login))
        expiring_sign_in(client, lc, seconds_left=30)
        assert client.get("/me", headers=JSON).json()["user"]["cognito:username"] == USER
        token = client.get("/token", headers=JSON).json()["token"]
        assert lc.token_requests("refresh_token") == 1
        assert client.get("/both", headers=JSON).json()["token"] == token
        assert client.post("/logout", headers={"Origin": BASE}).status_code == 303
        assert list(redis.scan_iter(match="*:session")) == []
        assert client.get("/me", headers=JSON).status_code == 401
    finally:
        redis.close()


@pytest.fixture
def redis_down() -> Iterator[Any]:
    """A Redis client of a loopback port nothing listens on: every command fails at once."""
    pytest.importorskip("redis")
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        client = redis.Redis(
            port=s.getsockname()[1], socket_connect_timeout=2, retry=Retry(NoBackoff(), 0)
        )
        yield client
        client.close()


def test_redis_down_is_a_503_with_retry_after_never_a_sign_in_loop(
    lc: LocalCognito, redis_down: Any
) -> None:
    login = CognitoLogin(lc.config, store=RedisSessionStore(redis_down, secret=SECRET))
    client = browser(make_app(login))
    client.cookies.set(SESSION_COOKIE, "S" * 43)
    client.cookies.set("cognito_session_signin", "P" * 43)
    answers = [
        client.get("/me", headers=HTML),
        client.get("/me", headers=JSON),
        client.get("/token", headers=HTML),
        client.get("/login?next=/me"),
        client.get("/cognito_redirect?code=c&state=s"),
        client.post("/logout", headers={"Origin": BASE}),
    ]
    for answer in answers:
        assert answer.status_code == 503, answer.request.url
        assert answer.headers["retry-after"] == "5"
        assert "location" not in answer.headers
        assert not cleared(answer, SESSION_COOKIE)
        assert "ConnectionError" not in answer.text and SECRET not in answer.text
    assert lc.token_requests() == 0
