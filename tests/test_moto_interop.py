"""Interoperability with an independent issuer: tokens minted by moto's cognito-idp.

moto answers the default AWS JWKS URL in-process, so these tests use the config's default
``issuer`` and ``jwks_url`` exactly as a production backend would.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, Tuple

import pytest

pytest.importorskip("moto")
boto3 = pytest.importorskip("boto3")
from moto import mock_aws  # noqa: E402

from cognito_helper import (  # noqa: E402
    CognitoConfig,
    InvalidClaimsError,
    UnknownKeyError,
    decode_verify_jwt,
    jwks_cache,
)

PASSWORD = "Moto-Passw0rd!"


def _pool(client: Any, name: str) -> Tuple[str, str, str]:
    pool = client.create_user_pool(PoolName=name)["UserPool"]["Id"]
    app = client.create_user_pool_client(
        UserPoolId=pool, ClientName="web", ExplicitAuthFlows=["ADMIN_NO_SRP_AUTH"]
    )["UserPoolClient"]["ClientId"]
    other_app = client.create_user_pool_client(
        UserPoolId=pool, ClientName="other", ExplicitAuthFlows=["ADMIN_NO_SRP_AUTH"]
    )["UserPoolClient"]["ClientId"]
    client.admin_create_user(
        UserPoolId=pool,
        Username="bob",
        TemporaryPassword=PASSWORD,
        UserAttributes=[{"Name": "email", "Value": "bob@example.com"}],
        MessageAction="SUPPRESS",
    )
    client.admin_set_user_password(
        UserPoolId=pool, Username="bob", Password=PASSWORD, Permanent=True
    )
    return pool, app, other_app


def _sign_in(client: Any, pool: str, app: str) -> Dict[str, str]:
    result = client.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=app,
        AuthFlow="ADMIN_NO_SRP_AUTH",
        AuthParameters={"USERNAME": "bob", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    return {"id": result["IdToken"], "access": result["AccessToken"]}


@pytest.fixture
def moto_pools(monkeypatch: pytest.MonkeyPatch) -> Iterator[Dict[str, Any]]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = boto3.client("cognito-idp", region_name="us-east-1")
        pool, app, other_app = _pool(client, "main")
        other_pool, other_pool_app, _ = _pool(client, "other")
        yield {
            "config": CognitoConfig(user_pool_id=pool, client_id=app),
            "tokens": _sign_in(client, pool, app),
            "other_client_tokens": _sign_in(client, pool, other_app),
            "other_pool_tokens": _sign_in(client, other_pool, other_pool_app),
            "other_pool_config": CognitoConfig(user_pool_id=other_pool, client_id=app),
        }


def test_moto_id_token_verifies_through_the_default_aws_urls(moto_pools: Dict[str, Any]) -> None:
    config = moto_pools["config"]
    assert config.jwks_url.startswith("https://cognito-idp.us-east-1.amazonaws.com/")
    claims = decode_verify_jwt(moto_pools["tokens"]["id"], config=config, token_use="id")
    assert claims["cognito:username"] == "bob"
    assert claims["iss"] == config.issuer


def test_moto_access_token_verifies_by_client_id(moto_pools: Dict[str, Any]) -> None:
    config = moto_pools["config"]
    claims = decode_verify_jwt(moto_pools["tokens"]["access"], config=config, token_use="access")
    assert claims["client_id"] == config.client_id
    assert "aud" not in claims


def test_moto_tokens_cost_one_jwks_fetch(moto_pools: Dict[str, Any]) -> None:
    config = moto_pools["config"]
    for _ in range(5):
        decode_verify_jwt(moto_pools["tokens"]["id"], config=config)
        decode_verify_jwt(moto_pools["tokens"]["access"], config=config)
    assert jwks_cache(config.jwks_url).fetches == 1


@pytest.mark.parametrize("use", ["id", "access"])
def test_moto_token_for_another_app_client_is_rejected(
    moto_pools: Dict[str, Any], use: str
) -> None:
    with pytest.raises(InvalidClaimsError, match="aud" if use == "id" else "client_id"):
        decode_verify_jwt(moto_pools["other_client_tokens"][use], config=moto_pools["config"])


@pytest.mark.parametrize("use", ["id", "access"])
def test_moto_token_from_another_pool_is_rejected(moto_pools: Dict[str, Any], use: str) -> None:
    # moto signs every pool with the same key, so only the issuer check can catch this.
    with pytest.raises((InvalidClaimsError, UnknownKeyError), match=r"iss|kid"):
        decode_verify_jwt(moto_pools["other_pool_tokens"][use], config=moto_pools["config"])


def test_moto_token_use_swap_is_rejected(moto_pools: Dict[str, Any]) -> None:
    with pytest.raises(InvalidClaimsError, match="token_use"):
        decode_verify_jwt(
            moto_pools["tokens"]["access"], config=moto_pools["config"], token_use="id"
        )
