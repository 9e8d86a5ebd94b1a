"""The ALB key cache: each kid's key fetched once, rotations, a failure remembered per kid and
cooled down, new kids fetched within a budget, and what a key endpoint may answer."""

from __future__ import annotations

import time
import uuid
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from cognito_helper import CognitoConnectionError, MalformedTokenError, UnknownKeyError
from cognito_helper.testing import LocalALB
from cognito_helper.verification.alb import AlbKeyCache, alb_key_cache, verify_alb_jwt
from cognito_helper.verification.alb_keys import (
    DEFAULT_FETCH_BURST,
    DEFAULT_FETCH_RATE,
    MAX_FAILED_KIDS,
)

from .alb_support import ARN, NO_SUCH_KID, P384_KEY, RSA_KEY, alb_doc_section
from .helpers import run_in_threads
from .servers import ScriptedServer, closed_port, hold, redirect, respond

# -- keys: fetched once per kid, floods and failures bounded ------------------------------------


@pytest.fixture
def alb() -> Iterator[LocalALB]:
    with LocalALB(alb_arn=ARN) as alb:
        yield alb


def test_a_kids_key_is_fetched_once_for_many_tokens(alb: LocalALB) -> None:
    for i in range(20):
        verify_alb_jwt(alb.mint(f"user{i}"), **alb.verify_options)
    assert alb.requests_seen == [("GET", f"/{alb.kid}")]


def test_a_rotated_key_is_fetched_once_and_the_old_one_keeps_working(alb: LocalALB) -> None:
    old = alb.mint()
    verify_alb_jwt(old, **alb.verify_options)
    alb.rotate_key()
    new = alb.mint()
    for _ in range(3):
        verify_alb_jwt(new, **alb.verify_options)
        verify_alb_jwt(old, **alb.verify_options)
    assert alb.key_requests == 2
    assert verify_alb_jwt(alb.mint(key="previous"), **alb.verify_options)


@pytest.mark.slow  # threads racing for a first fetch
def test_concurrent_first_use_of_a_kid_makes_one_fetch() -> None:
    alb = LocalALB(alb_arn=ARN)
    pem = alb.public_pem()
    with ScriptedServer() as server:

        def slow_pem(h: Any) -> None:
            time.sleep(0.3)  # long enough for every thread to be waiting for this fetch
            respond(200, pem, "text/plain")(h)

        server.routes[f"/keys/{alb.kid}"] = slow_pem
        options = dict(alb_arn=ARN, key_url=server.url + "/keys/{kid}")
        token = alb.mint()
        assert run_in_threads(16, lambda: verify_alb_jwt(token, **options)) == []
        assert server.count(f"/keys/{alb.kid}") == 1


def test_a_held_key_keeps_verifying_during_the_cooldown(alb: LocalALB) -> None:
    verify_alb_jwt(alb.mint(), **alb.verify_options)
    with pytest.raises(UnknownKeyError):
        verify_alb_jwt(alb.mint(header={"kid": NO_SUCH_KID}), **alb.verify_options)
    assert verify_alb_jwt(alb.mint("bob"), **alb.verify_options)["username"] == "bob"
    assert alb.key_requests == 2


# -- new kids: a failure remembered per kid, fetches within a budget (issue 19 S1) --------------

FORGER = ec.generate_private_key(ec.SECP256R1())  # a P-256 key no ALB published


class Clock:
    """The ALB key cache's monotonic clock, moved by hand: cool-downs and the fetch budget."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(alb: LocalALB) -> Clock:
    """The process-wide key cache of ``alb``'s key URL, on a clock the test moves."""
    fake = Clock()
    alb_key_cache(alb.key_url).clock = fake
    return fake


def _forged(alb: LocalALB, kid: Optional[str] = None) -> str:
    """What anyone can send: the ALB's public signer, a made-up UUID kid, a signature by a key
    the ALB never published."""
    return alb.mint(header={"kid": kid or str(uuid.uuid4())}, key=FORGER)


def test_a_forged_kid_does_not_lock_out_a_genuine_new_kid(alb: LocalALB) -> None:
    """The 404 of a made-up kid refuses that kid alone: the ALB's next kid is fetched."""
    assert verify_alb_jwt(alb.mint(), **alb.verify_options)
    with pytest.raises(UnknownKeyError):
        verify_alb_jwt(_forged(alb), **alb.verify_options)
    alb.rotate_key()
    assert verify_alb_jwt(alb.mint("bob"), **alb.verify_options)["username"] == "bob"
    assert alb.key_requests == 3


