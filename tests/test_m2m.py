"""ClientCredentials: the machine-to-machine token cache, against LocalCognito over loopback.

Token requests are counted by LocalCognito (``lc.token_requests("client_credentials")``); the
APIs the tokens are sent to are loopback servers (``tests/servers.py``). Time is a test clock
shared by LocalCognito and the cache, so no test waits for a token to age.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import hashlib
import json
import linecache
import logging
import sys
import threading
import time
import types
import uuid
from typing import Any, Callable, Dict, Iterator, List, Optional

import httpx
import pytest
import requests

from cognito_helper import (
    CognitoConfig,
    CognitoConnectionError,
    ConfigError,
    TokenExchangeError,
    decode_unverified,
    decode_verify_jwt,
)
from cognito_helper.oauth.m2m import ClientCredentials
from cognito_helper.oauth.m2m_slots import MAX_KEPT, holds, slot_of
from cognito_helper.oauth.token_store import HeldToken
from cognito_helper.testing import LocalCognito

from .helpers import MakeLocalCognito, imports
from .servers import Handler, ScriptedServer, config_for, dynamic, send
from .tokens import CLIENT, POOL

API_RESOURCE = "https://api.example.com"
OTHER_RESOURCE = "https://other.example.com"
READ, WRITE = "localapi/read", "localapi/write"
GRANT = "client_credentials"


class Clock:
    """Wall-clock time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def secret() -> str:
    # Unique per test: a LocalCognito of a later test may get the same port, and so the same
    # token URL; a token held for an earlier test must never be shared with it.
    return f"m2m-secret-{uuid.uuid4().hex}"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def m2m(make_lc: MakeLocalCognito, secret: str, clock: Clock) -> LocalCognito:
    """A LocalCognito whose main client is confidential and may bind tokens to API_RESOURCE."""
    lc = make_lc(client_secret=secret, resources=[API_RESOURCE, OTHER_RESOURCE])
    lc.clock = clock
    return lc


def credentials(lc: LocalCognito, clock: Clock, scopes: Any = READ, **options: Any) -> Any:
    return ClientCredentials(scopes, config=lc.config, clock=clock, **options)


def requested(lc: LocalCognito) -> int:
    return lc.token_requests(GRANT)


