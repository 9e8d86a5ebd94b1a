"""The JWKS cache: one fetch, faults refused, rotation and withdrawal, floods bounded."""

from __future__ import annotations

import json
import threading
import time
from typing import Any, List

import pytest

from cognito_helper import (
    CognitoConnectionError,
    ConfigError,
    InvalidSignatureError,
    UnknownKeyError,
    decode_verify_jwt,
    jwks_cache,
)

from .conftest import Issuer
from .helpers import run_in_threads, verify
from .servers import ScriptedServer, drip, dynamic, hold, reset_mid_body, respond, silent
from .tokens import POOL, KeyPair


def cache(issuer: Issuer) -> Any:
    return jwks_cache(issuer.config.jwks_url, timeout=issuer.config.timeout)


def test_keys_are_fetched_once_for_many_verifications(issuer: Issuer) -> None:
    for _ in range(20):
        verify(issuer, issuer.token("id"))
    assert issuer.fetches == 1


def test_one_cache_is_shared_by_configs_with_the_same_jwks_url(issuer: Issuer) -> None:
    from dataclasses import replace

    other = replace(issuer.config, client_id="otherclient")
    verify(issuer, issuer.token("id"))
    decode_verify_jwt(issuer.token("id", aud="otherclient"), config=other)
    assert issuer.fetches == 1


def test_concurrent_cold_start_makes_one_fetch(issuer: Issuer) -> None:
    token = issuer.token("id")
    assert run_in_threads(32, lambda: verify(issuer, token)) == []
    assert issuer.fetches == 1


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        (respond(500, {"message": "boom"}), "HTTP 500"),
        (respond(404, {"message": "nope"}), "HTTP 404"),
        (respond(302, b"", headers={"Location": "http://127.0.0.1:1/keys"}), "HTTP 302"),
        (respond(200, b"<html>maintenance</html>", "text/html"), "unusable"),
        (respond(200, b'{"keys": [', "application/json"), "unusable"),
        (respond(200, {"nokeys": []}), "keys"),
        (respond(200, {"keys": []}), "no usable"),
        (respond(200, {"keys": "all of them"}), "keys"),
        (respond(200, [1, 2]), "keys"),
        (respond(200, b"{" + b" " * (1 << 20) + b"}"), "larger than"),
    ],
)
def test_bad_jwks_response_is_a_connection_error(
    issuer: Issuer, behaviour: Any, message: str
) -> None:
    issuer.server.routes[issuer.jwks_path] = behaviour
    with pytest.raises(CognitoConnectionError, match=message):
        verify(issuer, issuer.token("id"))


@pytest.mark.slow  # waits out a timeout
@pytest.mark.parametrize(
    "behaviour", [silent(5), drip(1000, 0.05), reset_mid_body()], ids=["silent", "drip", "reset"]
)
def test_jwks_network_faults_fail_within_the_timeout(issuer: Issuer, behaviour: Any) -> None:
    issuer.server.routes[issuer.jwks_path] = behaviour
    started = time.monotonic()
    with pytest.raises(CognitoConnectionError):
        verify(issuer, issuer.token("id"))
    assert time.monotonic() - started < issuer.config.timeout + 1.5


def test_refused_connection_is_a_connection_error(issuer: Issuer) -> None:
    from dataclasses import replace

    config = replace(issuer.config, jwks_url="http://127.0.0.1:9/jwks.json")
    with pytest.raises(CognitoConnectionError, match="could not reach"):
        decode_verify_jwt(issuer.token("id"), config=config)


def test_bad_response_never_replaces_good_keys(issuer: Issuer) -> None:
    verify(issuer, issuer.token("id"))
    cache(issuer).ttl = 0  # every call now wants a refresh
    issuer.server.routes[issuer.jwks_path] = respond(200, {"keys": []})
    assert verify(issuer, issuer.token("id"))["token_use"] == "id"
    assert issuer.fetches == 2