def test_a_kid_that_failed_is_not_fetched_again_within_its_cooldown(
    alb: LocalALB, clock: Clock
) -> None:
    cooldown = alb_key_cache(alb.key_url).cooldown
    forged = _forged(alb, NO_SUCH_KID)
    with pytest.raises(UnknownKeyError, match="has no key"):
        verify_alb_jwt(forged, **alb.verify_options)
    for _ in range(5):
        with pytest.raises(UnknownKeyError, match="asked again after"):
            verify_alb_jwt(forged, **alb.verify_options)
    assert alb.requests_seen == [("GET", f"/{NO_SUCH_KID}")]
    clock.advance(cooldown - 0.5)
    with pytest.raises(UnknownKeyError):
        verify_alb_jwt(forged, **alb.verify_options)
    assert alb.key_requests == 1
    assert verify_alb_jwt(alb.mint(), **alb.verify_options)  # another kid: fetched meanwhile
    assert alb.key_requests == 2
    clock.advance(0.5)  # the cool-down is over: the kid is asked for once more
    with pytest.raises(UnknownKeyError):
        verify_alb_jwt(forged, **alb.verify_options)
    assert alb.requests_seen[2:] == [("GET", f"/{NO_SUCH_KID}")]


def test_the_failed_kids_remembered_are_bounded(alb: LocalALB, clock: Clock) -> None:
    """An attacker sends unlimited random kids: the memory of failures keeps the newest."""
    cache = alb_key_cache(alb.key_url)
    cache.max_failed_kids = 4
    kids = [str(uuid.UUID(int=i, version=4)) for i in range(1, 9)]
    for kid in kids:
        with pytest.raises(UnknownKeyError):
            verify_alb_jwt(_forged(alb, kid), **alb.verify_options)
    assert cache.failed_kids == tuple(kids[-4:])
    with pytest.raises(UnknownKeyError):
        verify_alb_jwt(_forged(alb, kids[-1]), **alb.verify_options)
    assert alb.key_requests == 8  # still remembered: no request
    with pytest.raises(UnknownKeyError):
        verify_alb_jwt(_forged(alb, kids[0]), **alb.verify_options)
    assert alb.key_requests == 9  # forgotten for room: asked again (within the budget)
    clock.advance(cache.cooldown)
    with pytest.raises(UnknownKeyError):
        verify_alb_jwt(_forged(alb, NO_SUCH_KID), **alb.verify_options)
    assert cache.failed_kids == (NO_SUCH_KID,)  # the ended cool-downs are dropped first


def test_when_the_fetch_budget_is_spent_a_new_kid_is_a_connection_error(
    alb: LocalALB, clock: Clock
) -> None:
    """Never a 401 for a kid not asked about: a 503 (try later) until the budget refills."""
    cache = alb_key_cache(alb.key_url)
    assert (cache.fetch_burst, cache.fetch_rate) == (DEFAULT_FETCH_BURST, DEFAULT_FETCH_RATE)
    assert verify_alb_jwt(alb.mint(), **alb.verify_options)
    for _ in range(DEFAULT_FETCH_BURST - 1):
        with pytest.raises(UnknownKeyError):
            verify_alb_jwt(_forged(alb), **alb.verify_options)
    alb.rotate_key()
    token = alb.mint("bob")
    for forged_first in (True, False):
        with pytest.raises(CognitoConnectionError, match=r"try again in 1\.0 s"):
            verify_alb_jwt(_forged(alb) if forged_first else token, **alb.verify_options)
    assert verify_alb_jwt(alb.mint(key="previous"), **alb.verify_options)  # a held key verifies
    assert alb.key_requests == DEFAULT_FETCH_BURST
    clock.advance(0.5)
    with pytest.raises(CognitoConnectionError, match=r"try again in 0\.5 s"):
        verify_alb_jwt(token, **alb.verify_options)
    clock.advance(0.5)
    assert verify_alb_jwt(token, **alb.verify_options)["username"] == "bob"
    assert alb.key_requests == DEFAULT_FETCH_BURST + 1


