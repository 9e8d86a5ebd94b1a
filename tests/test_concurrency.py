"""Concurrency: many threads verifying and refreshing while keys rotate and the JWKS flaps.

The stress test runs for a few seconds (``COGNITO_HELPER_STRESS_SECONDS`` makes it longer) and
asserts: zero false rejects of validly signed tokens of a published key, zero unexpected
exception types, no deadlock (every thread ends within its bound), and one JWKS fetch per real
change plus at most one failed fetch per cool-down. The shorter tests pin down the races one
at a time, and the default-config switch.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import time
from collections import Counter
from dataclasses import replace
from typing import Any, Callable, List, Optional

import pytest

from cognito_helper import (
    CognitoConnectionError,
    InvalidClaimsError,
    TokenVerificationError,
    configure,
    decode_verify_jwt,
    get_cognito_tokens,
    get_config,
    jwks_cache,
)
from cognito_helper.core import http as _http
from cognito_helper.testing import LocalCognito

from .conftest import Issuer
from .helpers import MakeLocalCognito, sign_in
from .servers import Handler, hold, reset_mid_body, respond, send
from .tokens import CLIENT, KeyPair

pytestmark = pytest.mark.slow  # threads for seconds: the stress test and the races

STRESS_SECONDS = float(os.environ.get("COGNITO_HELPER_STRESS_SECONDS", "3"))
WORKERS = 16


class FlappingJwks:
    """The pool's JWKS endpoint, which the test rotates and breaks while threads use it.

    Each answer is decided when the request arrives: the keys published at that moment, or
    the failure installed then. ``good`` and ``failed`` count the answers of each kind.
    """

    FAILURES = (
        respond(500, {"message": "boom"}),
        reset_mid_body(),
        hold(5),
        respond(200, b"<html>maintenance</html>", "text/html"),
    )

    def __init__(self, issuer: Issuer, latency: float) -> None:
        self.issuer = issuer
        self.latency = latency
        self.failure: Optional[Callable[[Handler], None]] = None
        self.good = 0
        self.failed = 0
        self.lock = threading.Lock()
        issuer.server.routes[issuer.jwks_path] = self

    def __call__(self, h: Handler) -> None:
        with self.lock:
            failure = self.failure
            body = json.dumps({"keys": list(self.issuer.jwks)}).encode()
            if failure is None:
                self.good += 1
            else:
                self.failed += 1
        time.sleep(self.latency)  # what the answer says was fixed when the request came in
        if failure is None:
            send(h, 200, body)
        else:
            failure(h)


def renamed(key: KeyPair, kid: str) -> KeyPair:
    """The same key material under another kid: a new key, as far as the JWKS is concerned."""
    twin = copy.copy(key)
    twin.kid = kid
    return twin


def join_all(threads: List[threading.Thread], bound: float) -> None:
    deadline = time.monotonic() + bound
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"deadlock or hang: {stuck} still running after {bound} s"


def refresh_token_for(lc: LocalCognito) -> str:
    """A new sign-in's refresh token."""
    got = sign_in(lc)
    tokens = get_cognito_tokens(got.code, config=lc.config, code_verifier=got.code_verifier)
    assert tokens.refresh_token is not None
    return tokens.refresh_token


