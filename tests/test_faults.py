"""Faults: loopback servers that misbehave on purpose, for the JWKS and the token endpoints.

For every fault: a typed error within the configured timeout (asserted with generous slack),
no thread left behind, no credential sent to a redirect target, and the good state (the keys
already cached, the shared HTTP session) still serving afterwards.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator, Optional, Set, Tuple

import pytest

from cognito_helper import (
    CognitoConfig,
    CognitoConnectionError,
    TokenExchangeError,
    decode_verify_jwt,
    get_cognito_tokens,
    jwks_cache,
)
from cognito_helper.core import http as _http

from .conftest import Issuer
from .servers import (
    Behaviour,
    ScriptedServer,
    closed_port,
    drip,
    gzip_bomb,
    header_drip,
    hold,
    redirect,
    reset_mid_body,
    respond,
    short_body,
    stream,
)
from .tokens import CLIENT, POOL

TIMEOUT = 0.5
SLACK = 1.5  # a loaded 2-core CI machine; a hang would take seconds, not this
SECRET = "f4ult-client-secret-0123456789abcdefghijklmnop"
CODE = "2c0f6c4e-5d6b-4f4e-8f5e-fault-code-0001"
VERIFIER = "fault-verifier-" + "v" * 40
GOOD_TOKENS = {
    "id_token": "id.tok.en",
    "access_token": "acc.tok.en",
    "refresh_token": "re.fresh.tok.en.x",
    "expires_in": 3600,
    "token_type": "Bearer",
}
CCE = CognitoConnectionError
TEE = TokenExchangeError


@dataclass(frozen=True)
class Fault:
    """``make(other_url)`` builds the misbehaving answer; ``other_url`` is another host that a
    redirect may point at. ``make=None`` means nothing listens at all (refused)."""

    name: str
    make: Optional[Callable[[str], Behaviour]]
    token_error: type  # what get_cognito_tokens must raise (the JWKS always gives CCE)


FAULTS = [
    Fault("connection-refused", None, CCE),
    Fault("accept-then-silence", lambda other: hold(10), CCE),
    Fault("slow-drip-of-status-line-and-headers", lambda other: header_drip(0.05), CCE),
    Fault("slow-drip-of-body", lambda other: drip(2000, 0.05), CCE),
    Fault("reset-mid-body", lambda other: reset_mid_body(), CCE),
    Fault("body-shorter-than-announced", lambda other: short_body(1000, b'{"keys": ['), CCE),
    Fault("302-to-another-host", lambda other: redirect(302, other + "/steal"), CCE),
    Fault("307-to-another-host", lambda other: redirect(307, other + "/steal"), CCE),
    Fault("308-to-another-host", lambda other: redirect(308, other + "/steal"), CCE),
    Fault(
        "3xx-with-an-endless-body",
        lambda other: stream(302, b"x" * 65536, headers={"Location": other + "/steal"}),
        CCE,
    ),
    Fault(
        "3xx-with-a-dripping-body",
        lambda other: stream(307, b"x", every=0.05, headers={"Location": other + "/steal"}),
        CCE,
    ),
    Fault("500", lambda other: respond(500, {"message": "boom"}), CCE),
    Fault("502-html", lambda other: respond(502, b"<html>Bad gateway</html>", "text/html"), CCE),
    Fault("503", lambda other: respond(503, b"", "text/plain"), CCE),
    Fault("504", lambda other: respond(504, {"message": "timeout"}), CCE),
    Fault("200-html", lambda other: respond(200, b"<html>maintenance</html>", "text/html"), TEE),
    Fault("400-html", lambda other: respond(400, b"<html>bad</html>", "text/html"), TEE),
    Fault("truncated-json", lambda other: respond(200, b'{"keys": [{"kty": "RSA", "n'), TEE),
    Fault(
        "json-content-type-on-html",
        lambda other: respond(200, b"<!doctype html><p>sign in</p>", "application/json"),
        TEE,
    ),
    Fault(
        "octet-stream-binary",
        lambda other: respond(200, bytes(range(256)) * 4, "application/octet-stream"),
        TEE,
    ),
    Fault("deeply-nested-json-200", lambda other: respond(200, b"[" * 200_000), TEE),
    Fault("deeply-nested-json-400", lambda other: respond(400, b'{"error":' + b"[" * 200_000), TEE),
    Fault("oversized-body-with-length", lambda other: respond(200, b" " * (2 << 20)), CCE),
    Fault("oversized-chunked-body", lambda other: stream(200, b" " * 65536), CCE),
    Fault("gzip-bomb", lambda other: gzip_bomb(64 << 20), CCE),
]
FAULT_IDS = [f.name for f in FAULTS]


# -- helpers ------------------------------------------------------------------------------


def _threads() -> Set[threading.Thread]:
    return set(threading.enumerate())


def _wait_for(what: Callable[[], Any], grace: float, message: str) -> None:
    deadline = time.monotonic() + grace
    while True:
        left = what()
        if not left:
            return
        if time.monotonic() > deadline:
            import sys
            import traceback

            frames = sys._current_frames()
            stacks = [
                "".join(traceback.format_stack(frames[t.ident]))
                for t in threading.enumerate()
                if t.name in left and t.ident in frames
            ]
            raise AssertionError(f"{message}: {left}\n" + "\n".join(stacks))
        time.sleep(0.02)


def assert_no_thread_left(before: Set[threading.Thread], grace: float = 3.0) -> None:
    """No thread the library started outlives the call, and no server thread is kept busy.

    A keep-alive connection in the session's pool legitimately keeps its server thread
    waiting for the next request, so the pool is closed before counting server threads: a
    connection the library abandoned without closing would still hold one.
    """

    def new(servers: bool) -> Any:
        return [
            t.name
            for t in _threads() - before
            if t.is_alive() and servers == ("process_request_thread" in t.name)
        ]

    _wait_for(lambda: new(servers=False), grace, "library threads left behind")
    _http.session().close()
    _wait_for(lambda: new(servers=True), grace, "server threads still serving a fault")


def timed(call: Callable[[], Any]) -> Tuple[Optional[BaseException], float]:
    started = time.monotonic()
    try:
        call()
    except BaseException as exc:
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


@pytest.fixture
def other() -> Iterator[ScriptedServer]:
    """Another host a redirect points at; it would answer anything, and must hear nothing."""
    with ScriptedServer() as srv:
        srv.routes["/steal"] = respond(200, GOOD_TOKENS)
        yield srv


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as srv:
        yield srv


def token_config(base_url: str) -> CognitoConfig:
    return CognitoConfig(
        user_pool_id=POOL,
        client_id=CLIENT,
        client_secret=SECRET,  # a confidential client: every request carries Basic auth
        domain=base_url,
        redirect_uri="https://app.example.com/cb",
        timeout=TIMEOUT,
    )


def install(fault: Fault, server: ScriptedServer, path: str, other: ScriptedServer) -> str:
    """Put the fault at ``path``; return the base URL to use (a dead one when refused)."""
    if fault.make is None:
        return f"http://127.0.0.1:{closed_port()}"
    server.routes[path] = fault.make(other.url)
    return server.url


# -- the token endpoint -------------------------------------------------------------------


@pytest.mark.slow  # each fault is waited out until its timeout
@pytest.mark.parametrize("fault", FAULTS, ids=FAULT_IDS)
def test_token_endpoint_fault_is_a_typed_error_within_the_timeout(
    fault: Fault, server: ScriptedServer, other: ScriptedServer
) -> None:
    config = token_config(install(fault, server, "/oauth2/token", other))
    before = _threads()
    error, elapsed = timed(lambda: get_cognito_tokens(CODE, config=config, code_verifier=VERIFIER))
    assert type(error) is fault.token_error, repr(error)
    assert elapsed < TIMEOUT + SLACK, f"took {elapsed:.2f} s"
    assert other.requests == [], "a request (with the client's credentials) followed a redirect"
    assert server.count("/oauth2/token") <= 1, "a POST was retried"
    for secret in (SECRET, CODE, VERIFIER):
        assert secret not in str(error) and secret not in repr(error)
    assert_no_thread_left(before)


@pytest.mark.slow  # each fault is waited out until its timeout
@pytest.mark.parametrize("fault", FAULTS, ids=FAULT_IDS)
def test_shared_session_still_serves_after_a_token_endpoint_fault(
    fault: Fault, server: ScriptedServer, other: ScriptedServer
) -> None:
    good = token_config(server.url)
    server.routes["/oauth2/token"] = respond(200, GOOD_TOKENS)
    get_cognito_tokens(CODE, config=good)  # a pooled keep-alive connection to reuse
    config = token_config(install(fault, server, "/oauth2/token", other))
    with pytest.raises(fault.token_error):
        get_cognito_tokens(CODE, config=config)
    server.routes["/oauth2/token"] = respond(200, GOOD_TOKENS)
    assert get_cognito_tokens(CODE, config=good).access_token == "acc.tok.en"


def test_redirect_target_on_the_same_host_gets_nothing_either(
    server: ScriptedServer,
) -> None:
    server.routes["/oauth2/token"] = redirect(307, "/oauth2/elsewhere")
    server.routes["/oauth2/elsewhere"] = respond(200, GOOD_TOKENS)
    with pytest.raises(CognitoConnectionError, match="redirect"):
        get_cognito_tokens(CODE, config=token_config(server.url))
    assert server.count("/oauth2/elsewhere") == 0


# -- the JWKS endpoint --------------------------------------------------------------------


def fast(issuer: Issuer) -> CognitoConfig:
    return replace(issuer.config, timeout=TIMEOUT)


@pytest.mark.slow  # each fault is waited out until its timeout
@pytest.mark.parametrize("fault", FAULTS, ids=FAULT_IDS)
def test_jwks_fault_on_first_fetch_is_a_connection_error_within_the_timeout(
    fault: Fault, issuer: Issuer, other: ScriptedServer
) -> None:
    other.routes["/steal"] = respond(200, {"keys": [issuer.spare[0].jwk(kid=issuer.key.kid)]})
    config = fast(issuer)
    if fault.make is None:
        config = replace(config, jwks_url=f"http://127.0.0.1:{closed_port()}/jwks.json")
    else:
        issuer.server.routes[issuer.jwks_path] = fault.make(other.url)
    cache = jwks_cache(config.jwks_url, timeout=TIMEOUT)
    cache.cooldown = 0  # so the recovery below is not held back by the cool-down
    token = issuer.token("id")
    before = _threads()
    error, elapsed = timed(lambda: decode_verify_jwt(token, config=config))
    assert type(error) is CognitoConnectionError, repr(error)
    assert elapsed < TIMEOUT + SLACK, f"took {elapsed:.2f} s"
    assert other.requests == []
    assert_no_thread_left(before)
    if fault.make is not None:  # the endpoint recovers, and so does verification
        issuer.server.routes[issuer.jwks_path] = respond(200, {"keys": issuer.jwks})
        assert decode_verify_jwt(token, config=config)["token_use"] == "id"


@pytest.mark.slow  # each fault is waited out until its timeout
@pytest.mark.parametrize("fault", FAULTS, ids=FAULT_IDS)
def test_jwks_fault_during_refresh_keeps_the_cached_keys_serving(
    fault: Fault, issuer: Issuer, other: ScriptedServer
) -> None:
    config = fast(issuer)
    token = issuer.token("id")
    decode_verify_jwt(token, config=config)
    if fault.make is None:
        issuer.server.__exit__()  # the same URL now refuses connections
    else:
        issuer.server.routes[issuer.jwks_path] = fault.make(other.url)
    jwks_cache(config.jwks_url).ttl = 0  # every call now wants a refresh
    before = _threads()
    for _ in range(3):
        error, elapsed = timed(lambda: decode_verify_jwt(token, config=config))
        assert error is None, repr(error)
        assert elapsed < TIMEOUT + SLACK, f"took {elapsed:.2f} s"
    assert other.requests == []
    if fault.make is not None:
        assert issuer.fetches == 2, "a failed refresh is retried after the cool-down only"
    assert_no_thread_left(before)


ROTATION_FAULTS = [
    f
    for f in FAULTS
    if f.name
    in (
        "accept-then-silence",
        "slow-drip-of-status-line-and-headers",
        "reset-mid-body",
        "302-to-another-host",
        "503",
        "truncated-json",
    )
]


@pytest.mark.slow  # each fault is waited out until its timeout
@pytest.mark.parametrize("fault", ROTATION_FAULTS, ids=[f.name for f in ROTATION_FAULTS])
def test_while_the_jwks_endpoint_fails_a_new_kid_is_a_connection_error_not_a_rejection(
    fault: Fault, issuer: Issuer, other: ScriptedServer
) -> None:
    config = fast(issuer)
    decode_verify_jwt(issuer.token("id"), config=config)
    cache = jwks_cache(config.jwks_url)
    cache.cooldown = 0.6
    # The pool rotates in a new key; its JWKS endpoint breaks at the same moment.
    new = issuer.spare[0]
    issuer.jwks = [issuer.key.jwk(), new.jwk()]
    assert fault.make is not None
    issuer.server.routes[issuer.jwks_path] = fault.make(other.url)
    for _ in range(3):  # the first call tries the fetch; the others are in the cool-down
        error, elapsed = timed(
            lambda: decode_verify_jwt(issuer.token("id", key=new), config=config)
        )
        assert type(error) is CognitoConnectionError, repr(error)  # 503, not a 401
        assert elapsed < TIMEOUT + SLACK
    assert issuer.fetches == 2
    # The old key still serves, and the new one works once the endpoint is back.
    assert decode_verify_jwt(issuer.token("id"), config=config)["token_use"] == "id"
    issuer.server.routes[issuer.jwks_path] = respond(200, {"keys": issuer.jwks})
    time.sleep(cache.cooldown + 0.05)
    assert decode_verify_jwt(issuer.token("id", key=new), config=config)["token_use"] == "id"


def test_jwks_fetch_never_follows_a_redirect_to_attacker_keys(
    issuer: Issuer, other: ScriptedServer
) -> None:
    attacker = issuer.spare[0]
    other.routes["/steal"] = respond(200, {"keys": [attacker.jwk(kid=issuer.key.kid)]})
    issuer.server.routes[issuer.jwks_path] = redirect(302, other.url + "/steal")
    forged = issuer.token("id", key=attacker, header={"kid": issuer.key.kid})
    with pytest.raises(CognitoConnectionError, match="302"):
        decode_verify_jwt(forged, config=fast(issuer))
    assert other.requests == []
