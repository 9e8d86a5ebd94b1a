"""Shared fixtures: a clean process state per test, the verification memo on and off, a
scriptable JWKS issuer on loopback, and LocalCognito providers that must end the test without
an internal error.

Plain helpers (``sign_in``, ``at_hash``, the standard user) are in ``helpers.py``.
"""

from __future__ import annotations

import os
from contextlib import ExitStack
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

import cognito_helper
from cognito_helper import CognitoConfig
from cognito_helper.testing import KeyPool, LocalCognito, reset
from cognito_helper.verification.memo import DEFAULT_MAXSIZE

from .helpers import EMAIL, GROUPS, PASSWORD, USER
from .servers import ScriptedServer, dynamic
from .tokens import CLIENT, POOL, KeyPair, claims_for


@pytest.fixture(autouse=True)
def clean_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts as a new process would: no ``COGNITO_*`` variable, and every cache,
    memo, key cache, M2M slot and the default config as a fresh import has them
    (``cognito_helper.testing.reset()``); and leaves nothing behind."""
    for name in list(os.environ):
        if name.startswith("COGNITO_"):
            monkeypatch.delenv(name)
    reset()
    yield
    reset()


@pytest.fixture(params=[True, False], ids=["memo-on", "memo-off"])
def memo(request: pytest.FixtureRequest) -> bool:
    """The verification memo on (its default size) or off; ``clean_state`` restores it.

    A test that takes it runs twice; a module runs all its tests both ways with
    ``pytestmark = pytest.mark.usefixtures("memo")``.
    """
    on = bool(request.param)
    cognito_helper.set_verification_memo_size(DEFAULT_MAXSIZE if on else 0)
    return on


@pytest.fixture(scope="session")
def key_pairs() -> List[KeyPair]:
    """Generated once: RSA key generation is slow."""
    return [KeyPair(kid=f"kid-{i}") for i in range(3)]


class Issuer:
    """A pool whose JWKS a test controls: ``jwks`` is served as-is on every fetch."""

    def __init__(self, server: ScriptedServer, keys: List[KeyPair]) -> None:
        self.server = server
        self.key = keys[0]
        self.spare = keys[1:]
        self.jwks: List[Dict[str, Any]] = [keys[0].jwk()]
        self.issuer = f"{server.url}/{POOL}"
        self.jwks_path = f"/{POOL}/.well-known/jwks.json"
        server.routes[self.jwks_path] = dynamic(lambda: {"keys": self.jwks})
        self.config = CognitoConfig(
            user_pool_id=POOL,
            client_id=CLIENT,
            issuer=self.issuer,
            jwks_url=server.url + self.jwks_path,
            timeout=2.0,
        )

    @property
    def fetches(self) -> int:
        return self.server.count(self.jwks_path)

    def claims(self, token_use: str = "id", **overrides: Any) -> Dict[str, Any]:
        return claims_for(token_use, self.issuer, **overrides)

    def token(
        self,
        token_use: str = "id",
        *,
        key: Optional[KeyPair] = None,
        header: Optional[Dict[str, Any]] = None,
        **overrides: Any,
    ) -> str:
        return (key or self.key).token(self.claims(token_use, **overrides), header)


@pytest.fixture
def issuer(key_pairs: List[KeyPair]) -> Iterator[Issuer]:
    with ScriptedServer() as server:
        yield Issuer(server, key_pairs)


# -- LocalCognito ---------------------------------------------------------------------------


#: Signing keys for the providers the tests start: generating two RSA keys per provider was
#: most of the quick test run's time. A test's providers still never share a key (see KeyPool).
KEY_POOL = KeyPool(size=16)


@pytest.fixture
def make_lc() -> Iterator[Callable[..., LocalCognito]]:
    """A factory: ``make_lc(**options)`` starts a ``LocalCognito(**options)`` that has the
    standard user (``helpers.USER``, ``PASSWORD``, ``EMAIL``, in ``GROUPS``) and returns it.
    Its signing keys come from ``KEY_POOL`` unless ``key_pool=`` says otherwise.

    At the end of the test every provider it made is stopped, and the test fails if any of
    them saw an internal error (a handler that raised, answered 500, kept in server_errors).
    """
    made: List[LocalCognito] = []

    def make(**options: Any) -> LocalCognito:
        options.setdefault("key_pool", KEY_POOL)
        lc = stack.enter_context(LocalCognito(**options))
        made.append(lc)
        lc.add_user(USER, PASSWORD, email=EMAIL, groups=list(GROUPS))
        return lc

    with ExitStack() as stack:
        yield make
    errors = [(repr(lc), lc.server_errors) for lc in made if lc.server_errors]
    assert errors == [], f"LocalCognito saw internal errors: {errors}"


@pytest.fixture
def lc(make_lc: Callable[..., LocalCognito]) -> LocalCognito:
    """A LocalCognito with default options and the standard user (see ``make_lc``)."""
    return make_lc()