def test_a_steady_forger_does_not_stop_a_genuine_user_across_a_rotation(
    alb: LocalALB, clock: Clock
) -> None:
    """Issue 19's scenario on the cache's clock, at a rate the budget sustains: a forged
    request each second (a new random kid), a genuine user twice a second, 25 s, the ALB
    rotating its key after 5 s. Before: after the first forgery every new kid was a 401 for
    the cool-down, so the rotated kid was refused for as long as the forgeries went on."""
    outcomes: List[str] = []
    for tick in range(50):  # half seconds
        if tick == 10:
            alb.rotate_key()
        if tick % 2 == 0:
            with pytest.raises(UnknownKeyError):
                verify_alb_jwt(_forged(alb), **alb.verify_options)
        outcomes.append(verify_alb_jwt(alb.mint("alice"), **alb.verify_options)["username"])
        clock.advance(0.5)
    assert outcomes == ["alice"] * 50
    assert alb.key_requests == 25 + 2  # each forged kid once, each genuine kid once


def test_a_flood_of_forged_kids_gives_a_genuine_new_kid_503s_never_401s(
    alb: LocalALB, clock: Clock
) -> None:
    """The issue's measured flood (5 forged requests a second, a genuine user at 2 a second,
    25 s, a rotation after 5 s), faster than the budget refills: the genuine user may be told
    to try later while the forgeries take the fetches, never that the kid is unknown, and the
    key requests stay within the budget; once the flood stops the new kid verifies."""
    verdicts: Dict[str, int] = {}
    for step in range(250):  # tenths of a second
        if step == 50:
            alb.rotate_key()
        if step % 2 == 0:
            with pytest.raises((UnknownKeyError, CognitoConnectionError)):
                verify_alb_jwt(_forged(alb), **alb.verify_options)
        if step % 5 == 1:
            try:
                verify_alb_jwt(alb.mint("alice"), **alb.verify_options)
                verdicts["verified"] = verdicts.get("verified", 0) + 1
            except CognitoConnectionError:
                verdicts["try later"] = verdicts.get("try later", 0) + 1
        clock.advance(0.1)
    assert sum(verdicts.values()) == 50  # no 401: UnknownKeyError would have escaped
    assert alb.key_requests <= DEFAULT_FETCH_BURST + 25 * DEFAULT_FETCH_RATE + 1
    clock.advance(1.5 / DEFAULT_FETCH_RATE)
    assert verify_alb_jwt(alb.mint("alice"), **alb.verify_options)


def test_the_budget_cooldown_and_clock_are_options_of_the_key_cache(alb: LocalALB) -> None:
    fake = Clock()
    cache = AlbKeyCache(
        alb.key_url, cooldown=2, fetch_burst=2, fetch_rate=0.5, max_failed_kids=8, clock=fake
    )
    for kid in (NO_SUCH_KID, str(uuid.uuid4())):
        with pytest.raises(UnknownKeyError):
            cache.get_key(kid)
    with pytest.raises(CognitoConnectionError, match=r"try again in 2\.0 s"):
        cache.get_key(alb.kid)
    fake.advance(1.5)
    with pytest.raises(UnknownKeyError):  # remembered: refused without spending the budget
        cache.get_key(NO_SUCH_KID)
    with pytest.raises(CognitoConnectionError, match=r"try again in 0\.5 s"):
        cache.get_key(alb.kid)
    fake.advance(0.5)
    assert cache.get_key(alb.kid).kid == alb.kid
    assert alb.key_requests == cache.fetches == 3


