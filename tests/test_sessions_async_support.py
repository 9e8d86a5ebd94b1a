"""Issue 22: what the sessions core and LocalCognito give an async integration.

* :func:`cognito_helper.sessions.accepts_html`, the one rule for "a browser's page request"
  (redirected to sign in) against "an API client" (a 401), for every framework (Flask's
  ``prefers_html`` is gone: no ``Accept`` header and ``*/*`` are an API client's now);
* :meth:`Session.access_token_if_fresh`, the token held when no refresh is due, without I/O,
  so an event loop can hand only a refresh to a worker thread;
* :meth:`LocalCognito.hold_token_endpoint`, a slow token endpoint for tests.
"""

from __future__ import annotations

import threading
import time
from typing import List, Optional

import pytest

from cognito_helper import get_cognito_tokens
from cognito_helper.sessions import CognitoSessions, accepts_html
from cognito_helper.testing import LocalCognito, TokenEndpointHold

from .helpers import sign_in as browser_sign_in
from .sessions_support import expiring_sign_in, sign_in


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),  # Chromium
        ("text/html", True),
        ("TEXT/HTML; charset=utf-8", True),
        ("application/xhtml+xml", True),
        ("application/json;q=0.5, text/html", True),
        ("text/html;q=0.5, application/json;q=0.5", True),  # HTML at least as much as JSON
        ("application/json, text/html;q=0.1", False),  # JSON preferred: an API client
        ("application/json, text/html;q=0.5", False),
        ("text/html;q=0.5, */*", False),  # JSON (through */*) preferred
        ("application/*", False),
        ("text/html;q=0, */*", False),
        ("image/png", False),
        ("text/html;q=nan, application/json", False),
        ("text/html;q=2", False),
        ("garbage", False),
        ("   ", False),
        ("text/html;q=0.5;level=1", True),
        ("text/html;q=0", False),
        ("text/html; q=0.000", False),
        ("text/html;q=oops", False),
        ("application/json", False),
        ("*/*", False),
        ("text/*", False),
        ("", False),
        (None, False),
        ("text/htmlx", False),
        (b"text/html", False),
    ],
)
def test_accepts_html_is_a_page_request_of_a_browser(accept: object, html: bool) -> None:
    assert accepts_html(accept) is html


def test_access_token_if_fresh_is_the_held_token_and_none_when_a_refresh_is_due(
    lc: LocalCognito,
) -> None:
    sessions = CognitoSessions(lc.config)
    fresh = sessions.load(sign_in(lc, sessions).session_id)
    assert fresh is not None
    assert fresh.access_token_if_fresh() == fresh.access_token()

    due = sessions.load(expiring_sign_in(lc, sessions, seconds_left=30).session_id)
    assert due is not None
    assert due.access_token_if_fresh() is None
    assert lc.token_requests("refresh_token") == 0  # asking does no I/O
    refreshed = due.access_token()
    assert lc.token_requests("refresh_token") == 1
    assert due.access_token_if_fresh() == refreshed


def test_hold_token_endpoint_holds_token_requests_until_released(lc: LocalCognito) -> None:
    signed_in = browser_sign_in(lc)
    results: List[Optional[str]] = []

    def exchange() -> None:
        tokens = get_cognito_tokens(
            signed_in.code, config=lc.config, code_verifier=signed_in.code_verifier
        )
        results.append(tokens.id_token)

    with lc.hold_token_endpoint() as hold:
        assert isinstance(hold, TokenEndpointHold)
        worker = threading.Thread(target=exchange)
        worker.start()
        deadline = time.monotonic() + 20
        while hold.waiting == 0:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert results == [] and worker.is_alive()
        assert lc.token_requests("authorization_code") == 1  # counted when it arrived
        assert "waiting=1" in repr(hold)
    worker.join(20)  # the with block released it
    assert len(results) == 1 and results[0] is not None
    assert hold.waiting == 0
    assert lc.server_errors == []


def test_a_hold_lets_requests_go_after_its_timeout(lc: LocalCognito) -> None:
    signed_in = browser_sign_in(lc)
    hold = lc.hold_token_endpoint(timeout=0.2)
    tokens = get_cognito_tokens(
        signed_in.code, config=lc.config, code_verifier=signed_in.code_verifier
    )
    assert tokens.access_token
    assert hold.released is False  # timed out, not released: later requests wait too


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), 61, "1", True])
def test_a_hold_needs_a_timeout_of_up_to_a_minute(lc: LocalCognito, timeout: object) -> None:
    with pytest.raises(ValueError):
        lc.hold_token_endpoint(timeout=timeout)  # type: ignore[arg-type]
