"""The verification memo and the other shortcuts of the hot path: what they may skip, what
they must never skip, and their bounds."""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import replace
from typing import Any, Dict, Iterator, List

import pytest

import cognito_helper
from cognito_helper import (
    InvalidClaimsError,
    InvalidSignatureError,
    TokenExpiredError,
    UnknownKeyError,
    clear_verification_memo,
    decode_verify_jwt,
    forget_jwks_caches,
    jwks_cache,
    set_verification_memo_size,
    verification_memo_info,
)
from cognito_helper.verification.memo import DEFAULT_MAXSIZE

from .conftest import Issuer
from .helpers import at_hash, verify
from .tokens import b64, b64json


@pytest.fixture(autouse=True)
def fresh_memo() -> Iterator[None]:
    set_verification_memo_size(DEFAULT_MAXSIZE)
    clear_verification_memo()
    yield
    set_verification_memo_size(DEFAULT_MAXSIZE)
    clear_verification_memo()


def copy_of(token: str) -> str:
    """The same text in a new str object, as a server reads it from each request."""
    return token.encode("ascii").decode("ascii")


def hits() -> int:
    return verification_memo_info().hits


# -- what it skips ------------------------------------------------------------------------


def test_the_same_token_again_is_answered_from_the_memo(issuer: Issuer) -> None:
    token = issuer.token("access")
    first = verify(issuer, token)
    assert hits() == 0
    assert verify(issuer, copy_of(token)) == first
    assert verification_memo_info().hits == 1
    assert verification_memo_info().currsize == 1


def test_a_memo_hit_makes_no_fetch(issuer: Issuer) -> None:
    token = issuer.token("id")
    for _ in range(5):
        verify(issuer, token)
    assert hits() == 4
    assert issuer.fetches == 1


# -- the key that verified it -------------------------------------------------------------


def test_a_withdrawn_key_stops_a_memoised_token_at_once(issuer: Issuer) -> None:
    token = issuer.token("id")
    verify(issuer, token)
    new = issuer.spare[0]
    issuer.jwks = [new.jwk()]  # the pool withdraws the key that signed `token`
    verify(issuer, issuer.token("id", key=new))  # an unknown kid: the refetch sees it
    assert verification_memo_info().currsize == 1  # only the new token is left
    with pytest.raises(UnknownKeyError):
        verify(issuer, token)
    assert hits() == 0


def test_a_key_replaced_under_the_same_kid_stops_a_memoised_token(issuer: Issuer) -> None:
    token = issuer.token("id")
    verify(issuer, token)
    issuer.jwks = [issuer.spare[0].jwk(kid=issuer.key.kid)]
    jwks_cache(issuer.config.jwks_url).ttl = 0  # the next verification refreshes
    with pytest.raises(InvalidSignatureError):
        verify(issuer, token)
    assert hits() == 0


def test_a_memoised_token_needs_the_very_key_that_verified_it(issuer: Issuer) -> None:
    token = issuer.token("id")
    verify(issuer, token)
    forget_jwks_caches()  # a new cache for the same URL, whose key under that kid is another
    impostor = issuer.spare[0]
    issuer.jwks = [impostor.jwk(kid=issuer.key.kid)]
    verify(issuer, issuer.token("id", key=impostor, header={"kid": issuer.key.kid}))
    with pytest.raises(InvalidSignatureError):
        verify(issuer, token)
    assert hits() == 0


def test_a_refresh_due_is_not_skipped_by_a_memoised_token(issuer: Issuer) -> None:
    token = issuer.token("id")
    verify(issuer, token)
    jwks_cache(issuer.config.jwks_url).ttl = 0
    verify(issuer, token)
    assert issuer.fetches == 2


def test_forgotten_jwks_caches_are_fetched_anew_despite_the_memo(issuer: Issuer) -> None:
    token = issuer.token("id")
    verify(issuer, token)
    forget_jwks_caches()
    verify(issuer, token)
    assert issuer.fetches == 2
    assert hits() == 0