@pytest.mark.parametrize(
    "option",
    [
        {"fetch_burst": 0},
        {"fetch_burst": 1.5},
        {"fetch_burst": True},
        {"fetch_rate": 0},
        {"fetch_rate": -1.0},
        {"fetch_rate": float("nan")},
        {"fetch_rate": float("inf")},
        {"fetch_rate": "1"},
        {"max_failed_kids": 0},
        {"cooldown": -1},
    ],
    ids=str,
)
def test_a_bad_key_cache_option_is_a_value_error(option: Dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        AlbKeyCache("https://keys.example.com/{kid}", **option)


def test_a_key_endpoint_that_fails_cools_down_every_new_kid(key_server: ScriptedServer) -> None:
    """A 5xx or an unreachable endpoint is the endpoint being down, not a kid's absence (no
    kid an attacker chooses makes it fail): fetching stops for every kid for the cool-down."""
    alb = LocalALB(alb_arn=ARN)
    key_url = key_server.url + "/k/{kid}"
    key_server.routes[f"/k/{NO_SUCH_KID}"] = _served(b"busy", 503)
    key_server.routes[f"/k/{alb.kid}"] = _served(alb.public_pem())
    with pytest.raises(CognitoConnectionError, match="HTTP 503"):
        verify_alb_jwt(_forged(alb, NO_SUCH_KID), alb_arn=ARN, key_url=key_url)
    with pytest.raises(CognitoConnectionError, match="failed moments ago"):
        verify_alb_jwt(alb.mint(), alb_arn=ARN, key_url=key_url)
    assert len(key_server.requests) == 1
    alb_key_cache(key_url).penalty_box.release()  # the cool-down is over
    assert verify_alb_jwt(alb.mint(), alb_arn=ARN, key_url=key_url)


def test_the_docs_give_the_fetch_budget_the_key_cache_has() -> None:
    assert (DEFAULT_FETCH_BURST, DEFAULT_FETCH_RATE, MAX_FAILED_KIDS) == (10, 1.0, 1024)
    readme, security = alb_doc_section("README.md"), alb_doc_section("SECURITY.md")
    for section in (readme, security):
        assert "10 at once, then one a second" in section
        assert "never another" in section or "never refuses another" in section
    assert "`fetch_burst` and `fetch_rate`" in readme
    assert "AlbKeyCache(fetch_burst=10, fetch_rate=1.0)" in security
    assert "at most 1,024 failed kids" in security


def test_a_call_out_of_time_before_its_fetch_leaves_other_calls_free_to_fetch(
    alb: LocalALB,
) -> None:
    """No request was made, so nothing says the endpoint fails: no cool-down follows."""
    with pytest.raises(CognitoConnectionError, match="time ran out"):
        verify_alb_jwt(alb.mint(), **alb.verify_options, timeout=1e-9)
    assert alb.key_requests == 0
    assert verify_alb_jwt(alb.mint(), **alb.verify_options)
    assert alb.key_requests == 1


def test_a_kid_that_is_not_a_uuid_is_refused_even_where_a_key_is_served(
    key_server: ScriptedServer,
) -> None:
    """An ALB's kids are UUIDs (aws-jwt-verify refuses any other): no request for another."""
    alb = LocalALB(alb_arn=ARN)
    key_server.routes["/k/my-key_1"] = _served(alb.public_pem())
    token = alb.mint(header={"kid": "my-key_1"})
    with pytest.raises(MalformedTokenError, match="UUID"):
        verify_alb_jwt(token, alb_arn=ARN, key_url=key_server.url + "/k/{kid}")
    cache = alb_key_cache(key_server.url + "/k/{kid}")
    for kid in ("my-key_1", "../k/" + alb.kid, alb.kid + "/x", 7):
        with pytest.raises(UnknownKeyError):
            cache.get_key(kid)  # type: ignore[arg-type]
    assert key_server.requests == []
    key_server.routes[f"/k/{alb.kid.upper()}"] = _served(alb.public_pem())
    upper = alb.mint(header={"kid": alb.kid.upper()})  # a UUID in capitals is still one
    assert verify_alb_jwt(upper, alb_arn=ARN, key_url=key_server.url + "/k/{kid}")


def test_a_kid_withdrawn_by_the_alb_is_unknown() -> None:
    with LocalALB(alb_arn=ARN) as alb:
        token = alb.mint()
        alb.rotate_key(keep_old=False)
        with pytest.raises(UnknownKeyError):
            verify_alb_jwt(token, **alb.verify_options)


def _served(body: Any, status: int = 200, content_type: str = "text/plain") -> Any:
    return respond(status, body, content_type)


@pytest.fixture
def key_server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


def _verify_from(server: ScriptedServer, alb: LocalALB, **options: Any) -> Any:
    return verify_alb_jwt(
        alb.mint(), alb_arn=alb.alb_arn, key_url=server.url + "/k/{kid}", **options
    )


def _other_key_pem(key: Any) -> bytes:
    return key.public_key().public_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _private_pem(key: Any) -> bytes:
    return key.private_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.mark.parametrize("status", [500, 502, 503, 429, 400, 401], ids=lambda s: f"http-{s}")
def test_a_failing_key_endpoint_is_a_connection_error(
    key_server: ScriptedServer, status: int
) -> None:
    alb = LocalALB(alb_arn=ARN)
    key_server.routes[f"/k/{alb.kid}"] = _served(b"busy", status)
    with pytest.raises(CognitoConnectionError):
        _verify_from(key_server, alb)


@pytest.mark.parametrize("status", [403, 404])
def test_a_kid_the_endpoint_does_not_have_is_unknown(
    key_server: ScriptedServer, status: int
) -> None:
    alb = LocalALB(alb_arn=ARN)
    key_server.routes[f"/k/{alb.kid}"] = _served(b"<Error/>", status, "application/xml")
    with pytest.raises(UnknownKeyError):
        _verify_from(key_server, alb)


def test_a_key_endpoint_that_is_down_is_a_connection_error_and_cools_down() -> None:
    alb = LocalALB(alb_arn=ARN)
    key_url = f"http://127.0.0.1:{closed_port()}/{{kid}}"
    with pytest.raises(CognitoConnectionError):
        verify_alb_jwt(alb.mint(), alb_arn=ARN, key_url=key_url)
    with pytest.raises(CognitoConnectionError, match="failed moments ago"):
        verify_alb_jwt(alb.mint(header={"kid": NO_SUCH_KID}), alb_arn=ARN, key_url=key_url)
    assert alb_key_cache(key_url).fetches == 1


def test_a_slow_key_endpoint_is_given_up_on_at_the_timeout(key_server: ScriptedServer) -> None:
    alb = LocalALB(alb_arn=ARN)
    key_server.routes[f"/k/{alb.kid}"] = hold(10)
    with pytest.raises(CognitoConnectionError):
        _verify_from(key_server, alb, timeout=0.2)


def test_a_redirect_from_the_key_endpoint_is_not_followed(key_server: ScriptedServer) -> None:
    alb = LocalALB(alb_arn=ARN)
    key_server.routes[f"/k/{alb.kid}"] = redirect(302, key_server.url + "/elsewhere")
    key_server.routes["/elsewhere"] = _served(alb.public_pem())
    with pytest.raises(CognitoConnectionError):
        _verify_from(key_server, alb)
    assert key_server.count("/elsewhere") == 0


def test_an_oversized_key_answer_is_refused(key_server: ScriptedServer) -> None:
    alb = LocalALB(alb_arn=ARN)
    key_server.routes[f"/k/{alb.kid}"] = _served(alb.public_pem() + b" " * (1 << 20))
    with pytest.raises(CognitoConnectionError):
        _verify_from(key_server, alb)


@pytest.mark.parametrize(
    "body",
    [
        b"<html>captive portal</html>",
        b"",
        b"-----BEGIN PUBLIC KEY-----\nnot base64 at all!\n-----END PUBLIC KEY-----\n",
        b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    ],
    ids=["html", "empty", "not-base64", "not-a-key"],
)
def test_a_key_answer_that_is_no_pem_key_is_a_connection_error(
    key_server: ScriptedServer, body: bytes
) -> None:
    alb = LocalALB(alb_arn=ARN)
    key_server.routes[f"/k/{alb.kid}"] = _served(body)
    with pytest.raises(CognitoConnectionError):
        _verify_from(key_server, alb)


def test_two_pem_blocks_are_refused(key_server: ScriptedServer) -> None:
    alb = LocalALB(alb_arn=ARN)
    key_server.routes[f"/k/{alb.kid}"] = _served(alb.public_pem() + alb.public_pem())
    with pytest.raises(CognitoConnectionError):
        _verify_from(key_server, alb)


@pytest.mark.parametrize(
    "make_pem",
    [
        lambda alb: _other_key_pem(RSA_KEY),
        lambda alb: _other_key_pem(P384_KEY),
        lambda alb: _other_key_pem(ed25519.Ed25519PrivateKey.generate()),
        lambda alb: _private_pem(alb.private_key),
        lambda alb: b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ],
    ids=["rsa", "p384", "ed25519", "the-private-key", "certificate"],
)
def test_a_key_that_is_not_p256_public_is_unknown(
    key_server: ScriptedServer, make_pem: Callable[[LocalALB], bytes]
) -> None:
    alb = LocalALB(alb_arn=ARN)
    key_server.routes[f"/k/{alb.kid}"] = _served(make_pem(alb))
    with pytest.raises(UnknownKeyError):
        _verify_from(key_server, alb)


def test_a_pem_with_crlf_line_ends_is_read(key_server: ScriptedServer) -> None:
    alb = LocalALB(alb_arn=ARN)
    key_server.routes[f"/k/{alb.kid}"] = _served(alb.public_pem().replace(b"\n", b"\r\n"))
    assert _verify_from(key_server, alb)["username"] == "local-user"
