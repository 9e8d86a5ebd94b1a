"""Helpers the test modules share: the standard user, a hosted-UI sign-in, an at_hash oracle.

The ``lc`` and ``make_lc`` fixtures (``conftest.py``) start LocalCognito providers with the
user below already added; :func:`sign_in` signs that user in the way a browser would.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from typing import Callable, NoReturn, Optional, Union
from urllib.parse import parse_qs, urlsplit

from cognito_helper import LoginRequest
from cognito_helper.testing import LocalCognito

from .tokens import b64

# The user every provider made by the ``lc`` and ``make_lc`` fixtures has.
USER = "alice"
PASSWORD = "Alice-Passw0rd!"
EMAIL = "alice@example.com"
GROUPS = ("staff",)

# The type of the ``make_lc`` fixture: ``make_lc(**LocalCognito options) -> LocalCognito``.
MakeLocalCognito = Callable[..., LocalCognito]


@dataclass(frozen=True)
class SignIn:
    """What came back from the hosted UI: the callback URL and the ``code`` and ``state`` on it,
    with the verifier and nonce of the login it answers (None when the login was started
    elsewhere and only its URL was given)."""

    redirect: str
    code: str
    state: Optional[str]
    code_verifier: Optional[str]
    nonce: Optional[str]


def sign_in(
    lc: LocalCognito,
    login: Union[LoginRequest, str, None] = None,
    *,
    username: str = USER,
    password: str = PASSWORD,
) -> SignIn:
    """Sign ``username`` in on ``lc``'s hosted UI, as a browser would, and read the callback.

    ``login`` is the sign-in to follow: a :class:`LoginRequest`, or a sign-in URL started
    elsewhere (the CLI, an app under test). By default a new one is started with ``lc.config``.
    When the login's state is known, the callback must carry it back.
    """
    if login is None:
        login = lc.config.start_login()
    url = login if isinstance(login, str) else login.url
    redirect = lc.sign_in(url, username, password)
    query = parse_qs(urlsplit(redirect).query)
    assert "code" in query, f"no code on the callback: {redirect}"
    state = query["state"][0] if "state" in query else None
    if isinstance(login, str):
        return SignIn(redirect, query["code"][0], state, None, None)
    assert state == login.state, (state, login.state)
    return SignIn(redirect, query["code"][0], state, login.code_verifier, login.nonce)


def at_hash(access_token: str) -> str:
    """The OIDC ``at_hash`` of an RS256 access token, computed here, independently of the
    library (a test oracle): the unpadded base64url of the left half of its SHA-256."""
    return b64(hashlib.sha256(access_token.encode()).digest()[:16])


def unavailable(tests: str, reason: str, install: str) -> NoReturn:
    """A test that needs an outside program it cannot have: skipped locally (with the command
    that installs it), failed under ``CI=true``, where every test must run."""
    import pytest

    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {tests} cannot run: {reason}; install: {install}")
    pytest.skip(f"{reason}; to run {tests}: {install}")
