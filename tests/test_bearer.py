"""cognito_helper.bearer: the RFC 6750 mapping every framework guard answers with."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from cognito_helper import CognitoConfig, ConfigError, InvalidClaimsError
from cognito_helper.bearer import BearerRefusal, Refusal, bearer_token, refusal, verify_bearer

from .conftest import Issuer
from .servers import respond


def refused(authorization: Any, issuer: Issuer, **options: Any) -> Refusal:
    with pytest.raises(BearerRefusal) as info:
        verify_bearer(authorization, config=issuer.config, **options)
    return info.value.refusal


def test_a_valid_access_token_gives_its_claims(issuer: Issuer) -> None:
    token = issuer.token("access")
    assert verify_bearer(f"Bearer {token}", config=issuer.config)["token_use"] == "access"
    assert verify_bearer(f"bEaReR   {token} ", config=issuer.config)["token_use"] == "access"


@pytest.mark.parametrize("header", [None, "", "   ", "Basic dXNlcjpwdw==", "Token abc"])
def test_no_bearer_credentials_is_401_with_a_bare_challenge(issuer: Issuer, header: Any) -> None:
    answer = refused(header, issuer)
    assert answer.status == 401
    assert answer.headers == {"WWW-Authenticate": "Bearer"}
    assert answer.body["error"] == "unauthorized"


@pytest.mark.parametrize(
    "header", ["Bearer", "Bearer   ", "Bearer a b", "Bearer " + "x" * (64 * 1024)]
)
def test_a_malformed_bearer_header_is_400_invalid_request(issuer: Issuer, header: str) -> None:
    answer = refused(header, issuer)
    assert answer.status == 400
    assert answer.headers["WWW-Authenticate"] == 'Bearer error="invalid_request"'
    assert answer.body["error"] == "invalid_request"


@pytest.mark.parametrize(
    "make",
    [
        lambda i: "not-a-jwt",
        lambda i: i.token("access", exp=1_000_000, iat=999_000),
        lambda i: i.token("id"),
        lambda i: i.token("access", iss="https://another.example/pool"),
        lambda i: i.token("access", key=i.spare[0]),
    ],
    ids=["malformed", "expired", "id-token", "foreign-iss", "unknown-key"],
)
def test_a_token_that_fails_verification_is_401_invalid_token(issuer: Issuer, make: Any) -> None:
    token = make(issuer)
    answer = refused(f"Bearer {token}", issuer)
    assert answer.status == 401
    challenge = answer.headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer error="invalid_token", error_description="')
    assert answer.body["error"] == "invalid_token"
    assert token not in challenge and token not in answer.json()


def test_a_missing_scope_is_403_insufficient_scope_naming_the_scopes(issuer: Issuer) -> None:
    token = issuer.token("access", scope="openid")
    answer = refused(f"Bearer {token}", issuer, scopes=["orders/write", "orders/admin"])
    assert answer.status == 403
    challenge = answer.headers["WWW-Authenticate"]
    assert 'error="insufficient_scope"' in challenge
    assert 'scope="orders/admin orders/write"' in challenge
    assert answer.body["error"] == "insufficient_scope"


def test_a_missing_group_is_403_too(issuer: Issuer) -> None:
    token = issuer.token("access", **{"cognito:groups": ["readers"]})
    answer = refused(f"Bearer {token}", issuer, groups="admins")
    assert answer.status == 403


def test_no_usable_jwks_is_503_with_retry_after_and_no_challenge(issuer: Issuer) -> None:
    issuer.server.routes[issuer.jwks_path] = respond(500, {"error": "down"})
    answer = refused(f"Bearer {issuer.token('access')}", issuer)
    assert answer.status == 503
    assert answer.headers == {"Retry-After": "10"}
    assert answer.body["error"] == "temporarily_unavailable"


def test_the_realm_is_in_every_challenge(issuer: Issuer) -> None:
    assert refused(None, issuer, realm="orders").headers["WWW-Authenticate"] == (
        'Bearer realm="orders"'
    )
    answer = refused("Bearer x", issuer, realm="orders")
    assert answer.headers["WWW-Authenticate"].startswith('Bearer realm="orders", error=')


def test_a_description_never_breaks_the_quoted_string(issuer: Issuer) -> None:
    answer = refusal(InvalidClaimsError('say "hi" \\ \r\n', claim="iss"))
    challenge = answer.headers["WWW-Authenticate"]
    assert challenge == 'Bearer error="invalid_token", error_description="say hi  "'


def test_a_configuration_error_is_not_a_refusal(issuer: Issuer) -> None:
    with pytest.raises(ConfigError):
        verify_bearer(f"Bearer {issuer.token('access')}")  # nothing configured


def test_the_token_is_passed_on_as_sent() -> None:
    assert bearer_token("Bearer a.b.c==") == "a.b.c=="


def test_options_reach_the_verifier(issuer: Issuer) -> None:
    seen: Dict[str, Any] = {}

    def verify(token: str, **options: Any) -> Dict[str, Any]:
        seen.update(options, token=token)
        return {"ok": True}

    config = CognitoConfig(user_pool_id="us-east-1_Abc", client_id="c")
    assert verify_bearer("Bearer t", config=config, audience="https://api", verify=verify)
    assert seen["token"] == "t" and seen["audience"] == ("https://api",)  # names, read once
    assert seen["token_use"] == "access" and seen["config"] is config