def test_sixteen_threads_verify_and_refresh_through_rotations_and_flaps(
    issuer: Issuer, make_lc: MakeLocalCognito
) -> None:
    lc = make_lc(refresh_token_rotation=True, token_lifetime=3600)
    config = replace(issuer.config, timeout=0.5)
    cache = jwks_cache(config.jwks_url, timeout=config.timeout)
    cache.cooldown = 0.25
    jwks = FlappingJwks(issuer, latency=0.01)
    base = issuer.key
    keys = [renamed(base, "rot-0")]
    issuer.jwks = [keys[0].jwk()]
    current = [keys[0]]  # the key tokens are signed with now; always published before use

    refresh_tokens = [refresh_token_for(lc) for _ in range(4)]
    lc_requests_before = lc.jwks_requests

    stop = threading.Event()
    lock = threading.Lock()
    outcomes: Counter[str] = Counter()
    false_rejects: List[str] = []
    unexpected: List[str] = []
    verified_kids: set = set()

    def verifier(n: int) -> None:
        while not stop.is_set():
            key = current[0]
            token = key.token(issuer.claims("id" if n % 2 else "access"))
            for _ in range(2):  # the second time may come from the verification memo
                try:
                    decode_verify_jwt(token, config=config)
                    with lock:
                        outcomes["verified"] += 1
                        verified_kids.add(key.kid)
                except CognitoConnectionError:
                    with lock:
                        outcomes["unreachable"] += 1  # 503: the JWKS is down; allowed
                    time.sleep(0.005)
                except TokenVerificationError as exc:
                    with lock:
                        false_rejects.append(f"{key.kid}: {type(exc).__name__}: {exc}")
                except Exception as exc:
                    with lock:
                        unexpected.append(f"{type(exc).__name__}: {exc}")

    def refresher(n: int) -> None:
        refresh_token = refresh_tokens[n]
        while not stop.is_set():
            try:
                tokens = get_cognito_tokens(refresh_token=refresh_token, config=lc.config)
                assert tokens.id_token is not None and tokens.refresh_token is not None
                refresh_token = tokens.refresh_token  # rotation: the old one is dead now
                decode_verify_jwt(tokens.id_token, config=lc.config, token_use="id")
                decode_verify_jwt(tokens.access_token, config=lc.config, token_use="access")
                with lock:
                    outcomes["refreshed"] += 1
            except Exception as exc:
                with lock:
                    unexpected.append(f"refresher {type(exc).__name__}: {exc}")

    threads = [
        threading.Thread(target=verifier, args=(i,), name=f"verifier-{i}")
        for i in range(WORKERS - 4)
    ] + [threading.Thread(target=refresher, args=(i,), name=f"refresher-{i}") for i in range(4)]
    started = time.monotonic()
    for t in threads:
        t.start()

    rotations = flaps = lc_rotations = 0
    step = 0
    while time.monotonic() - started < STRESS_SECONDS:
        time.sleep(0.1)
        step += 1
        if step % 4 == 0:  # rotate: publish a new key (keep the last three), then use it
            new = renamed(base, f"rot-{len(keys)}")
            keys.append(new)
            issuer.jwks = [k.jwk() for k in keys[-3:]]
            current[0] = new
            rotations += 1
        if step % 10 == 2:  # flap: the endpoint breaks for a while, in one of several ways
            jwks.failure = FlappingJwks.FAILURES[flaps % len(FlappingJwks.FAILURES)]
            flaps += 1
        elif step % 10 == 5:
            jwks.failure = None
        if step % 10 == 5 and lc_rotations < 2:
            lc.rotate_keys(keep_old=True)
            lc_rotations += 1
    jwks.failure = None
    stop.set()
    join_all(threads, bound=10)
    elapsed = time.monotonic() - started

    print(
        f"{elapsed:.1f} s, {rotations} rotations, {flaps} flaps, {dict(outcomes)}, "
        f"JWKS fetches: {jwks.good} good, {jwks.failed} failed; kids {len(verified_kids)}"
    )
    assert unexpected == []
    assert false_rejects == []
    assert lc.server_errors == []
    assert outcomes["verified"] > 100 and outcomes["refreshed"] > 10, outcomes
    assert len(verified_kids) >= rotations // 2, "the rotations were not exercised"
    # One fetch per real change: the initial keys and each rotation; the failed fetches are
    # bounded by the cool-down (each failure starts one; none is attempted inside it).
    assert jwks.good <= 1 + rotations, (jwks.good, rotations)
    assert jwks.failed <= elapsed / cache.cooldown + 1, (jwks.failed, elapsed)
    assert cache.fetches == jwks.good + jwks.failed
    assert lc.jwks_requests - lc_requests_before <= 1 + lc_rotations


def test_a_key_published_while_a_refresh_is_under_way_is_still_found(issuer: Issuer) -> None:
    """A thread that misses a kid while an older fetch is in flight must not be answered by
    that fetch (it began before the key was published): it fetches again."""
    config = issuer.config
    decode_verify_jwt(issuer.token("id"), config=config)
    jwks = FlappingJwks(issuer, latency=0.4)
    jwks_cache(config.jwks_url).ttl = 0  # the next verification refreshes, slowly
    refreshing = threading.Thread(
        target=decode_verify_jwt, args=(issuer.token("id"),), kwargs={"config": config}
    )
    refreshing.start()
    deadline = time.monotonic() + 2
    while jwks.good == 0 and time.monotonic() < deadline:
        time.sleep(0.005)  # the refresh's request has arrived: its answer is fixed
    new = issuer.spare[0]
    issuer.jwks = [issuer.key.jwk(), new.jwk()]
    jwks_cache(config.jwks_url).ttl = 3600
    result: List[Any] = []

    def verify_new() -> None:
        try:
            result.append(decode_verify_jwt(issuer.token("id", key=new), config=config))
        except Exception as exc:
            result.append(exc)

    late = threading.Thread(target=verify_new)
    late.start()
    join_all([refreshing, late], bound=5)
    assert isinstance(result[0], dict), repr(result[0])
    assert jwks.good == 2