def test_keys_held_keep_working_while_the_endpoint_is_down(issuer: Issuer) -> None:
    verify(issuer, issuer.token("id"))
    cache(issuer).ttl = 0
    issuer.server.routes[issuer.jwks_path] = respond(503, {"message": "down"})
    for _ in range(5):
        assert verify(issuer, issuer.token("id"))["token_use"] == "id"
    # The failed refresh is retried after the cool-down, not on every call.
    assert issuer.fetches == 2


def test_keys_are_refreshed_after_the_ttl(issuer: Issuer) -> None:
    verify(issuer, issuer.token("id"))
    cache(issuer).ttl = 0
    verify(issuer, issuer.token("id"))
    assert issuer.fetches == 2


def test_rotated_key_is_picked_up_by_one_refetch(issuer: Issuer) -> None:
    verify(issuer, issuer.token("id"))
    new = issuer.spare[0]
    issuer.jwks = [issuer.key.jwk(), new.jwk()]
    assert verify(issuer, issuer.token("id", key=new))["token_use"] == "id"
    assert issuer.fetches == 2


def test_rotation_right_after_a_fetch_is_picked_up(issuer: Issuer) -> None:
    verify(issuer, issuer.token("id"))
    issuer.jwks = [issuer.spare[0].jwk()]
    assert verify(issuer, issuer.token("id", key=issuer.spare[0]))["token_use"] == "id"


def test_withdrawn_key_stops_verifying_at_once(issuer: Issuer) -> None:
    old_token = issuer.token("id")
    verify(issuer, old_token)
    new = issuer.spare[0]
    issuer.jwks = [new.jwk()]  # old key withdrawn
    verify(issuer, issuer.token("id", key=new))  # triggers the refetch
    with pytest.raises(UnknownKeyError):
        verify(issuer, old_token)


def test_same_kid_with_new_key_material_uses_the_new_key(issuer: Issuer) -> None:
    verify(issuer, issuer.token("id"))
    impostor = issuer.spare[0]
    issuer.jwks = [impostor.jwk(kid=issuer.key.kid)]
    cache(issuer).ttl = 0
    with pytest.raises(InvalidSignatureError):
        verify(issuer, issuer.token("id"))


def test_unknown_kid_flood_costs_one_fetch_per_cooldown(issuer: Issuer) -> None:
    verify(issuer, issuer.token("id"))
    for i in range(50):
        with pytest.raises(UnknownKeyError):
            verify(issuer, issuer.token("id", header={"kid": f"random-{i}"}))
    assert issuer.fetches == 2
    assert verify(issuer, issuer.token("id"))["token_use"] == "id"


def test_a_call_out_of_time_before_its_fetch_leaves_other_calls_free_to_fetch(
    issuer: Issuer,
) -> None:
    """No request was made, so nothing says the endpoint fails: no cool-down follows, and
    the next unknown kid is looked up (and refused as unknown, not as unreachable)."""
    verify(issuer, issuer.token("id"))
    with pytest.raises(CognitoConnectionError, match="time ran out"):
        cache(issuer).get_key("rotated-in", timeout=1e-9)
    assert issuer.fetches == 1
    with pytest.raises(UnknownKeyError):
        verify(issuer, issuer.token("id", header={"kid": "rotated-in"}))
    assert issuer.fetches == 2


@pytest.mark.slow  # waits out a TTL or cool-down
def test_unknown_kid_refetches_again_after_the_cooldown(issuer: Issuer) -> None:
    verify(issuer, issuer.token("id"))
    cache(issuer).cooldown = 0.2
    with pytest.raises(UnknownKeyError):
        verify(issuer, issuer.token("id", header={"kid": "later"}))
    issuer.jwks = [issuer.key.jwk(), issuer.spare[0].jwk(kid="later")]
    with pytest.raises(UnknownKeyError, match="cooling"):
        verify(issuer, issuer.token("id", key=issuer.spare[0], header={"kid": "later"}))
    time.sleep(0.3)
    token = issuer.token("id", key=issuer.spare[0], header={"kid": "later"})
    assert verify(issuer, token)["token_use"] == "id"


