"""Edges of ClientCredentials that issue 19's mutation pass found untested (see
``.ci/mutation.md``): the shortest lifetimes, a store's own error within the cool-down, the
tokens kept without an instance when one of them is renewed, and ``httpx_auth()`` without httpx.

Token endpoints are loopback servers (``tests/servers.py``) or LocalCognito; stores are small
implementations of the public ``TokenStore`` protocol. Time is a test clock: no test waits.
"""

from __future__ import annotations

import dataclasses
import gc
import re
import sys
import time
import uuid
from typing import Any, Callable, Iterator

import pytest

from cognito_helper import CognitoConfig, CognitoConnectionError
from cognito_helper.oauth.m2m import ClientCredentials
from cognito_helper.oauth.m2m_slots import MAX_KEPT
from cognito_helper.oauth.token_store import HeldToken
from cognito_helper.testing import LocalCognito

from .helpers import MakeLocalCognito
from .servers import ScriptedServer, dynamic
from .tokens import CLIENT, POOL

READ = "localapi/read"


class Clock:
    """Wall-clock time that moves only when a test says so."""

    def __init__(self) -> None:
        self.now = float(int(time.time()))

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def secret() -> str:
    # Unique per test, so that no token held for another test's endpoint is ever shared.
    return f"m2m-edges-secret-{uuid.uuid4().hex}"


@pytest.fixture
def m2m(make_lc: MakeLocalCognito, secret: str) -> LocalCognito:
    """A LocalCognito whose main client is confidential."""
    return make_lc(client_secret=secret)


@pytest.fixture
def endpoint() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


def config_of(server: ScriptedServer, secret: str, client_id: str = CLIENT) -> CognitoConfig:
    """A confidential client whose token endpoint is ``server``'s ``/oauth2/token``."""
    return CognitoConfig(
        user_pool_id=POOL, client_id=client_id, client_secret=secret, domain=server.url, timeout=5
    )


def answering(server: ScriptedServer, expires_in: int) -> None:
    """``server``'s token endpoint answers each request with a new token of ``expires_in``."""
    server.routes["/oauth2/token"] = dynamic(
        lambda: {"access_token": uuid.uuid4().hex, "expires_in": expires_in, "token_type": "Bearer"}
    )


class Store:
    """A TokenStore whose ``obtain`` runs ``answer`` (counted in ``calls``)."""

    def __init__(self, answer: Callable[[], HeldToken]) -> None:
        self.answer = answer
        self.calls = 0

    def obtain(
        self, key: str, fetch: Callable[[], HeldToken], usable: Callable[[HeldToken], bool]
    ) -> HeldToken:
        self.calls += 1
        return self.answer()


# -- the shortest lifetimes -------------------------------------------------------------------


def test_a_token_of_one_second_is_accepted_and_used(
    endpoint: ScriptedServer, secret: str, clock: Clock
) -> None:
    answering(endpoint, expires_in=1)  # the shortest positive expires_in there is
    cc = ClientCredentials(READ, config=config_of(endpoint, secret), clock=clock)
    held = cc.token()
    assert held.expires_at - held.issued_at == 1
    assert cc.access_token() == held.access_token  # used for (half) its second
    assert endpoint.count("/oauth2/token") == 1


def test_a_token_living_under_a_second_is_used_for_half_its_lifetime(
    m2m: LocalCognito, clock: Clock
) -> None:
    # A shared store's token may have less than a second left on this process's clock.
    store = Store(lambda: HeldToken("short-lived", "Bearer", clock.now, clock.now + 0.5))
    cc = ClientCredentials(READ, config=m2m.config, clock=clock, store=store)
    assert cc.access_token() == "short-lived"
    clock.advance(0.2)
    assert cc.access_token() == "short-lived"
    assert store.calls == 1  # within the first half of its life: not due for a refresh
    clock.advance(0.1)
    cc.access_token()
    assert store.calls == 2  # past the half: due
    assert m2m.token_requests() == 0


def test_a_stored_token_from_a_clock_half_a_second_ahead_is_moved_back_by_that_much(
    m2m: LocalCognito, clock: Clock
) -> None:
    # Another process, its clock 0.5 s ahead, stored a one-hour token it had just fetched.
    ahead = clock.now + 0.5
    store = Store(lambda: HeldToken("from.ahead.clock", "Bearer", ahead, ahead + 3600))
    cc = ClientCredentials(READ, config=m2m.config, clock=clock, store=store)
    held = cc.token()
    assert (held.issued_at, held.expires_at) == (clock.now, clock.now + 3600)


# -- a store's own error, within the cool-down -------------------------------------------------


def test_a_store_error_without_a_message_is_raised_again_within_the_cooldown(
    m2m: LocalCognito, clock: Clock
) -> None:
    def down() -> HeldToken:
        raise CognitoConnectionError()  # an app's store: no message

    store = Store(down)
    cc = ClientCredentials(READ, config=m2m.config, clock=clock, store=store, cooldown=5)
    with pytest.raises(CognitoConnectionError):
        cc.access_token()
    clock.advance(1)
    with pytest.raises(CognitoConnectionError) as remembered:
        cc.access_token()
    assert remembered.value.args == ()  # the same error again: nothing to add a note to
    assert store.calls == 1  # the cool-down: no second attempt
    clock.advance(5)
    with pytest.raises(CognitoConnectionError):
        cc.access_token()
    assert store.calls == 2


# -- the tokens kept without an instance --------------------------------------------------------


def test_a_renewed_token_counts_as_recently_used_among_the_kept_ones(
    endpoint: ScriptedServer, secret: str, clock: Clock
) -> None:
    answering(endpoint, expires_in=3600)

    def instance(i: int) -> Any:
        config = dataclasses.replace(config_of(endpoint, secret), client_id=f"client{i:05d}")
        return ClientCredentials(config=config, clock=clock)

    first = instance(0)
    first.access_token()
    for i in range(1, MAX_KEPT):  # MAX_KEPT keys kept now, client 0 the least recently used
        instance(i).access_token()
    first.invalidate()
    first.access_token()  # a new token for client 0: now the most recently used
    del first
    gc.collect()
    instance(MAX_KEPT).access_token()  # one key too many: the least recently used goes
    requests_so_far = endpoint.count("/oauth2/token")
    assert requests_so_far == MAX_KEPT + 2
    instance(0).access_token()  # still kept: its token is reused
    assert endpoint.count("/oauth2/token") == requests_so_far
    instance(1).access_token()  # client 1 was the least recently used: dropped
    assert endpoint.count("/oauth2/token") == requests_so_far + 1


# -- httpx_auth() without httpx -------------------------------------------------------------------


def test_httpx_auth_without_httpx_is_an_import_error_saying_how_to_install_it(
    m2m: LocalCognito, monkeypatch: pytest.MonkeyPatch
) -> None:
    cc = ClientCredentials(READ, config=m2m.config)
    monkeypatch.setitem(sys.modules, "httpx", None)  # what an environment without httpx has
    monkeypatch.delitem(sys.modules, "cognito_helper.oauth.m2m_httpx", raising=False)
    with pytest.raises(ImportError, match=re.escape("pip install '.[httpx]'")):
        cc.httpx_auth()
    assert m2m.token_requests() == 0
