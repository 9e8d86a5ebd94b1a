"""cognito_helper.integrations.bearer: the RFC 6750 mapping every framework guard answers with."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from cognito_helper import CognitoConfig, ConfigError, InvalidClaimsError
from cognito_helper.integrations.bearer import (
    BearerRefusal,
    Refusal,
    bearer_token,
    refusal,
    verify_bearer,
)

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


# -- what a refusal sends: the public sentence, never the detail or the trust configuration ---


def _trusting(message: str, public: str, claim: str = "iss") -> InvalidClaimsError:
    """An error whose message holds what only the server's log may see."""
    exc = InvalidClaimsError(message, claim=claim)
    exc.public = public
    return exc


@pytest.mark.parametrize(
    ("claim", "status"), [("iss", 401), ("scope", 403)], ids=["invalid_token", "insufficient"]
)
def test_a_refusal_sends_the_public_sentence_never_the_detail(claim: str, status: int) -> None:
    exc = _trusting("'iss' is none of ['https://idp/us-east-1_Secret9']", "not trusted", claim)
    answer = refusal(exc, scopes=["orders/read"])
    assert answer.status == status
    assert answer.body["error_description"] == "not trusted"
    assert 'error_description="not trusted"' in answer.headers["WWW-Authenticate"]
    assert "Secret9" not in answer.json() and "Secret9" not in str(answer.headers)
    assert "Secret9" in str(exc)  # the exception keeps the detail for the server's log


def test_a_check_refusing_with_a_public_sentence_sends_only_it(issuer: Issuer) -> None:
    def check(claims: Dict[str, Any]) -> None:
        raise _trusting("tenant 'acme-internal-7' is blocked", "this tenant is blocked", "t")

    answer = refused(f"Bearer {issuer.token('access')}", issuer, check=check)
    assert (answer.status, answer.body["error_description"]) == (401, "this tenant is blocked")
    assert "acme-internal-7" not in answer.json() + str(answer.headers)


def test_a_503_sends_a_neutral_sentence_not_the_connection_failure(issuer: Issuer) -> None:
    issuer.server.routes[issuer.jwks_path] = respond(500, {"error": "down"})
    answer = refused(f"Bearer {issuer.token('access')}", issuer)
    assert answer.status == 503
    description = answer.body["error_description"]
    assert "HTTP 500" not in description and "JWKS" not in description
    assert "try again" in description


def test_a_missing_group_names_no_scope(issuer: Issuer) -> None:
    token = issuer.token("access", **{"cognito:groups": ["readers"]})
    answer = refused(f"Bearer {token}", issuer, groups="admins", scopes=None)
    assert answer.status == 403
    assert "scope=" not in answer.headers["WWW-Authenticate"]
    both = refused(f"Bearer {token}", issuer, groups="admins", scopes="openid")
    assert "scope=" not in both.headers["WWW-Authenticate"]  # the group failed, not a scope


def test_the_challenge_names_only_the_scopes_the_token_lacks() -> None:
    exc = InvalidClaimsError("lacks orders/write", claim="scope")
    exc.claims = {"scope": "openid orders/read"}
    answer = refusal(exc, scopes=["orders/read", "orders/write"])
    assert answer.headers["WWW-Authenticate"].endswith(', scope="orders/write"')
    exc.claims = {"scope": "orders/read orders/write"}  # a check's own reason: none missing
    assert "scope=" not in refusal(exc, scopes=["orders/read"]).headers["WWW-Authenticate"]


def test_a_check_refusing_for_a_scope_does_not_name_the_held_ones(issuer: Issuer) -> None:
    def check(claims: Dict[str, Any]) -> None:
        raise InvalidClaimsError("this route needs more", claim="scope")

    token = issuer.token("access", scope="orders/read")
    answer = refused(f"Bearer {token}", issuer, scopes=["orders/read"], check=check)
    assert answer.status == 403
    assert "scope=" not in answer.headers["WWW-Authenticate"]


# -- repeated Authorization headers: two credentials are 400 ----------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Basic dXNlcjpwdw==, Bearer a.b.c",
        "Basic dXNlcjpwdw==,Bearer a.b.c",
        "Bearer a.b.c,Basic dXNlcjpwdw==",
        ["Basic dXNlcjpwdw==", "Bearer a.b.c"],
        ["Bearer a.b.c", "Token x"],
        ["Bearer a.b.c", "Bearer a.b.c"],
    ],
)
def test_a_bearer_credential_beside_another_is_400(header: Any) -> None:
    with pytest.raises(BearerRefusal) as info:
        bearer_token(header)
    assert info.value.refusal.status == 400
    assert info.value.refusal.body["error"] == "invalid_request"


@pytest.mark.parametrize(
    "header", ['Digest username="a", realm="b"', ["Basic x", "Basic y"], [], ["  "]]
)
def test_headers_without_a_bearer_credential_stay_401(header: Any) -> None:
    with pytest.raises(BearerRefusal) as info:
        bearer_token(header)
    assert info.value.refusal.status == 401


def test_one_header_given_as_a_list_is_read_as_it_is() -> None:
    assert bearer_token(["Bearer a.b.c"]) == "a.b.c"


# -- nothing configured -----------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", "Basic dXNlcjpwdw==", "Bearer", "Bearer a.b.c"])
def test_nothing_configured_is_the_same_error_with_or_without_a_token(header: Any) -> None:
    with pytest.raises(ConfigError):
        verify_bearer(header)
