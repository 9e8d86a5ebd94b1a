"""``CognitoConfig(client_id=ANY_APP_CLIENT)``: a resource server that trusts every app client of
one pool.

The opt-in is one named object: a missing, empty or wildcard client id is still a
``ConfigError``, and the environment cannot express it. With it only the ``aud``/``client_id``
comparison is skipped; the issuer, ``token_use``, signature, expiry, scopes and every other
check still run. What needs one real app client (hosted-UI URLs, token requests) refuses it.
"""

from __future__ import annotations

import copy
import pickle
from dataclasses import replace
from typing import Any, Callable, Dict

import pytest

import cognito_helper
from cognito_helper import (
    ANY_APP_CLIENT,
    ClientCredentials,
    CognitoConfig,
    ConfigError,
    InvalidClaimsError,
    InvalidSignatureError,
    TokenExpiredError,
    UnknownKeyError,
    decode_verify_jwt,
    get_client_credentials_token,
    get_cognito_tokens,
    revoke_token,
)
from cognito_helper.settings.fields import AnyAppClient
from cognito_helper.testing import LocalCognito

from .tokens import KeyPair

ORDERS = "ordersm2mclient0000000001"
REPORTS = "reportsm2mclient000000002"
SECRET = "m2m-client-secret-0123456789"


@pytest.fixture
def pool(make_lc: Callable[..., LocalCognito]) -> Dict[str, Any]:
    """Pool A with two confidential M2M clients, its any-client config, and another pool B."""
    a, b = make_lc(), make_lc()
    for client in (ORDERS, REPORTS):
        a.add_client(client, client_secret=SECRET)
    anyone = CognitoConfig(
        user_pool_id=a.user_pool_id,
        client_id=ANY_APP_CLIENT,
        issuer=a.issuer,
        jwks_url=a.jwks_url,
    )
    return {"a": a, "b": b, "any": anyone}


def _m2m_token(lc: LocalCognito, client: str) -> str:
    """A client-credentials access token of ``client``, fetched over HTTP like an M2M caller."""
    config = replace(lc.config, client_id=client, client_secret=SECRET)
    return get_client_credentials_token(["localapi/read"], config=config).access_token


def test_m2m_tokens_of_every_client_of_the_pool_pass_only_with_the_opt_in(
    pool: Dict[str, Any],
) -> None:
    a = pool["a"]
    for client in (ORDERS, REPORTS):
        token = _m2m_token(a, client)
        with pytest.raises(InvalidClaimsError) as info:  # without it: the one client only
            decode_verify_jwt(token, config=a.config, token_use="access")
        assert info.value.claim == "client_id"
        for _ in range(2):  # the full path, then the verification memo
            claims = decode_verify_jwt(
                token, config=pool["any"], token_use="access", scopes="localapi/read"
            )
            assert claims["client_id"] == client


@pytest.mark.parametrize("token_use", ["id", "access"])
def test_a_token_of_any_client_passes_alone_and_in_a_list(
    pool: Dict[str, Any], token_use: str
) -> None:
    a, b = pool["a"], pool["b"]
    audience = "aud" if token_use == "id" else "client_id"
    token = a.mint(token_use, **{audience: "someotherclient000000003"})
    for config in (pool["any"], [b.config, pool["any"]], (pool["any"],)):
        for _ in range(2):
            assert decode_verify_jwt(token, config=config)[audience] == "someotherclient000000003"
    # In a list, another pool still needs its own client.
    with pytest.raises(InvalidClaimsError) as info:
        decode_verify_jwt(b.mint(token_use, **{audience: ORDERS}), config=[b.config, pool["any"]])
    assert info.value.claim == audience


def test_a_token_of_another_pool_is_still_refused(pool: Dict[str, Any]) -> None:
    a, b = pool["a"], pool["b"]
    foreign = b.mint("access", client_id=ORDERS)
    with pytest.raises(InvalidClaimsError) as info:  # a list: refused by its iss, unfetched
        decode_verify_jwt(foreign, config=[pool["any"], a.config])
    assert info.value.claim == "iss"
    assert info.value.client_message == "the token's issuer is not trusted"
    assert a.jwks_requests == b.jwks_requests == 0
    with pytest.raises(UnknownKeyError):  # one config: its keys cannot verify B's token
        decode_verify_jwt(foreign, config=pool["any"])
    # Signed by pool A's key but naming another issuer: refused after the signature.
    with pytest.raises(InvalidClaimsError) as info:
        decode_verify_jwt(a.mint("access", client_id=ORDERS, iss=b.issuer), config=pool["any"])
    assert info.value.claim == "iss"
    # Naming pool A's issuer but signed by another key.
    forged = a.mint("access", client_id=ORDERS, key=KeyPair().private)
    with pytest.raises(InvalidSignatureError):
        decode_verify_jwt(forged, config=pool["any"])