# -- what it never skips: every claim comparison ------------------------------------------


def test_expiry_is_checked_on_every_memo_hit(
    issuer: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = int(time.time()) + 100
    token = issuer.token("id", exp=exp)
    verify(issuer, token)
    monkeypatch.setattr("cognito_helper.verification.cognito.time.time", lambda: float(exp))
    with pytest.raises(TokenExpiredError):
        verify(issuer, token)
    assert verify(issuer, token, leeway=5)["exp"] == exp
    assert hits() == 2


def test_nbf_is_checked_on_every_memo_hit(issuer: Issuer, monkeypatch: pytest.MonkeyPatch) -> None:
    now = int(time.time())
    token = issuer.token("id", nbf=now - 10, iat=now - 10)
    verify(issuer, token)
    monkeypatch.setattr("cognito_helper.verification.cognito.time.time", lambda: float(now - 60))
    with pytest.raises(InvalidClaimsError, match="not valid yet"):
        verify(issuer, token)
    assert hits() == 1


def test_iat_is_checked_on_every_memo_hit(issuer: Issuer, monkeypatch: pytest.MonkeyPatch) -> None:
    now = int(time.time())
    token = issuer.token("id", iat=now)
    verify(issuer, token)
    monkeypatch.setattr("cognito_helper.verification.cognito.time.time", lambda: float(now - 3600))
    with pytest.raises(InvalidClaimsError, match="iat"):
        verify(issuer, token)
    assert hits() == 1


@pytest.mark.parametrize(
    ("kwargs", "claim"),
    [
        ({"token_use": "access"}, "token_use"),
        ({"nonce": "another-nonce"}, "nonce"),
        ({"access_token": "not-the-access-token"}, "at_hash"),
        ({"groups": ["root"]}, "cognito:groups"),
        ({"scopes": ["orders/read"]}, "scope"),
    ],
)
def test_options_are_checked_on_every_memo_hit(
    issuer: Issuer, kwargs: Dict[str, Any], claim: str
) -> None:
    access = issuer.token("access")
    token = issuer.token(
        "id", nonce="n-1", at_hash=at_hash(access), **{"cognito:groups": ["staff"]}
    )
    verify(issuer, token, token_use="id", nonce="n-1", access_token=access, groups="staff")
    with pytest.raises(InvalidClaimsError) as info:
        verify(issuer, token, **kwargs)
    assert info.value.claim == claim
    assert hits() == 1


def test_the_options_that_match_still_pass_on_a_memo_hit(issuer: Issuer) -> None:
    access = issuer.token("access", scope="openid orders/read")
    verify(issuer, access)
    assert verify(issuer, access, token_use="access", scopes="orders/read")["scope"]
    assert hits() == 1


def test_client_and_issuer_of_the_config_are_checked_on_every_memo_hit(issuer: Issuer) -> None:
    token = issuer.token("access")
    verify(issuer, token)
    other_client = replace(issuer.config, client_id="anotherclient")
    with pytest.raises(InvalidClaimsError) as info:
        decode_verify_jwt(token, config=other_client)
    assert info.value.claim == "client_id"
    other_issuer = replace(issuer.config, issuer="https://issuer.example.com/pool")
    with pytest.raises(InvalidClaimsError) as info:
        decode_verify_jwt(token, config=other_issuer)
    assert info.value.claim == "iss"
    assert hits() == 2


def test_a_memo_hit_raises_what_the_full_path_raises(
    issuer: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = int(time.time()) + 100
    token = issuer.token("id", exp=exp)
    verify(issuer, token)
    monkeypatch.setattr("cognito_helper.verification.cognito.time.time", lambda: float(exp + 30))
    with pytest.raises(TokenExpiredError) as from_memo:
        verify(issuer, token, token_use="access")  # expired and the wrong kind: expiry first
    set_verification_memo_size(0)
    with pytest.raises(TokenExpiredError) as in_full:
        verify(issuer, token, token_use="access")
    assert str(from_memo.value) == str(in_full.value)


# -- what callers get ---------------------------------------------------------------------


def test_callers_cannot_change_what_the_memo_holds(issuer: Issuer) -> None:
    identities = [{"providerName": "Google", "userId": "1", "attributes": ["a"]}]
    token = issuer.token("id", **{"cognito:groups": ["staff"], "identities": identities})
    first = verify(issuer, token)  # the verification that filled the memo
    first["cognito:groups"].append("admin")
    first["identities"][0]["userId"] = "2"
    first["identities"][0]["attributes"].append("b")
    first["sub"] = "someone-else"
    second = verify(issuer, token)
    second["cognito:groups"].clear()
    second["identities"].append({"providerName": "Evil"})
    del second["email"]
    third = verify(issuer, token)
    assert hits() == 2
    assert third["cognito:groups"] == ["staff"]
    assert third["identities"] == identities
    assert third["sub"] != "someone-else"
    assert "email" in third


def test_a_claim_that_is_an_object_is_the_callers_own_on_every_call(issuer: Issuer) -> None:
    token = issuer.token("id", **{"custom:profile": {"a": {"b": 1}}, "address": {"zip": "1"}})
    first = verify(issuer, token)  # the verification that filled the memo
    first["custom:profile"]["a"]["b"] = 2
    first["custom:profile"]["c"] = 3
    first["address"]["zip"] = "2"
    second = verify(issuer, token)  # a memo hit
    assert second["custom:profile"] == {"a": {"b": 1}}
    assert second["address"] == {"zip": "1"}
    second["custom:profile"]["a"]["b"] = 4
    second["custom:profile"]["a"]["d"] = 5
    del second["address"]["zip"]
    third = verify(issuer, token)
    assert hits() == 2
    assert third["custom:profile"] == {"a": {"b": 1}}
    assert third["address"] == {"zip": "1"}
    assert third["custom:profile"] is not second["custom:profile"]
    assert third["custom:profile"]["a"] is not second["custom:profile"]["a"]


def test_claims_keep_their_json_types_on_the_first_call_and_on_a_hit(issuer: Issuer) -> None:
    extra = {
        "cognito:groups": ["staff", "admin"],
        "amr": ["pwd", "mfa"],
        "identities": [{"providerName": "Google", "userId": "1"}],
        "custom:profile": {"langs": ["en", "fr"]},
    }
    token = issuer.token("id", **extra)
    first = verify(issuer, token)  # the verification that filled the memo
    second = verify(issuer, token)  # a memo hit
    assert hits() == 1
    for claims in (first, second):
        assert {name: claims[name] for name in extra} == extra
        for name in ("cognito:groups", "amr", "identities"):
            assert type(claims[name]) is list
        assert type(claims["identities"][0]) is dict
        assert type(claims["custom:profile"]["langs"]) is list
    for name in extra:
        assert first[name] is not second[name]
    assert first["identities"][0] is not second["identities"][0]


# -- what it keeps, and for how long ------------------------------------------------------


def test_failures_are_not_memoised(issuer: Issuer) -> None:
    expired = issuer.token("id", exp=int(time.time()) - 5)
    forged = issuer.token("id", key=issuer.spare[0], header={"kid": issuer.key.kid})
    other_client = issuer.token("id", aud="anotherclient")
    wrong_use = issuer.token("access")
    for token, exc in (
        (expired, TokenExpiredError),
        (forged, InvalidSignatureError),
        (other_client, InvalidClaimsError),
    ):
        with pytest.raises(exc):
            verify(issuer, token)
    with pytest.raises(InvalidClaimsError):
        verify(issuer, wrong_use, token_use="id")  # its signature verified; still not kept
    assert verification_memo_info().currsize == 0
    with pytest.raises(InvalidClaimsError):
        verify(issuer, wrong_use, token_use="id")
    assert hits() == 0


def test_a_changed_token_misses(issuer: Issuer) -> None:
    token = issuer.token("id")
    verify(issuer, token)
    head, body, sig = token.split(".")
    other_body = b64json(issuer.claims("id", **{"cognito:groups": ["admin"]}))
    raw = base64.urlsafe_b64decode(sig + "==")
    other_sig = b64(bytes([raw[0] ^ 1]) + raw[1:])  # the same ending as the real signature
    for changed in (f"{head}.{other_body}.{sig}", f"{head}.{body}.{other_sig}"):
        with pytest.raises(InvalidSignatureError):
            verify(issuer, changed)
    assert hits() == 0


def test_the_bound_is_never_exceeded(issuer: Issuer) -> None:
    set_verification_memo_size(3)
    for _ in range(10):
        verify(issuer, issuer.token("id"))
        assert verification_memo_info().currsize <= 3
    assert verification_memo_info().currsize == 3


def test_the_least_recently_used_token_is_evicted_first(issuer: Issuer) -> None:
    set_verification_memo_size(3)
    a, b, c, d = (issuer.token("id") for _ in range(4))
    for token in (a, b, c):
        verify(issuer, token)
    verify(issuer, a)  # a is in use; b is now the least recently used
    verify(issuer, d)
    before = verification_memo_info().hits
    verify(issuer, a)
    assert verification_memo_info().hits == before + 1
    verify(issuer, b)
    assert verification_memo_info().hits == before + 1


def test_shrinking_the_bound_evicts_at_once(issuer: Issuer) -> None:
    for _ in range(5):
        verify(issuer, issuer.token("id"))
    set_verification_memo_size(2)
    assert verification_memo_info().currsize == 2


def test_size_zero_turns_the_memo_off(issuer: Issuer) -> None:
    token = issuer.token("id")
    verify(issuer, token)
    set_verification_memo_size(0)
    assert verification_memo_info().currsize == 0  # turning it off empties it
    for _ in range(3):
        assert verify(issuer, token)["token_use"] == "id"
    info = verification_memo_info()
    assert (info.hits, info.currsize, info.maxsize) == (0, 0, 0)


def test_a_memo_of_size_zero_keeps_nothing_even_when_asked(issuer: Issuer) -> None:
    from cognito_helper.verification.memo import VerificationMemo

    verify(issuer, issuer.token("id"))  # a cache holding the key
    cache = jwks_cache(issuer.config.jwks_url)
    key = cache.get_key(issuer.key.kid)
    memo = VerificationMemo(maxsize=0)
    claims = {"sub": "x"}
    assert memo.add(issuer.token("id"), key, cache, claims, ()) == claims
    assert memo.info().currsize == 0


@pytest.mark.parametrize("size", [-1, 1.5, True, "100", None])
def test_an_invalid_size_is_refused(size: Any) -> None:
    with pytest.raises(ValueError):
        set_verification_memo_size(size)


def test_the_memo_api_is_exported() -> None:
    for name in ("set_verification_memo_size", "verification_memo_info", "clear_verification_memo"):
        assert name in cognito_helper.__all__


def test_concurrent_verifiers_always_get_their_own_token_claims(issuer: Issuer) -> None:
    set_verification_memo_size(8)  # far fewer entries than tokens: constant eviction
    tokens = [issuer.token("access", username=f"user-{i}") for i in range(24)]
    expected = {token: f"user-{i}" for i, token in enumerate(tokens)}
    barrier = threading.Barrier(8)
    errors: List[str] = []

    def work(offset: int) -> None:
        barrier.wait()
        for round_ in range(60):
            token = tokens[(offset * 7 + round_) % len(tokens)]
            try:
                claims = verify(issuer, copy_of(token), token_use="access")
            except Exception as exc:  # any exception is a failure of the memo
                errors.append(repr(exc))
                continue
            if claims["username"] != expected[token]:
                errors.append(f"{claims['username']} for {expected[token]}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert verification_memo_info().currsize <= 8


# -- the remembered header segments -------------------------------------------------------


def _error_of(issuer: Issuer, token: str) -> str:
    with pytest.raises(cognito_helper.TokenVerificationError) as info:
        verify(issuer, token)
    return f"{type(info.value).__name__}: {info.value}"


def test_a_remembered_header_changes_no_verdict(issuer: Issuer) -> None:
    from cognito_helper.verification import jws as _jws

    good = issuer.token("id")
    head, body, sig = good.split(".")
    bad = [
        f"{head}.{body}.{sig}\n",
        f"{head}..{sig}",
        f"{head}.{body}.",
        f"{head}.{body}.{sig}.{sig}",
        f"{head}.{body}+.{sig}",
        f"{head}.{body}.{sig}=",
        f"{head}.{body}é.{sig}",
        f"{head}.{b64(b'not json')}.{sig}",
        f"{head}.{b64(b'[1]')}.{sig}",
        f"{head}.{body}.{sig[:-1]}",
        f"{head}.{body}A.{sig}",
        f"{head}.{body}.A",
    ]
    cold = []
    for token in bad:
        _jws._header_kids.clear()
        cold.append(_error_of(issuer, token))
    verify(issuer, good)
    assert head in _jws._header_kids
    warm = [_error_of(issuer, token) for token in bad]
    assert warm == cold


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: text.encode("utf-8"),
        lambda text: (" \n" + text + "\t ").encode("utf-8"),
    ],
    ids=["utf-8", "whitespace"],
)
def test_a_payload_in_plain_utf8_verifies_cold_and_warm(issuer: Issuer, encode: Any) -> None:
    import json

    head = b64json({"kid": issuer.key.kid, "alg": "RS256"})
    claims = issuer.claims("id", name="Zoë")
    body = b64(encode(json.dumps(claims)))
    signature = b64(issuer.key.sign_raw(f"{head}.{body}".encode()))
    assert verify(issuer, f"{head}.{body}.{signature}") == claims
    assert verify(issuer, f"{head}.{body}.{signature}") == claims


@pytest.mark.parametrize(
    "payload",
    [
        b'{"a":1} x',
        b'{"a":1}{"b":2}',
        b'{"a":"\x00"}',
        b'{"a":NaN}',
        b"\xff{}",
        b"\xef\xbb\xbf{}",
        '{"a":1}'.encode("utf-16"),
    ],
)
def test_a_payload_outside_the_json_rule_is_malformed_with_a_warm_header(
    issuer: Issuer, payload: bytes
) -> None:
    head = b64json({"kid": issuer.key.kid, "alg": "RS256"})
    verify(issuer, issuer.token("id"))  # the header segment is now remembered
    token = f"{head}.{b64(payload)}.{b64(b'sig')}"
    with pytest.raises(cognito_helper.MalformedTokenError):
        verify(issuer, token)


# -- a memo of its own (the ALB's) ------------------------------------------------------------


def test_a_second_memo_forgets_its_own_entries_when_their_key_is_withdrawn(
    issuer: Issuer,
) -> None:
    from cognito_helper.verification.memo import VerificationMemo

    token = issuer.token("id")
    verify(issuer, token)  # the process-wide memo holds it; the cache holds its key
    cache = jwks_cache(issuer.config.jwks_url)
    key = cache.get_key(issuer.key.kid)
    callbacks = len(cache.on_withdraw)
    other = VerificationMemo()
    other.add(token, key, cache, {"sub": "x"}, ())
    other.add(issuer.token("access"), key, cache, {"sub": "y"}, ())
    assert len(cache.on_withdraw) == callbacks + 1  # its own callback, registered once
    new = issuer.spare[0]
    issuer.jwks = [new.jwk()]  # the pool withdraws the key
    verify(issuer, issuer.token("id", key=new))  # an unknown kid: the refetch withdraws it
    assert other.info().currsize == 0
    assert verification_memo_info().currsize == 1  # only the new token is left there