def test_concurrent_unknown_kid_flood_makes_one_fetch(issuer: Issuer) -> None:
    verify(issuer, issuer.token("id"))
    tokens = [issuer.token("id", header={"kid": f"random-{i}"}) for i in range(32)]
    barrier = threading.Barrier(32)
    outcomes: List[str] = []

    def work(token: str) -> None:
        barrier.wait()
        try:
            verify(issuer, token)
            outcomes.append("verified")
        except UnknownKeyError:
            outcomes.append("unknown")
        except BaseException as exc:
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=work, args=(t,)) for t in tokens]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert outcomes == ["unknown"] * 32
    assert issuer.fetches == 2


def test_cold_start_with_endpoint_down_is_a_connection_error_not_401(issuer: Issuer) -> None:
    issuer.server.routes[issuer.jwks_path] = respond(500, {})
    for _ in range(3):
        with pytest.raises(CognitoConnectionError):
            verify(issuer, issuer.token("id"))
    assert issuer.fetches == 1  # later calls wait out the cool-down instead of hammering


def test_cognito_jwks_env_preloads_keys_without_fetching(
    issuer: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COGNITO_USER_POOL_ID", POOL)
    monkeypatch.setenv("COGNITO_JWKS_URL", issuer.config.jwks_url or "")
    monkeypatch.setenv("COGNITO_JWKS", json.dumps({"keys": issuer.jwks}))
    for _ in range(3):
        verify(issuer, issuer.token("id"))
    assert issuer.fetches == 0


def test_invalid_cognito_jwks_env_is_a_config_error(
    issuer: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COGNITO_JWKS", "{not json")
    with pytest.raises(ConfigError, match="COGNITO_JWKS"):
        verify(issuer, issuer.token("id"))


def test_jwks_fetch_sends_no_credentials(issuer: Issuer) -> None:
    verify(issuer, issuer.token("id"))
    method, _, headers, body = issuer.server.requests[-1]
    assert method == "GET"
    assert "Authorization" not in headers and "Cookie" not in headers
    assert body == b""


# -- each call is bounded by its own config's timeout ------------------------------------


@pytest.mark.slow  # waits out a timeout
def test_a_short_timeout_bounds_the_fetch_of_a_cache_made_by_a_longer_one(
    issuer: Issuer,
) -> None:
    from dataclasses import replace

    slow_first = replace(issuer.config, timeout=6.0)
    quick = replace(issuer.config, timeout=0.5)
    decode_verify_jwt(issuer.token("id"), config=slow_first)  # the cache is made with 6 s
    issuer.server.routes[issuer.jwks_path] = hold(8)
    spare = issuer.spare[0]
    started = time.monotonic()
    with pytest.raises(CognitoConnectionError):
        decode_verify_jwt(issuer.token("id", key=spare), config=quick)  # needs a fetch
    assert time.monotonic() - started < 0.5 + 1.5


@pytest.mark.slow  # waits out a timeout
def test_a_call_waiting_for_another_threads_fetch_is_bounded_by_its_own_timeout(
    issuer: Issuer,
) -> None:
    from dataclasses import replace

    patient = replace(issuer.config, timeout=4.0)
    quick = replace(issuer.config, timeout=0.5)
    issuer.server.routes[issuer.jwks_path] = hold(5)
    token = issuer.token("id")
    def patient_call() -> None:
        with pytest.raises(CognitoConnectionError):
            decode_verify_jwt(token, config=patient)

    first = threading.Thread(target=patient_call)
    first.start()
    deadline = time.monotonic() + 2
    while issuer.fetches == 0 and time.monotonic() < deadline:
        time.sleep(0.01)  # the patient thread's fetch is under way
    started = time.monotonic()
    with pytest.raises(CognitoConnectionError):
        decode_verify_jwt(token, config=quick)
    waited = time.monotonic() - started
    first.join()
    assert waited < 0.5 + 1.0


# -- COGNITO_JWKS preloads the configured pool only, and ages like a fetch ---------------


def _env_pool(monkeypatch: pytest.MonkeyPatch, issuer: Issuer, jwks: Any) -> None:
    monkeypatch.setenv("COGNITO_USER_POOL_ID", POOL)
    monkeypatch.setenv("COGNITO_JWKS_URL", issuer.config.jwks_url or "")
    monkeypatch.setenv("COGNITO_JWKS", json.dumps(jwks))


def test_cognito_jwks_preloads_only_the_configured_pools_cache(
    issuer: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env_pool(monkeypatch, issuer, {"keys": issuer.jwks})
    assert cache(issuer).kids == (issuer.key.kid,)
    with ScriptedServer() as other:
        other.routes["/jwks.json"] = respond(200, {"keys": [issuer.spare[0].jwk()]})
        assert jwks_cache(other.url + "/jwks.json").kids == ()  # not preloaded


def test_cognito_jwks_needs_the_pool_it_belongs_to(
    issuer: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COGNITO_JWKS", json.dumps({"keys": issuer.jwks}))
    with pytest.raises(ConfigError, match="COGNITO_JWKS is set, but"):
        verify(issuer, issuer.token("id"))
    assert issuer.fetches == 0


def test_cognito_jwks_names_the_pool_by_its_id_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    pool_jwks = f"https://cognito-idp.eu-west-1.amazonaws.com/{'eu-west-1_Pool1'}"
    monkeypatch.setenv("COGNITO_USER_POOL_ID", "eu-west-1_Pool1")
    monkeypatch.setenv("COGNITO_JWKS", json.dumps({"keys": [KeyPair(kid="env").jwk()]}))
    assert jwks_cache(pool_jwks + "/.well-known/jwks.json").kids == ("env",)


@pytest.mark.parametrize(
    "jwks",
    [{"keys": []}, None, {"keys": "x"}, [1], "weak"],
    ids=["no-keys", "null", "keys-not-a-list", "a-list", "only-a-weak-key"],
)
def test_an_unusable_cognito_jwks_is_a_config_error_not_a_fetch(
    issuer: Issuer, monkeypatch: pytest.MonkeyPatch, jwks: Any
) -> None:
    if jwks == "weak":
        jwks = {"keys": [KeyPair(kid=issuer.key.kid, bits=1024).jwk()]}
    _env_pool(monkeypatch, issuer, jwks)
    with pytest.raises(ConfigError, match="COGNITO_JWKS"):
        verify(issuer, issuer.token("id"))
    assert issuer.fetches == 0


@pytest.mark.slow  # waits out a TTL or cool-down
def test_preloaded_keys_are_refetched_after_the_ttl(
    issuer: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env_pool(monkeypatch, issuer, {"keys": issuer.jwks})
    verify(issuer, issuer.token("id"))
    assert issuer.fetches == 0
    cache(issuer).ttl = 0.2
    time.sleep(0.3)
    verify(issuer, issuer.token("id"))
    assert issuer.fetches == 1


@pytest.mark.slow  # waits out a TTL or cool-down
def test_preloaded_keys_keep_working_when_the_refetch_fails(
    issuer: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env_pool(monkeypatch, issuer, {"keys": issuer.jwks})
    issuer.server.routes[issuer.jwks_path] = respond(500, {"error": "down"})
    cache(issuer).ttl = 0.2
    time.sleep(0.3)
    assert verify(issuer, issuer.token("id"))["token_use"] == "id"
    assert issuer.fetches == 1


@pytest.mark.slow  # waits out a TTL or cool-down
def test_a_preloaded_key_stops_when_a_refetch_no_longer_lists_it(
    issuer: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _env_pool(monkeypatch, issuer, {"keys": issuer.jwks})
    token = issuer.token("id")
    verify(issuer, token)
    issuer.jwks = [issuer.spare[0].jwk()]  # rotated: the preloaded key is withdrawn
    cache(issuer).ttl = 0.2
    time.sleep(0.3)
    with pytest.raises(UnknownKeyError):
        verify(issuer, token)
    assert issuer.fetches == 1


def test_preload_fills_any_pools_cache(issuer: Issuer) -> None:
    with ScriptedServer() as other:
        url = other.url + "/jwks.json"
        other.routes["/jwks.json"] = dynamic(lambda: {"keys": []})
        jwks_cache(url).preload({"keys": [issuer.spare[0].jwk()]})
        jwks_cache(issuer.config.jwks_url or "").preload({"keys": issuer.jwks})
        assert jwks_cache(url).kids == (issuer.spare[0].kid,)
        assert verify(issuer, issuer.token("id"))["token_use"] == "id"
        assert issuer.fetches == 0
        assert other.count("/jwks.json") == 0


def test_preload_refuses_a_jwks_without_a_usable_key(issuer: Issuer) -> None:
    with pytest.raises(ConfigError, match="no usable RS256 signing key"):
        cache(issuer).preload({"keys": [{"kty": "EC", "kid": "x"}]})


# -- parts a cache is given: a fetcher and a penalty box ---------------------------------


def test_a_cache_fetches_through_the_fetcher_it_is_given(issuer: Issuer) -> None:
    from cognito_helper.verification.jwks import JwksCache

    calls: List[Any] = []

    def fetch(url: str, timeout: float) -> bytes:
        calls.append((url, timeout))
        return json.dumps({"keys": issuer.jwks}).encode()

    cache = JwksCache("https://keys.example/jwks.json", timeout=3.0, fetch=fetch)
    assert cache.get_key(issuer.key.kid).kid == issuer.key.kid
    [(url, timeout)] = calls
    assert url == "https://keys.example/jwks.json"
    assert 2.0 < timeout <= 3.0  # what is left of the call's 3 s
    assert issuer.fetches == 0  # nothing went over the network


def test_a_cache_obeys_the_penalty_box_it_is_given(issuer: Issuer) -> None:
    from cognito_helper.verification.jwks import JwksCache
    from cognito_helper.verification.keys import PenaltyBox

    box = PenaltyBox(seconds=1000.0)
    fetched: List[float] = []

    def fetch(url: str, timeout: float) -> bytes:
        fetched.append(timeout)
        return json.dumps({"keys": issuer.jwks}).encode()

    cache = JwksCache("https://keys.example/jwks.json", fetch=fetch, penalty_box=box)
    assert cache.cooldown == 1000.0
    cache.get_key(issuer.key.kid)
    for _ in range(5):
        with pytest.raises(UnknownKeyError):
            cache.get_key("not-there")
    assert len(fetched) == 2  # the first fetch, then one refetch for the unknown kid
    assert box.waiting()
    box.release()
    with pytest.raises(UnknownKeyError):
        cache.get_key("not-there")
    assert len(fetched) == 3


def test_a_fetcher_failure_is_a_connection_error_and_the_keys_stay(issuer: Issuer) -> None:
    from cognito_helper.verification.jwks import JwksCache

    answers = [json.dumps({"keys": issuer.jwks}).encode()]

    def fetch(url: str, timeout: float) -> bytes:
        if answers:
            return answers.pop()
        raise CognitoConnectionError("down")

    cache = JwksCache("https://keys.example/jwks.json", fetch=fetch, ttl=0.0)
    cache.get_key(issuer.key.kid)
    assert cache.get_key(issuer.key.kid).kid == issuer.key.kid  # refresh failed: kept
    with pytest.raises(CognitoConnectionError):
        cache.get_key("not-there")


@pytest.mark.parametrize("bad", [("e", "AQ+"), ("e", "AQ/"), ("n", "x y"), ("e", "AQ=")])
def test_a_key_whose_modulus_or_exponent_is_not_base64url_is_unusable(
    issuer: Issuer, bad: Any
) -> None:
    name, value = bad
    issuer.jwks = [issuer.key.jwk(**{name: value}), issuer.spare[0].jwk()]
    with pytest.raises(UnknownKeyError, match="invalid"):
        verify(issuer, issuer.token("id"))
    assert verify(issuer, issuer.token("id", key=issuer.spare[0]))["token_use"] == "id"