def test_every_other_check_still_runs(pool: Dict[str, Any]) -> None:
    a, anyone = pool["a"], pool["any"]
    old = a.mint("access", client_id=ORDERS, exp=1_000_000, iat=999_000, auth_time=999_000)
    with pytest.raises(TokenExpiredError):
        decode_verify_jwt(old, config=anyone)
    token = a.mint("access", client_id=ORDERS, scope="localapi/read")
    with pytest.raises(InvalidClaimsError) as info:
        decode_verify_jwt(token, config=anyone, token_use="id")
    assert info.value.claim == "token_use"
    with pytest.raises(InvalidClaimsError) as info:
        decode_verify_jwt(token, config=anyone, scopes="localapi/write")
    assert info.value.claim == "scope"
    with pytest.raises(InvalidClaimsError) as info:
        decode_verify_jwt(a.mint("access", client_id=None), config=anyone)
    assert info.value.claim == "client_id"  # a token must still name its client
    with pytest.raises(InvalidClaimsError) as info:
        decode_verify_jwt(a.mint("id", aud=7), config=anyone)
    assert info.value.claim == "aud"


@pytest.mark.parametrize("client_id", [None, "", "  ", "*", " * ", "orders*", "ANY_APP_CLIENT*"])
def test_no_missing_empty_or_wildcard_client_id_trusts_any_client(client_id: Any) -> None:
    with pytest.raises(ConfigError, match="client_id"):
        CognitoConfig(user_pool_id="us-east-1_AbC123", client_id=client_id)


def test_the_environment_cannot_opt_in(
    pool: Dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    a = pool["a"]
    monkeypatch.setenv("COGNITO_USER_POOL_ID", a.user_pool_id)
    monkeypatch.setenv("COGNITO_ISSUER", a.issuer)
    monkeypatch.setenv("COGNITO_JWKS_URL", a.jwks_url)
    monkeypatch.setenv("COGNITO_CLIENT_ID", "*")
    with pytest.raises(ConfigError, match="COGNITO_CLIENT_ID"):
        CognitoConfig.from_env()
    # The constant's name is just another client id there: no token names it.
    monkeypatch.setenv("COGNITO_CLIENT_ID", "ANY_APP_CLIENT")
    config = CognitoConfig.from_env()
    assert config.client_id == "ANY_APP_CLIENT" and config.client_id is not ANY_APP_CLIENT
    with pytest.raises(InvalidClaimsError):
        decode_verify_jwt(a.mint("access", client_id=ORDERS), config=config)


def test_what_needs_one_app_client_refuses_the_opt_in(pool: Dict[str, Any]) -> None:
    a = pool["a"]
    anyone = replace(pool["any"], domain=a.url, redirect_uri="https://app.example.com/cb")
    calls = {
        "login_url": lambda: anyone.login_url(),
        "start_login": lambda: anyone.start_login(),
        "logout_url": lambda: anyone.logout_url("https://app.example.com/"),
        "code": lambda: get_cognito_tokens(code="abc", config=anyone),
        "refresh": lambda: get_cognito_tokens(refresh_token="abc", config=anyone),
        "revoke": lambda: revoke_token("abc", config=anyone),
        "client_credentials": lambda: get_client_credentials_token(config=anyone),
        "ClientCredentials": lambda: ClientCredentials(config=anyone),
    }
    for name, call in calls.items():
        with pytest.raises(ConfigError, match="ANY_APP_CLIENT") as info:
            call()
        assert "one app client" in str(info.value), name
    assert a.token_requests() == 0
    with pytest.raises(ConfigError, match="client_secret"):
        replace(anyone, client_secret=SECRET)


def test_the_constant_is_one_object_that_survives_copies(pool: Dict[str, Any]) -> None:
    anyone = pool["any"]
    assert AnyAppClient() is ANY_APP_CLIENT
    assert cognito_helper.ANY_APP_CLIENT is ANY_APP_CLIENT
    assert not isinstance(ANY_APP_CLIENT, str)
    for twin in (copy.copy(anyone), copy.deepcopy(anyone), pickle.loads(pickle.dumps(anyone))):
        assert twin.client_id is ANY_APP_CLIENT and twin == anyone
    assert "client_id=ANY_APP_CLIENT" in repr(anyone)
    configured = cognito_helper.configure({**_settings(anyone), "client_id": ANY_APP_CLIENT})
    assert configured.client_id is ANY_APP_CLIENT
    token = pool["a"].mint("access", client_id=REPORTS)
    assert decode_verify_jwt(token)["client_id"] == REPORTS  # the configured default


def _settings(config: CognitoConfig) -> Dict[str, Any]:
    return {
        "user_pool_id": config.user_pool_id,
        "issuer": config.issuer,
        "jwks_url": config.jwks_url,
    }