def run_threads(count: int, work: Callable[[int], None]) -> None:
    """Run ``work(i)`` in ``count`` threads released together; re-raise the first failure."""
    barrier = threading.Barrier(count)
    failures: List[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            work(i)
        except BaseException as exc:  # handed to the test thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread did not finish"
    if failures:
        raise failures[0]


def each_caller(count: int, call: Callable[[], Any]) -> List[Any]:
    """What ``call()`` returned or raised, in each of ``count`` threads calling at once."""
    outcomes: List[Any] = [None] * count

    def work(i: int) -> None:
        try:
            outcomes[i] = call()
        except Exception as exc:  # kept for the test to look at
            outcomes[i] = exc

    run_threads(count, work)
    return outcomes


# -- a loopback API that takes the tokens ---------------------------------------------------


class Api:
    """``/api`` on a loopback server: 200 for a bearer token, 401 for one ``refuse`` names."""

    def __init__(self, server: ScriptedServer) -> None:
        self.server = server
        self.refuse: Callable[[str], bool] = lambda token: False
        self.status_for_good = 200
        server.routes["/api"] = self._answer

    @property
    def url(self) -> str:
        return self.server.url + "/api"

    def _answer(self, h: Handler) -> None:
        scheme, _, token = (h.headers.get("Authorization") or "").partition(" ")
        if scheme != "Bearer" or not token or self.refuse(token):
            challenge = {"WWW-Authenticate": 'Bearer error="invalid_token"'}
            send(h, 401, b'{"message":"Unauthorized"}', headers=challenge)
        else:
            send(h, self.status_for_good, b'{"ok":true}')
        if h.headers.get("Transfer-Encoding"):  # a streamed body, not read: end the connection
            h.close_connection = True

    @property
    def tokens(self) -> List[Optional[str]]:
        """The bearer token of each request, oldest first."""
        with self.server.lock:
            seen = [headers.get("Authorization") for _, _, headers, _ in self.server.requests]
        return [value.partition(" ")[2] if value else None for value in seen]

    @property
    def bodies(self) -> List[bytes]:
        with self.server.lock:
            return [body for _, _, _, body in self.server.requests]


@pytest.fixture
def api() -> Iterator[Api]:
    with ScriptedServer() as server:
        yield Api(server)


def refuse_first_token(api: Api) -> None:
    """The API refuses the first token it sees (say, revoked), and takes any other."""
    first: List[str] = []

    def refuse(token: str) -> bool:
        if not first:
            first.append(token)
        return token == first[0]

    api.refuse = refuse


# -- caching ----------------------------------------------------------------------------------


@pytest.mark.slow  # 16 threads, 2,000 calls: a stress test
@pytest.mark.timeout(120)
def test_sixteen_threads_making_2000_authenticated_calls_cause_one_token_request(
    m2m: LocalCognito, clock: Clock, api: Api
) -> None:
    cc = credentials(m2m, clock)

    def work(i: int) -> None:
        with requests.Session() as session:
            for _ in range(125):
                assert session.get(api.url, auth=cc, timeout=10).status_code == 200

    run_threads(16, work)
    tokens = api.tokens
    assert len(tokens) == 2000
    assert requested(m2m) == 1
    assert len(set(tokens)) == 1
    claims = decode_verify_jwt(tokens[0], config=m2m.config, token_use="access", scopes=READ)
    assert claims["client_id"] == m2m.client_id


def test_the_token_is_reused_until_the_early_refresh_point(m2m: LocalCognito, clock: Clock) -> None:
    cc = credentials(m2m, clock)
    first = cc.access_token()
    clock.advance(3600 - 360 - 1)  # one hour: 10% (360 s) before the end is the refresh point
    assert cc.access_token() == first
    assert requested(m2m) == 1


@pytest.mark.timeout(60)
def test_past_the_early_refresh_point_one_more_request_is_made_for_all_threads(
    m2m: LocalCognito, clock: Clock
) -> None:
    cc = credentials(m2m, clock)
    first = cc.access_token()
    clock.advance(3600 - 360 + 1)
    outcomes = each_caller(16, lambda: [cc.access_token() for _ in range(50)])
    assert requested(m2m) == 2
    handed_out = {token for tokens in outcomes for token in tokens}
    # Threads that came while the refresh was in flight may get the first token, still valid.
    assert handed_out - {first}, "no thread got the new token"
    assert cc.access_token() != first
    assert requested(m2m) == 2


@pytest.mark.parametrize(
    ("lifetime", "kept_for"),
    [
        pytest.param(300, 239, id="the-margin-is-60-s-when-10-percent-is-less"),
        # the 60 s margin would be all of it
        pytest.param(60, 29, id="a-token-is-used-for-at-least-half-its-lifetime"),
    ],
)
def test_the_refresh_point_of_a_short_lived_token(
    make_lc: MakeLocalCognito, secret: str, lifetime: int, kept_for: int
) -> None:
    clock = Clock()
    lc = make_lc(client_secret=secret, token_lifetime=lifetime)
    lc.clock = clock
    cc = credentials(lc, clock)
    first = cc.access_token()
    clock.advance(kept_for)
    assert cc.access_token() == first
    clock.advance(2)
    assert cc.access_token() != first
    assert requested(lc) == 2


def test_the_refresh_options_set_the_refresh_point(m2m: LocalCognito, clock: Clock) -> None:
    cc = credentials(m2m, clock, refresh_fraction=0.25, refresh_margin=0)
    first = cc.token()
    assert first.expires_at - first.issued_at == 3600
    clock.advance(2699)
    assert cc.access_token() == first.access_token
    clock.advance(2)
    assert cc.access_token() != first.access_token


def test_token_returns_the_held_token_with_its_times(m2m: LocalCognito, clock: Clock) -> None:
    cc = credentials(m2m, clock)
    held = cc.token()
    assert held.issued_at == clock.now and held.expires_at == clock.now + 3600
    assert held.scope == READ and held.token_type == "Bearer"
    assert cc.token() is held and cc.access_token() == held.access_token
    assert requested(m2m) == 1


def bearer_answer(token: str) -> Callable[[Handler], None]:
    """A token endpoint's answer: ``token``, valid for an hour."""
    body = {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}
    return lambda h: send(h, 200, json.dumps(body).encode())


@contextlib.contextmanager
def a_refresh_in_flight(
    server: ScriptedServer,
    clock: Clock,
    secret: str,
    answer: Callable[[Handler], None],
    refresh: Callable[[ClientCredentials], object],
) -> Iterator[ClientCredentials]:
    """A ClientCredentials of ``server`` that holds ``token-0`` and is due for a refresh (the
    token valid for 300 s more), while ``refresh(cc)`` runs in a thread whose token request is
    in and held: the block runs then; after it, the request is answered with ``answer``."""
    release = threading.Event()
    first = bearer_answer("token-0")

    def token_endpoint(h: Handler) -> None:
        if server.count("/oauth2/token") > 1:  # the refresh: held until the block is over
            assert release.wait(timeout=30)
            answer(h)
        else:
            first(h)

    server.routes["/oauth2/token"] = token_endpoint
    cc = ClientCredentials(config=config_for(server, secret, timeout=5), clock=clock)
    assert cc.access_token() == "token-0"
    clock.advance(3300)  # due for a refresh, valid for 300 s more
    refresher = threading.Thread(target=refresh, args=(cc,))
    refresher.start()
    try:
        for _ in range(1000):  # until the refresher's request is in
            if server.count("/oauth2/token") == 2:
                break
            time.sleep(0.01)
        assert server.count("/oauth2/token") == 2, "the refresh never started"
        yield cc
    finally:
        release.set()
        refresher.join(timeout=30)


@pytest.mark.timeout(60)
def test_while_one_thread_refreshes_the_others_use_the_valid_token_without_waiting(
    clock: Clock, secret: str
) -> None:
    with ScriptedServer() as server:
        refresh = ClientCredentials.access_token
        with a_refresh_in_flight(server, clock, secret, bearer_answer("token-1"), refresh) as cc:
            assert each_caller(8, cc.access_token) == ["token-0"] * 8
        assert cc.access_token() == "token-1"
        assert server.count("/oauth2/token") == 2


def test_an_expired_token_is_never_handed_out(m2m: LocalCognito, clock: Clock) -> None:
    cc = credentials(m2m, clock, cooldown=7200)
    first = cc.token()
    with m2m.fail_token_endpoint(500):
        clock.advance(3500)
        assert cc.access_token() == first.access_token  # refresh failed: still valid, kept
        clock.now = first.expires_at - 1
        assert cc.access_token() == first.access_token
        clock.now = first.expires_at
        with pytest.raises(CognitoConnectionError):
            cc.access_token()
        with pytest.raises(CognitoConnectionError):
            cc.token()


# -- failures -----------------------------------------------------------------------------


def test_a_failed_refresh_keeps_the_held_token_and_retries_after_the_cooldown(
    m2m: LocalCognito, clock: Clock, api: Api
) -> None:
    cc = credentials(m2m, clock)
    first = cc.access_token()
    clock.advance(3300)
    with m2m.fail_token_endpoint(500):
        for _ in range(20):
            assert requests.get(api.url, auth=cc, timeout=10).status_code == 200
        assert requested(m2m) == 2  # the first refresh attempt only
        clock.advance(4)
        assert cc.access_token() == first
        assert requested(m2m) == 2
        clock.advance(2)  # past the 5 s cool-down
        assert cc.access_token() == first
        assert requested(m2m) == 3
    clock.advance(6)
    assert cc.access_token() != first
    assert requested(m2m) == 4
    assert set(api.tokens) == {first}


@pytest.mark.timeout(60)
def test_with_no_token_held_every_caller_gets_the_error_and_one_request_is_made_per_cooldown(
    m2m: LocalCognito, clock: Clock
) -> None:
    cc = credentials(m2m, clock)
    with m2m.fail_token_endpoint(500):
        outcomes = each_caller(16, cc.access_token)
        assert all(isinstance(outcome, CognitoConnectionError) for outcome in outcomes), outcomes
        assert requested(m2m) == 1
        assert len({str(outcome) for outcome in outcomes}) == 1
        clock.advance(4.9)
        with pytest.raises(CognitoConnectionError):
            cc.access_token()
        assert requested(m2m) == 1
        clock.advance(0.2)
        outcomes = each_caller(16, cc.access_token)
        assert all(isinstance(outcome, CognitoConnectionError) for outcome in outcomes), outcomes
        assert requested(m2m) == 2
    clock.advance(5.1)
    assert cc.access_token()
    assert requested(m2m) == 3


def test_the_cooldown_is_configurable(m2m: LocalCognito, clock: Clock) -> None:
    cc = credentials(m2m, clock, cooldown=30)
    with m2m.fail_token_endpoint(503):
        with pytest.raises(CognitoConnectionError):
            cc.access_token()
        clock.advance(29)
        with pytest.raises(CognitoConnectionError):
            cc.access_token()
        assert requested(m2m) == 1
        clock.advance(2)
        with pytest.raises(CognitoConnectionError):
            cc.access_token()
        assert requested(m2m) == 2


def test_a_refusal_is_cooled_down_too_and_each_caller_gets_its_details(
    m2m: LocalCognito, clock: Clock
) -> None:
    cc = credentials(m2m, clock, scopes="localapi/admin")  # not a scope the client may ask for
    with pytest.raises(TokenExchangeError) as first:
        cc.access_token()
    with pytest.raises(TokenExchangeError) as again:
        cc.access_token()
    assert requested(m2m) == 1
    assert first.value.error == again.value.error == "invalid_scope"
    assert again.value.status_code == 400 and again.value is not first.value


def blocked_on_the_lock(thread: threading.Thread) -> bool:
    """Whether ``thread`` waits for the request another thread is making (the single flight)."""
    frame = sys._current_frames().get(thread.ident or -1)
    if frame is None:
        return False
    line = linecache.getline(frame.f_code.co_filename, frame.f_lineno).strip()
    return frame.f_code.co_name == "_renew" and line == "slot.lock.acquire()"


@pytest.mark.timeout(60)
def test_callers_waiting_for_a_request_that_fails_get_its_error_without_a_request_of_their_own(
    clock: Clock, secret: str
) -> None:
    with ScriptedServer() as server:
        release = threading.Event()

        def outage(h: Handler) -> None:
            release.wait(timeout=30)
            send(h, 500, b'{"error":"server_error"}')

        server.routes["/oauth2/token"] = outage
        # No cool-down: only the single flight keeps the waiters from asking again.
        config = config_for(server, secret, timeout=5)
        cc = ClientCredentials(config=config, clock=clock, cooldown=0)
        outcomes: List[Any] = [None] * 16

        def call(i: int) -> None:
            try:
                outcomes[i] = cc.access_token()
            except Exception as exc:  # kept for the test to look at
                outcomes[i] = exc

        threads = [threading.Thread(target=call, args=(i,)) for i in range(16)]
        threads[0].start()
        try:
            deadline = time.monotonic() + 30
            while server.count("/oauth2/token") < 1:
                assert time.monotonic() < deadline, "the first request never arrived"
                time.sleep(0.005)
            for thread in threads[1:]:
                thread.start()
            deadline = time.monotonic() + 30
            while not all(blocked_on_the_lock(thread) for thread in threads[1:]):
                # Bounded: a waiter that never blocks (say, the lock line changed) fails here
                # rather than hanging until the test's timeout.
                assert time.monotonic() < deadline, "the waiters never blocked on the lock"
                time.sleep(0.005)
        finally:
            release.set()
            for thread in threads:
                thread.join(timeout=30)
        assert all(isinstance(outcome, CognitoConnectionError) for outcome in outcomes), outcomes
        assert server.count("/oauth2/token") == 1


def test_the_endpoint_recovering_is_used_at_the_end_of_the_cooldown(
    m2m: LocalCognito, clock: Clock
) -> None:
    cc = credentials(m2m, clock)
    with m2m.fail_token_endpoint(500, times=1):
        with pytest.raises(CognitoConnectionError):
            cc.access_token()
    with pytest.raises(CognitoConnectionError):
        cc.access_token()  # within the cool-down: no request, though Cognito is back
    assert requested(m2m) == 1
    clock.advance(5)
    assert cc.access_token()
    assert requested(m2m) == 2


# -- what Cognito answers -------------------------------------------------------------------


@pytest.mark.parametrize("expires_in", [0, -60, None], ids=["0", "-60", "without-expires_in"])
def test_a_token_response_without_a_positive_lifetime_is_refused(
    clock: Clock, secret: str, expires_in: Optional[int]
) -> None:
    with ScriptedServer() as server:
        answer = {"access_token": "a.b.c", "expires_in": expires_in, "token_type": "Bearer"}
        if expires_in is None:
            del answer["expires_in"]
        server.routes["/oauth2/token"] = dynamic(lambda: answer)
        cc = ClientCredentials(config=config_for(server, secret, timeout=5), clock=clock)
        with pytest.raises(TokenExchangeError, match="expires_in"):
            cc.access_token()


def test_a_lifetime_beyond_a_day_is_not_believed(clock: Clock, secret: str) -> None:
    with ScriptedServer() as server:
        answer = {"access_token": "a.b.c", "expires_in": 10**9, "token_type": "Bearer"}
        server.routes["/oauth2/token"] = dynamic(lambda: answer)
        cc = ClientCredentials(config=config_for(server, secret, timeout=5), clock=clock)
        held = cc.token()
        assert held.expires_at - held.issued_at == 86400


# -- requests ---------------------------------------------------------------------------------


def test_requests_auth_sends_the_bearer_token(m2m: LocalCognito, clock: Clock, api: Api) -> None:
    cc = credentials(m2m, clock)
    assert requests.get(api.url, auth=cc, timeout=10).status_code == 200
    assert api.tokens == [cc.access_token()]


def test_a_401_once_is_retried_once_with_a_new_token(
    m2m: LocalCognito, clock: Clock, api: Api
) -> None:
    refuse_first_token(api)
    cc = credentials(m2m, clock)
    response = requests.get(api.url, auth=cc, timeout=10)
    assert response.status_code == 200
    assert [r.status_code for r in response.history] == [401]
    first, second = api.tokens
    assert first != second and second == cc.access_token()
    assert requested(m2m) == 2


def test_a_401_always_is_retried_exactly_once(m2m: LocalCognito, clock: Clock, api: Api) -> None:
    api.refuse = lambda token: True
    cc = credentials(m2m, clock)
    response = requests.get(api.url, auth=cc, timeout=10)
    assert response.status_code == 401
    assert len(api.tokens) == 2
    assert requested(m2m) == 2


def test_a_401_retry_sends_the_same_body_again(m2m: LocalCognito, clock: Clock, api: Api) -> None:
    refuse_first_token(api)
    cc = credentials(m2m, clock)
    response = requests.post(api.url, json={"order": 42}, auth=cc, timeout=10)
    assert response.status_code == 200
    assert api.bodies == [b'{"order": 42}', b'{"order": 42}']


def test_a_streamed_body_is_not_retried_on_a_401(
    m2m: LocalCognito, clock: Clock, api: Api
) -> None:
    refuse_first_token(api)
    cc = credentials(m2m, clock)
    body = (chunk for chunk in [b"part one, ", b"part two"])
    response = requests.post(api.url, data=body, auth=cc, timeout=10)
    assert response.status_code == 401
    assert len(api.tokens) == 1
    assert requested(m2m) == 1


def test_a_401_with_cognito_down_raises_the_typed_error_instead_of_retrying(
    m2m: LocalCognito, clock: Clock, api: Api
) -> None:
    api.refuse = lambda token: True
    cc = credentials(m2m, clock)
    cc.access_token()
    with m2m.fail_token_endpoint(500), pytest.raises(CognitoConnectionError):
        requests.get(api.url, auth=cc, timeout=10)
    assert len(api.tokens) == 1


def test_another_error_status_is_not_retried(m2m: LocalCognito, clock: Clock, api: Api) -> None:
    api.status_for_good = 403
    cc = credentials(m2m, clock)
    assert requests.get(api.url, auth=cc, timeout=10).status_code == 403
    assert len(api.tokens) == 1 and requested(m2m) == 1


def test_no_token_for_a_request_raises_the_typed_error(
    m2m: LocalCognito, clock: Clock, api: Api
) -> None:
    cc = credentials(m2m, clock)
    with m2m.fail_token_endpoint(500), pytest.raises(CognitoConnectionError):
        requests.get(api.url, auth=cc, timeout=10)
    assert api.tokens == []


# -- httpx ------------------------------------------------------------------------------------


def test_httpx_auth_sends_the_bearer_token(m2m: LocalCognito, clock: Clock, api: Api) -> None:
    cc = credentials(m2m, clock)
    with httpx.Client(auth=cc.httpx_auth(), timeout=10) as client:
        assert client.get(api.url).status_code == 200
        assert client.get(api.url).status_code == 200
    assert api.tokens == [cc.access_token()] * 2
    assert requested(m2m) == 1


def test_httpx_auth_retries_a_401_once_with_a_new_token(
    m2m: LocalCognito, clock: Clock, api: Api
) -> None:
    refuse_first_token(api)
    cc = credentials(m2m, clock)
    with httpx.Client(auth=cc.httpx_auth(), timeout=10) as client:
        response = client.post(api.url, json={"order": 42})
    assert response.status_code == 200
    first, second = api.tokens
    assert first != second and second == cc.access_token()
    assert api.bodies == [b'{"order":42}', b'{"order":42}']


def test_httpx_auth_with_a_401_always_retries_exactly_once(
    m2m: LocalCognito, clock: Clock, api: Api
) -> None:
    api.refuse = lambda token: True
    cc = credentials(m2m, clock)
    with httpx.Client(auth=cc.httpx_auth(), timeout=10) as client:
        assert client.get(api.url).status_code == 401
    assert len(api.tokens) == 2
    assert requested(m2m) == 2


def test_httpx_auth_does_not_retry_a_streamed_body(
    m2m: LocalCognito, clock: Clock, api: Api
) -> None:
    refuse_first_token(api)
    cc = credentials(m2m, clock)
    body = (chunk for chunk in [b"part one, ", b"part two"])
    with httpx.Client(auth=cc.httpx_auth(), timeout=10) as client:
        assert client.post(api.url, content=body).status_code == 401
    assert len(api.tokens) == 1


def test_httpx_async_client_gets_the_token_and_retries_a_401_once(
    m2m: LocalCognito, clock: Clock, api: Api
) -> None:
    refuse_first_token(api)
    cc = credentials(m2m, clock)

    async def call() -> int:
        async with httpx.AsyncClient(auth=cc.httpx_auth(), timeout=10) as client:
            response = await client.get(api.url)
            return response.status_code

    assert asyncio.run(call()) == 200
    assert len(api.tokens) == 2 and requested(m2m) == 2


# -- cache keys -------------------------------------------------------------------------------


def test_instances_with_the_same_key_share_one_token(m2m: LocalCognito, clock: Clock) -> None:
    one, two = credentials(m2m, clock, [READ, WRITE]), credentials(m2m, clock, f"{WRITE} {READ}")
    assert one.cache_key == two.cache_key
    assert one.access_token() == two.access_token()
    assert requested(m2m) == 1


def test_different_scopes_never_share_a_token(m2m: LocalCognito, clock: Clock) -> None:
    read, write = credentials(m2m, clock, READ), credentials(m2m, clock, WRITE)
    default, both = credentials(m2m, clock, None), credentials(m2m, clock, [READ, WRITE])
    instances = [read, write, default, both]
    assert len({cc.cache_key for cc in instances}) == 4
    tokens = [cc.access_token() for cc in instances]
    assert len(set(tokens)) == 4 and requested(m2m) == 4
    scopes = [decode_unverified(token)[1]["scope"] for token in tokens]
    assert scopes[:2] == [READ, WRITE]


def test_different_resources_never_share_a_token(m2m: LocalCognito, clock: Clock) -> None:
    instances = [
        credentials(m2m, clock, resource=None),
        credentials(m2m, clock, resource=API_RESOURCE),
        credentials(m2m, clock, resource=OTHER_RESOURCE),
    ]
    assert len({cc.cache_key for cc in instances}) == 3
    audiences = [decode_unverified(cc.access_token())[1].get("aud") for cc in instances]
    assert audiences == [None, API_RESOURCE, OTHER_RESOURCE]
    assert requested(m2m) == 3


def test_another_secret_client_or_pool_domain_is_another_key(
    m2m: LocalCognito, clock: Clock
) -> None:
    config = m2m.config
    keys = {
        ClientCredentials(READ, config=c, clock=clock).cache_key
        for c in (
            config,
            dataclasses.replace(config, client_secret="another-secret"),
            dataclasses.replace(config, client_id="anotherclient123"),
            dataclasses.replace(config, domain="https://auth.example.com"),
        )
    }
    assert len(keys) == 4


def test_the_cache_key_is_a_digest_that_holds_no_secret(
    m2m: LocalCognito, clock: Clock, secret: str
) -> None:
    key = credentials(m2m, clock).cache_key
    assert len(key) == 64 and int(key, 16) >= 0
    assert secret not in key
    assert hashlib.sha256(secret.encode()).hexdigest() not in key


def test_the_secret_and_token_never_appear_in_logs_or_reprs(
    m2m: LocalCognito, clock: Clock, secret: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cc = credentials(m2m, clock, resource=API_RESOURCE)
    held = cc.token()
    clock.advance(3300)
    with m2m.fail_token_endpoint(500):
        cc.access_token()  # a failed refresh: logged as a warning
    cc.invalidate()
    with m2m.fail_token_endpoint(400, error="invalid_client"):
        clock.advance(10)
        with pytest.raises(TokenExchangeError) as refused:
            cc.access_token()
    shown = [caplog.text, repr(cc), str(cc), repr(held), repr(cc.httpx_auth()), str(refused.value)]
    assert "could not refresh" in caplog.text and cc.client_id in repr(cc)
    for text in shown:
        assert secret not in text
        assert held.access_token not in text


# -- invalidate -----------------------------------------------------------------------------


def test_invalidate_makes_the_next_call_ask_for_a_new_token(
    m2m: LocalCognito, clock: Clock
) -> None:
    cc = credentials(m2m, clock)
    first = cc.access_token()
    cc.invalidate()
    assert cc.access_token() != first
    assert requested(m2m) == 2


def test_invalidate_of_a_token_no_longer_held_keeps_the_new_one(
    m2m: LocalCognito, clock: Clock
) -> None:
    cc = credentials(m2m, clock)
    first = cc.access_token()
    cc.invalidate(first)
    second = cc.access_token()
    cc.invalidate(first)  # a late 401 for the old token
    assert cc.access_token() == second
    assert requested(m2m) == 2


def test_invalidate_applies_to_every_instance_with_the_key(
    m2m: LocalCognito, clock: Clock
) -> None:
    one, two = credentials(m2m, clock), credentials(m2m, clock)
    first = one.access_token()
    two.invalidate()
    assert one.access_token() != first


# -- a shared store -------------------------------------------------------------------------


class DictStore:
    """A TokenStore in a dict, honouring ``usable`` as a shared store must."""

    def __init__(self) -> None:
        self.held: Dict[str, HeldToken] = {}
        self.calls = 0

    def obtain(
        self, key: str, fetch: Callable[[], HeldToken], usable: Callable[[HeldToken], bool]
    ) -> HeldToken:
        self.calls += 1
        held = self.held.get(key)
        if held is None or not usable(held):
            held = self.held[key] = fetch()
        return held


def test_a_store_is_asked_on_a_miss_only_and_shares_the_token(
    m2m: LocalCognito, clock: Clock, secret: str
) -> None:
    store = DictStore()
    cc = credentials(m2m, clock, store=store)
    token = cc.access_token()
    assert cc.access_token() == token
    assert store.calls == 1 and requested(m2m) == 1
    assert list(store.held) == [cc.cache_key]
    assert secret not in store.held[cc.cache_key].to_json()


def test_a_token_from_the_store_is_used_without_a_request(
    m2m: LocalCognito, clock: Clock
) -> None:
    store = DictStore()
    cc = credentials(m2m, clock, store=store)
    other_process = HeldToken("header.payload.sig", "Bearer", clock.now, clock.now + 3600)
    store.held[cc.cache_key] = other_process
    assert cc.access_token() == "header.payload.sig"
    assert requested(m2m) == 0


def test_an_invalidated_token_is_not_taken_back_from_the_store(
    m2m: LocalCognito, clock: Clock
) -> None:
    store = DictStore()
    cc = credentials(m2m, clock, store=store)
    first = cc.access_token()
    cc.invalidate()
    second = cc.access_token()
    assert second != first and store.held[cc.cache_key].access_token == second
    assert requested(m2m) == 2


def test_an_expired_token_from_a_store_is_not_handed_out(m2m: LocalCognito, clock: Clock) -> None:
    class Careless(DictStore):
        def obtain(self, key: str, fetch: Any, usable: Any) -> HeldToken:
            return HeldToken("stale.token.x", "Bearer", clock.now - 7200, clock.now - 3600)

    cc = credentials(m2m, clock, store=Careless())
    assert cc.access_token() != "stale.token.x"
    assert requested(m2m) == 1


# -- what it refuses ------------------------------------------------------------------------


def test_a_config_without_a_secret_is_refused_when_made(lc: LocalCognito) -> None:
    with pytest.raises(ConfigError, match="client_secret"):
        ClientCredentials(READ, config=lc.config)
    assert lc.token_requests() == 0


def test_a_config_without_a_domain_is_refused_when_made(secret: str) -> None:
    from cognito_helper import CognitoConfig

    config = CognitoConfig(user_pool_id=POOL, client_id=CLIENT, client_secret=secret)
    with pytest.raises(ConfigError, match="domain"):
        ClientCredentials(config=config)


@pytest.mark.parametrize(
    "options",
    [
        {"cooldown": -1},
        {"cooldown": float("nan")},
        {"cooldown": "5"},
        {"refresh_fraction": 1.0},
        {"refresh_fraction": True},
        {"refresh_margin": float("inf")},
        {"scopes": "openid,email"},
        {"scopes": ["read", ""]},
        {"resource": "not-a-uri"},
        {"resource": "https://api.example.com/#fragment"},
    ],
)
def test_invalid_arguments_are_value_errors(m2m: LocalCognito, options: Dict[str, Any]) -> None:
    scopes = options.pop("scopes", READ)
    with pytest.raises(ValueError):
        ClientCredentials(scopes, config=m2m.config, **options)


@pytest.mark.parametrize("bad", [object(), "redis://localhost"])
def test_a_store_without_obtain_is_a_type_error(m2m: LocalCognito, bad: Any) -> None:
    with pytest.raises(TypeError, match="TokenStore"):
        ClientCredentials(READ, config=m2m.config, store=bad)


def test_the_repr_shows_client_scopes_and_resource_only(
    m2m: LocalCognito, clock: Clock, secret: str
) -> None:
    cc = credentials(m2m, clock, [WRITE, READ], resource=API_RESOURCE)
    assert repr(cc) == (
        f"ClientCredentials(client_id={m2m.client_id!r}, scopes=({READ!r}, {WRITE!r}), "
        f"resource={API_RESOURCE!r})"
    )


# -- a redirect to another host: its 401 is no verdict on the token, it gets no token ----------


def _moved_to_another_host(api: Api, elsewhere: ScriptedServer) -> Api:
    """Make ``api``'s ``/moved`` redirect to an API on ``elsewhere``, another host name (so
    requests and httpx drop the Authorization header on the way); that API."""
    other = Api(elsewhere)
    foreign = other.url.replace("127.0.0.1", "localhost")
    api.server.routes["/moved"] = lambda h: send(h, 302, b"", headers={"Location": foreign})
    return other


def test_a_401_after_a_redirect_to_another_host_never_sends_it_the_token(
    m2m: LocalCognito, clock: Clock, api: Api
) -> None:
    # requests strips Authorization on a redirect to another host; the 401 retry must not put
    # it back, nor take that host's 401 (for no token) as a verdict on the held one.
    with ScriptedServer() as elsewhere:
        other = _moved_to_another_host(api, elsewhere)
        cc = credentials(m2m, clock)
        response = requests.get(api.server.url + "/moved", auth=cc, timeout=10)
        assert response.status_code == 401
        assert other.tokens == [None]
    assert api.tokens == [cc.access_token()]
    assert requested(m2m) == 1


def test_a_retried_request_that_is_redirected_to_a_401_is_not_retried_again(
    m2m: LocalCognito, clock: Clock, api: Api
) -> None:
    # The retry of /moved is answered with a redirect to /api, which refuses every token:
    # one retry for the request in all, not one more per redirect.
    api.refuse = lambda token: True
    first: List[str] = []

    def moved(h: Handler) -> None:
        token = (h.headers.get("Authorization") or "").partition(" ")[2]
        first.append(first[0] if first else token)
        if token == first[0]:
            send(h, 401, b"{}", headers={"WWW-Authenticate": "Bearer"})
        else:
            send(h, 302, b"", headers={"Location": "/api"})

    api.server.routes["/moved"] = moved
    cc = credentials(m2m, clock)
    response = requests.get(api.server.url + "/moved", auth=cc, timeout=10)
    assert response.status_code == 401
    assert requested(m2m) == 2
    first_token, second_token, redirected = api.tokens
    assert first_token != second_token
    assert redirected == second_token  # the redirect follows the retry, not the refused token


def test_httpx_auth_takes_no_401_from_another_host_as_a_verdict_on_the_token(
    m2m: LocalCognito, clock: Clock, api: Api
) -> None:
    with ScriptedServer() as elsewhere:
        other = _moved_to_another_host(api, elsewhere)
        cc = credentials(m2m, clock)
        auth = cc.httpx_auth()
        with httpx.Client(auth=auth, timeout=10, follow_redirects=True) as client:
            assert client.get(api.server.url + "/moved").status_code == 401

        async def call() -> int:
            async with httpx.AsyncClient(auth=auth, timeout=10, follow_redirects=True) as client:
                return (await client.get(api.server.url + "/moved")).status_code

        assert asyncio.run(call()) == 401
        assert other.tokens == [None, None]
    assert api.tokens == [cc.access_token()] * 2
    assert requested(m2m) == 1


# -- a token invalidated while its refresh fails --------------------------------------------


@pytest.mark.timeout(60)
def test_a_token_invalidated_while_its_refresh_fails_is_not_handed_out_again(
    clock: Clock, secret: str
) -> None:
    refreshed: List[Any] = []

    def refresh(cc: ClientCredentials) -> None:
        try:
            refreshed.append(cc.access_token())
        except CognitoConnectionError as exc:
            refreshed.append(exc)

    def fail(h: Handler) -> None:  # the refresh fails, once the test has invalidated the token
        send(h, 500, b'{"error":"server_error"}')

    with ScriptedServer() as server:
        with a_refresh_in_flight(server, clock, secret, fail, refresh) as cc:
            cc.invalidate("token-0")  # the API refused it meanwhile
        assert refreshed and refreshed[0] != "token-0"
        with pytest.raises(CognitoConnectionError):
            cc.access_token()  # within the cool-down: the error, not the refused token
        assert server.count("/oauth2/token") == 2


# -- a stored token's expiry, on this process's clock ---------------------------------------


def test_a_stored_token_from_a_process_whose_clock_is_ahead_is_not_used_past_its_expiry(
    m2m: LocalCognito, clock: Clock
) -> None:
    # Another process, its clock 600 s ahead, stored a one-hour token it had just fetched: on
    # this process's clock that token ends 3600 s from now, not 4200 s.
    store = DictStore()
    cc = credentials(m2m, clock, store=store)
    ahead = clock.now + 600
    store.held[cc.cache_key] = HeldToken("from.ahead.clock", "Bearer", ahead, ahead + 3600)
    assert cc.access_token() == "from.ahead.clock"
    assert cc.token().expires_at == clock.now + 3600
    clock.advance(3600)
    assert cc.access_token() != "from.ahead.clock"
    assert requested(m2m) == 1


# -- httpx is imported only for httpx_auth() ------------------------------------------------


def test_client_credentials_imports_httpx_only_when_httpx_auth_is_asked_for() -> None:
    assert not imports("from cognito_helper import ClientCredentials", "httpx")
    asked = (
        "from cognito_helper import CognitoConfig, ClientCredentials\n"
        "config = CognitoConfig(user_pool_id='us-east-1_AbC123', client_id='c', "
        "client_secret='s', domain='my-app')\n"
        "ClientCredentials('api/read', config=config).httpx_auth()"
    )
    assert imports(asked, "httpx")


# -- an API that always answers 401: one new token per cool-down ------------------------------


def call_api(client: str, api: Api, cc: ClientCredentials, times: int) -> List[int]:
    """The status of ``times`` GETs of the API through ``client``, with ``cc`` as auth."""
    if client == "requests":
        with requests.Session() as session:
            return [session.get(api.url, auth=cc, timeout=10).status_code for _ in range(times)]
    if client == "httpx":
        with httpx.Client(auth=cc.httpx_auth(), timeout=10) as sync_client:
            return [sync_client.get(api.url).status_code for _ in range(times)]

    async def calls() -> List[int]:
        async with httpx.AsyncClient(auth=cc.httpx_auth(), timeout=10) as async_client:
            return [(await async_client.get(api.url)).status_code for _ in range(times)]

    return asyncio.run(calls())


@pytest.mark.parametrize("client", ["requests", "httpx", "httpx-async"])
def test_an_api_that_always_answers_401_costs_one_new_token_per_cooldown(
    m2m: LocalCognito, clock: Clock, api: Api, client: str
) -> None:
    api.refuse = lambda token: True
    cc = credentials(m2m, clock)
    assert call_api(client, api, cc, 50) == [401] * 50
    assert requested(m2m) <= 5
    assert requested(m2m) == 2  # the first token, and the one a 401 replaced it with
    assert len(api.tokens) == 51  # the first call was retried; the others' 401s returned as is
    clock.advance(5)  # the cool-down is over: a 401 may replace the token once more
    assert call_api(client, api, cc, 50) == [401] * 50
    assert requested(m2m) == 3 and len(api.tokens) == 102


@pytest.mark.timeout(60)
def test_401s_for_a_token_already_replaced_are_retried_with_the_new_one(
    m2m: LocalCognito, clock: Clock, api: Api
) -> None:
    refuse_first_token(api)
    cc = credentials(m2m, clock)
    cc.access_token()  # every thread starts with the token the API refuses
    outcomes = each_caller(8, lambda: requests.get(api.url, auth=cc, timeout=10).status_code)
    assert outcomes == [200] * 8
    assert requested(m2m) == 2


# -- instances made per call share one token; what is kept without an instance --------------


def test_a_new_instance_for_each_call_makes_one_token_request(
    m2m: LocalCognito, clock: Clock, api: Api
) -> None:
    tokens = []
    for i in range(100):
        tokens.append(credentials(m2m, clock).access_token())
        if i % 25 == 0:
            gc.collect()
    for _ in range(10):
        assert requests.get(api.url, auth=credentials(m2m, clock), timeout=10).status_code == 200
    assert requested(m2m) == 1
    assert len(set(tokens) | set(api.tokens)) == 1


def test_the_cooldown_holds_across_instances_made_per_call(m2m: LocalCognito, clock: Clock) -> None:
    with m2m.fail_token_endpoint(500):
        for i in range(10):
            with pytest.raises(CognitoConnectionError):
                credentials(m2m, clock).access_token()
            if i % 5 == 0:
                gc.collect()
    assert requested(m2m) == 1


def numbered_clients(server: ScriptedServer, secret: str, clock: Clock) -> Callable[[int], Any]:
    """``instance(i)``: a new ClientCredentials of app client ``i`` (a cache key of its own)
    of a token endpoint on ``server`` that answers every request with a new one-hour token."""
    server.routes["/oauth2/token"] = dynamic(
        lambda: {"access_token": uuid.uuid4().hex, "expires_in": 3600, "token_type": "Bearer"}
    )
    base = config_for(server, secret, timeout=5)

    def instance(i: int) -> Any:
        config = dataclasses.replace(base, client_id=f"client{i:05d}")
        return ClientCredentials(config=config, clock=clock)

    return instance


def test_the_tokens_kept_without_an_instance_are_bounded_least_recently_used_first(
    clock: Clock, secret: str
) -> None:
    with ScriptedServer() as server:
        instance = numbered_clients(server, secret, clock)
        keys = []
        for i in range(MAX_KEPT + 1):
            cc = instance(i)
            cc.access_token()
            keys.append(cc.cache_key)
        del cc
        gc.collect()
        assert server.count("/oauth2/token") == MAX_KEPT + 1
        assert not holds(keys[0]) and all(holds(key) for key in keys[1:])
        for i in (MAX_KEPT, 1):
            instance(i).access_token()  # still kept: among the MAX_KEPT most recently used
        assert server.count("/oauth2/token") == MAX_KEPT + 1
        instance(0).access_token()  # the least recently used one was dropped
        assert server.count("/oauth2/token") == MAX_KEPT + 2


def test_a_token_kept_without_an_instance_is_dropped_once_expired(
    clock: Clock, secret: str
) -> None:
    with ScriptedServer() as server:
        instance = numbered_clients(server, secret, clock)
        key = instance(0).cache_key
        instance(0).access_token()
        gc.collect()
        assert holds(key)
        clock.advance(3600)
        instance(1)  # any new cache key: the registry drops what has expired
        gc.collect()
        assert not holds(key)


def reachable(root: object) -> Iterator[object]:
    """Every object reachable from ``root`` through references, classes and modules aside."""
    skip = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType)
    seen, todo = {id(root)}, [root]
    while todo:
        obj = todo.pop()
        yield obj
        for ref in gc.get_referents(obj):
            if id(ref) not in seen and not isinstance(ref, skip):
                seen.add(id(ref))
                todo.append(ref)


def test_what_is_kept_without_an_instance_holds_no_secret(
    m2m: LocalCognito, clock: Clock, secret: str
) -> None:
    refused = credentials(m2m, clock, WRITE)
    with m2m.fail_token_endpoint(400, error="invalid_client"):
        with pytest.raises(TokenExchangeError):
            refused.access_token()  # a remembered failure is kept too
    cc = credentials(m2m, clock)
    cc.access_token()
    keys = [cc.cache_key, refused.cache_key]
    del cc, refused
    gc.collect()
    for key in keys:
        assert holds(key)
        for obj in reachable(slot_of(key)):
            assert not isinstance(obj, (ClientCredentials, CognitoConfig))
            assert not (isinstance(obj, str) and secret in obj)


# -- a failure remembered for the cool-down -------------------------------------------------


def test_the_remembered_failure_says_so_and_when_the_next_attempt_is_made(
    m2m: LocalCognito, clock: Clock, secret: str
) -> None:
    cc = credentials(m2m, clock)
    with m2m.fail_token_endpoint(500):
        with pytest.raises(CognitoConnectionError) as first:
            cc.access_token()
        clock.advance(1.5)
        with pytest.raises(CognitoConnectionError) as remembered:
            cc.access_token()
    assert requested(m2m) == 1
    assert "remembered" not in str(first.value)
    text = str(remembered.value)
    assert text.startswith(str(first.value))
    assert "remembered failure" in text and "next attempt in 3.5 s" in text
    assert secret not in text


def test_a_remembered_refusal_keeps_its_type_and_details(m2m: LocalCognito, clock: Clock) -> None:
    cc = credentials(m2m, clock, scopes="localapi/admin", cooldown=30)
    with pytest.raises(TokenExchangeError) as first:
        cc.access_token()
    clock.advance(10)
    with pytest.raises(TokenExchangeError) as remembered:
        cc.access_token()
    assert (remembered.value.error, remembered.value.status_code) == ("invalid_scope", 400)
    assert remembered.value.description == first.value.description
    assert "next attempt in 20.0 s" in str(remembered.value)