def test_concurrent_misses_of_a_new_kid_share_one_fetch(issuer: Issuer) -> None:
    config = issuer.config
    decode_verify_jwt(issuer.token("id"), config=config)
    jwks = FlappingJwks(issuer, latency=0.1)
    new = issuer.spare[0]
    issuer.jwks = [issuer.key.jwk(), new.jwk()]
    tokens = [issuer.token("id", key=new) for _ in range(WORKERS)]
    barrier = threading.Barrier(WORKERS)
    results: List[Any] = []

    def work(token: str) -> None:
        barrier.wait()
        try:
            results.append(decode_verify_jwt(token, config=config)["token_use"])
        except Exception as exc:
            results.append(repr(exc))

    threads = [threading.Thread(target=work, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    join_all(threads, bound=10)
    assert results == ["id"] * WORKERS
    assert jwks.good == 1


def test_shared_session_is_created_once_for_many_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_http, "_session", None)
    barrier = threading.Barrier(WORKERS)
    seen: List[int] = []

    def work() -> None:
        barrier.wait()
        seen.append(id(_http.session()))

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for t in threads:
        t.start()
    join_all(threads, bound=5)
    assert len(seen) == WORKERS and len(set(seen)) == 1


def test_shared_session_serves_many_threads_at_once(make_lc: MakeLocalCognito) -> None:
    lc = make_lc(refresh_token_rotation=True, token_lifetime=3600)
    barrier = threading.Barrier(WORKERS)
    results: List[Any] = []
    refresh_tokens = [refresh_token_for(lc) for _ in range(WORKERS)]

    def work(refresh_token: str) -> None:
        barrier.wait()
        try:
            for _ in range(5):
                tokens = get_cognito_tokens(refresh_token=refresh_token, config=lc.config)
                assert tokens.refresh_token is not None
                refresh_token = tokens.refresh_token
                claims = decode_verify_jwt(tokens.access_token, config=lc.config)
                results.append(claims["username"])
        except Exception as exc:
            results.append(repr(exc))

    threads = [threading.Thread(target=work, args=(rt,)) for rt in refresh_tokens]
    for t in threads:
        t.start()
    join_all(threads, bound=20)
    assert results == ["alice"] * (WORKERS * 5)
    # Keep-alive: connections are reused, not one per request.
    assert lc.connections_opened <= 2 * WORKERS + 5


# -- the default-config switch ----------------------------------------------------------------


def test_configure_from_one_thread_while_others_verify_sees_old_or_new_never_broken(
    issuer: Issuer,
) -> None:
    first = issuer.config
    second = replace(issuer.config, client_id="otherclient")
    token = issuer.token("id")  # aud = CLIENT: valid under `first`, refused under `second`
    configure(first)
    decode_verify_jwt(token)
    stop = threading.Event()
    lock = threading.Lock()
    seen: Counter[str] = Counter()
    wrong: List[str] = []

    def verifier() -> None:
        while not stop.is_set():
            try:
                claims = decode_verify_jwt(token)
                outcome = "first" if claims["aud"] == CLIENT else "impossible"
            except InvalidClaimsError as exc:
                outcome = (
                    "second" if exc.claim == "aud" and "otherclient" in str(exc) else repr(exc)
                )
            except Exception as exc:
                outcome = repr(exc)
            config = get_config()
            with lock:
                seen[outcome] += 1
                if outcome not in ("first", "second"):
                    wrong.append(outcome)
                if config not in (first, second):
                    wrong.append(f"get_config() gave {config!r}")

    def switcher() -> None:
        settings = {
            "user_pool_id": first.user_pool_id,
            "client_id": "otherclient",
            "issuer": first.issuer,
            "jwks_url": first.jwks_url,
            "timeout": 2.0,
        }
        i = 0
        while not stop.is_set():
            i += 1
            if i % 3 == 0:
                configure(settings)  # a dict: a new CognitoConfig equal to `second`
            else:
                configure(second if i % 3 == 1 else first)
            time.sleep(0.0005)

    threads = [threading.Thread(target=verifier) for _ in range(WORKERS - 1)]
    threads.append(threading.Thread(target=switcher))
    for t in threads:
        t.start()
    time.sleep(1.0)
    stop.set()
    join_all(threads, bound=10)
    assert wrong == []
    assert seen["first"] > 0 and seen["second"] > 0, seen
