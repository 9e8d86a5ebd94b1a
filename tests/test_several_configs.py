"""decode_verify_jwt(token, config=[...]): several app clients of one pool, and several pools.

The token's unverified ``iss`` chooses the pool and its ``aud`` (ID) or ``client_id`` (access)
the app client; the token is then checked in full against that one config, with keys only from
its JWKS URL.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Dict, List

import pytest

from cognito_helper import (
    CognitoConfig,
    InvalidClaimsError,
    InvalidSignatureError,
    MalformedTokenError,
    TokenExpiredError,
    UnknownKeyError,
    decode_verify_jwt,
    verification_memo_info,
)
from cognito_helper.testing import LocalCognito

from .tokens import b64, b64json

MOBILE = "mobile-client"


@pytest.fixture
def pools(make_lc: Callable[..., LocalCognito]) -> Dict[str, Any]:
    """Pool A (the web client and a mobile client), pool B, and an untrusted pool C."""
    a, b, c = make_lc(), make_lc(), make_lc()
    a.add_client(MOBILE)
    web = a.config
    mobile = replace(a.config, client_id=MOBILE)
    return {"a": a, "b": b, "c": c, "web": web, "mobile": mobile, "staff": b.config}


def _mint(lc: LocalCognito, token_use: str, client: str, **claims: Any) -> str:
    audience = "aud" if token_use == "id" else "client_id"
    return lc.mint(token_use, **{audience: client}, **claims)


def _trusted(p: Dict[str, Any]) -> List[CognitoConfig]:
    return [p["web"], p["mobile"], p["staff"]]


@pytest.mark.parametrize("token_use", ["id", "access"])
def test_a_token_of_each_trusted_client_is_accepted_by_the_list(
    pools: Dict[str, Any], token_use: str
) -> None:
    p = pools
    for lc, config in ((p["a"], p["web"]), (p["a"], p["mobile"]), (p["b"], p["staff"])):
        token = _mint(lc, token_use, config.client_id)
        claims = decode_verify_jwt(token, config=_trusted(p), token_use=token_use)
        assert claims["iss"] == lc.issuer
        others = [c for c in _trusted(p) if c is not config]
        for other in others:  # and refused by each single config that is not its own
            with pytest.raises((InvalidClaimsError, UnknownKeyError)):
                decode_verify_jwt(token, config=other)


def test_a_tuple_of_configs_works_as_a_list(pools: Dict[str, Any]) -> None:
    token = _mint(pools["b"], "access", pools["staff"].client_id)
    assert decode_verify_jwt(token, config=tuple(_trusted(pools)))["token_use"] == "access"


def test_a_token_of_an_untrusted_pool_is_refused_as_iss_without_fetching_keys(
    pools: Dict[str, Any],
) -> None:
    p = pools
    token = _mint(p["c"], "id", p["c"].client_id)
    with pytest.raises(InvalidClaimsError) as info:
        decode_verify_jwt(token, config=_trusted(p))
    assert info.value.claim == "iss"
    assert info.value.claims is None  # refused before the signature was checked
    assert [p[name].jwks_requests for name in "abc"] == [0, 0, 0]


@pytest.mark.parametrize(("token_use", "claim"), [("id", "aud"), ("access", "client_id")])
def test_an_unlisted_client_of_a_listed_pool_is_refused_naming_the_client_claim(
    pools: Dict[str, Any], token_use: str, claim: str
) -> None:
    p = pools
    token = _mint(p["a"], token_use, "some-other-client")
    with pytest.raises(InvalidClaimsError) as info:
        decode_verify_jwt(token, config=_trusted(p))
    assert info.value.claim == claim
    assert "some-other-client" in str(info.value)
    assert p["a"].jwks_requests == 0


def test_two_clients_of_one_pool_share_one_jwks_fetch(pools: Dict[str, Any]) -> None:
    p = pools
    for client in (p["web"].client_id, MOBILE, p["web"].client_id, MOBILE):
        decode_verify_jwt(_mint(p["a"], "access", client), config=_trusted(p))
    assert p["a"].jwks_requests == 1
    assert p["b"].jwks_requests == 0


def test_the_memo_answers_a_repeat_from_a_list(pools: Dict[str, Any]) -> None:
    p = pools
    token = _mint(p["a"], "id", MOBILE)
    first = decode_verify_jwt(token, config=_trusted(p))
    hits = verification_memo_info().hits
    assert decode_verify_jwt(token, config=_trusted(p)) == first
    assert verification_memo_info().hits == hits + 1


def test_a_remembered_token_is_compared_with_the_config_that_accepted_it(
    pools: Dict[str, Any],
) -> None:
    p = pools
    token = _mint(p["a"], "id", MOBILE)
    decode_verify_jwt(token, config=_trusted(p))
    with pytest.raises(InvalidClaimsError) as info:  # a memo hit, then the options
        decode_verify_jwt(token, config=_trusted(p), token_use="access")
    assert info.value.claim == "token_use"
    with pytest.raises(InvalidClaimsError) as info:  # the list no longer trusts that client
        decode_verify_jwt(token, config=[p["web"], p["staff"]])
    assert info.value.claim == "aud"


def test_an_expired_token_of_a_listed_client_is_expired(pools: Dict[str, Any]) -> None:
    p = pools
    token = _mint(p["a"], "access", MOBILE, exp=1_000_000, iat=999_000, auth_time=999_000)
    with pytest.raises(TokenExpiredError) as info:
        decode_verify_jwt(token, config=_trusted(p))
    assert info.value.claims is not None and info.value.claims["client_id"] == MOBILE


@pytest.mark.parametrize("kind", ["alg-none", "unknown-kid", "bad-signature"])
def test_hostile_tokens_get_the_same_errors_as_with_one_config(
    pools: Dict[str, Any], kind: str
) -> None:
    p = pools
    good = _mint(p["a"], "id", MOBILE)
    head, payload, signature = good.split(".")
    if kind == "alg-none":
        token = f"{b64json({'alg': 'none', 'kid': 'x'})}.{payload}."
        token += b64(b"s")
    elif kind == "unknown-kid":
        token = p["a"].mint("id", aud=MOBILE, header={"kid": "not-a-kid"})
    else:
        token = f"{head}.{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    errors = []
    for config in (_trusted(p), p["mobile"]):
        with pytest.raises((MalformedTokenError, UnknownKeyError, InvalidSignatureError)) as info:
            decode_verify_jwt(token, config=config)
        errors.append(type(info.value))
    assert errors[0] == errors[1]


@pytest.mark.parametrize("config", [[], (), ["not a config"], "us-east-1_X", 5])
def test_an_empty_or_wrong_list_of_configs_is_a_value_error(
    pools: Dict[str, Any], config: Any
) -> None:
    token = _mint(pools["a"], "id", MOBILE)
    with pytest.raises(ValueError, match="config"):
        decode_verify_jwt(token, config=config)


def test_a_list_of_one_config_is_that_config(pools: Dict[str, Any]) -> None:
    token = _mint(pools["a"], "id", MOBILE)
    assert decode_verify_jwt(token, config=[pools["mobile"]])["aud"] == MOBILE
    with pytest.raises(InvalidClaimsError):
        decode_verify_jwt(token, config=[pools["web"]])
