"""Issue 23: LocalCognito's pre-token-generation hook (the V2/V3 trigger's event and response
shape) over real HTTP, and customised tokens with nested custom claims through the verifier,
its memo and a guard."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
import requests
from flask import Flask, g, jsonify

import cognito_helper
from cognito_helper import (
    AccessTokenClaims,
    CognitoVerifier,
    TokenExchangeError,
    Tokens,
    custom_claims,
    decode_unverified,
    decode_verify_jwt,
    get_client_credentials_token,
    get_cognito_tokens,
)
from cognito_helper.flask import require_token
from cognito_helper.testing import LocalCognito

from .helpers import EMAIL, USER, MakeLocalCognito, sign_in
from .snippets import snippets_for

NESTED: Dict[str, Any] = {
    "tenant": {"id": "t1", "plan": {"tier": "gold", "seats": 5}},
    "roles": ["reader", {"scoped": ["orders"]}],
}


def _claims(token: str) -> Dict[str, Any]:
    return decode_unverified(token)[1]


def _user_tokens(lc: LocalCognito) -> Tokens:
    signed_in = sign_in(lc)
    return get_cognito_tokens(
        signed_in.code, config=lc.config, code_verifier=signed_in.code_verifier
    )


class Recorder:
    """A hook that records each event and answers a fixed response."""

    def __init__(self, response: Optional[Dict[str, Any]]) -> None:
        self.response = response
        self.events: List[Dict[str, Any]] = []

    def __call__(self, event: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        self.events.append(event)
        return self.response


USER_RESPONSE: Dict[str, Any] = {
    "idTokenGeneration": {
        "claimsToAddOrOverride": {"app": NESTED, "email": "other@example.com", "beta": True},
        "claimsToSuppress": ["name", "cognito:groups"],
    },
    "accessTokenGeneration": {
        "claimsToAddOrOverride": {"app": NESTED, "quota": 12.5, "flags": [True, 1, "x"]},
        "scopesToAdd": ["orders/read"],
        "scopesToSuppress": ["profile"],
    },
    "groupOverrideDetails": {
        "groupsToOverride": ["admins", "staff"],
        "iamRolesToOverride": ["arn:aws:iam::123456789012:role/admin"],
        "preferredRole": "arn:aws:iam::123456789012:role/admin",
    },
}


def test_user_grant_tokens_are_customised_and_refresh_too(lc: LocalCognito) -> None:
    hook = Recorder(USER_RESPONSE)
    lc.pre_token_generation = hook
    lc.add_user("bob", "Bob-Passw0rd!", email="bob@example.com", name="Bob")
    signed_in = sign_in(lc, username="bob", password="Bob-Passw0rd!")
    tokens = get_cognito_tokens(
        signed_in.code, config=lc.config, code_verifier=signed_in.code_verifier
    )
    id_claims = _claims(tokens.id_token or "")
    assert id_claims["app"] == NESTED and id_claims["beta"] is True
    assert id_claims["email"] == "other@example.com" and "name" not in id_claims
    assert "cognito:groups" not in id_claims  # suppressed after the override
    assert id_claims["cognito:roles"] == ["arn:aws:iam::123456789012:role/admin"]
    assert id_claims["cognito:preferred_role"] == "arn:aws:iam::123456789012:role/admin"
    assert id_claims["cognito:username"] == "bob" and "quota" not in id_claims
    access = _claims(tokens.access_token)
    assert access["app"] == NESTED and access["quota"] == 12.5
    assert access["flags"] == [True, 1, "x"] and access["username"] == "bob"
    assert access["scope"].split() == ["openid", "email", "orders/read"]
    assert access["cognito:groups"] == ["admins", "staff"] and "cognito:roles" not in access
    (event,) = hook.events
    assert event["triggerSource"] == "TokenGeneration_HostedAuth"
    assert event["version"] == "2" and event["userName"] == "bob"
    assert event["userPoolId"] == lc.user_pool_id and event["region"] == "us-east-1"
    assert event["callerContext"]["clientId"] == lc.client_id
    assert event["request"]["userAttributes"]["email"] == "bob@example.com"
    assert event["request"]["groupConfiguration"] == {
        "groupsToOverride": [],
        "iamRolesToOverride": [],
        "preferredRole": None,
    }
    assert event["request"]["scopes"] == ["openid", "email", "profile"]
    assert event["response"] == {"claimsAndScopeOverrideDetails": None}

    refreshed = get_cognito_tokens(refresh_token=tokens.refresh_token, config=lc.config)
    assert _claims(refreshed.access_token)["app"] == NESTED
    assert hook.events[-1]["triggerSource"] == "TokenGeneration_RefreshTokens"
    assert decode_verify_jwt(refreshed.access_token, config=lc.config, scopes="orders/read")


def test_a_lambda_style_hook_returning_the_event_works(lc: LocalCognito) -> None:
    def handler(event: Dict[str, Any]) -> Dict[str, Any]:
        event["response"]["claimsAndScopeOverrideDetails"] = {
            "accessTokenGeneration": {"claimsToAddOrOverride": {"plan": "gold"}}
        }
        return event

    lc.pre_token_generation = handler
    tokens = _user_tokens(lc)
    assert _claims(tokens.access_token)["plan"] == "gold"
    assert "plan" not in _claims(tokens.id_token or "")


def test_an_empty_groups_override_removes_the_groups_claim(lc: LocalCognito) -> None:
    lc.pre_token_generation = Recorder({"groupOverrideDetails": {"groupsToOverride": []}})
    tokens = _user_tokens(lc)
    assert "cognito:groups" not in _claims(tokens.id_token or "")
    assert "cognito:groups" not in _claims(tokens.access_token)


def test_client_credentials_tokens_are_customised_with_a_v3_event(
    make_lc: MakeLocalCognito,
) -> None:
    lc = make_lc(client_secret="s3cret")
    hook = Recorder(
        {
            "accessTokenGeneration": {
                "claimsToAddOrOverride": {"machine": {"fleet": ["a", "b"]}},
                "scopesToAdd": ["localapi/write"],
                "scopesToSuppress": ["localapi/read"],
            }
        }
    )
    lc.pre_token_generation = hook
    token = get_client_credentials_token("localapi/read", config=lc.config).access_token
    claims = _claims(token)
    assert claims["machine"] == {"fleet": ["a", "b"]} and claims["scope"] == "localapi/write"
    (event,) = hook.events
    assert event["triggerSource"] == "TokenGeneration_ClientCredentials"
    assert event["version"] == "3" and "userName" not in event
    assert event["request"]["scopes"] == ["localapi/read"]
    assert event["request"]["userAttributes"] == {}
    assert event["callerContext"]["clientId"] == lc.client_id
    assert decode_verify_jwt(token, config=lc.config, scopes="localapi/write")["machine"] == {
        "fleet": ["a", "b"]
    }


@pytest.mark.parametrize(
    "response",
    [
        {"idTokenGeneration": {"claimsToAddOrOverride": {"sub": "someone-else"}}},
        {"idTokenGeneration": {"claimsToAddOrOverride": {"iss": "https://evil.example"}}},
        {"idTokenGeneration": {"claimsToSuppress": ["aud"]}},
        {"idTokenGeneration": {"claimsToAddOrOverride": {"cognito:username": "mallory"}}},
        {"idTokenGeneration": {"claimsToAddOrOverride": {"email_verified": {"v": True}}}},
        {"accessTokenGeneration": {"claimsToAddOrOverride": {"exp": 99999999999}}},
        {"accessTokenGeneration": {"claimsToAddOrOverride": {"token_use": "id"}}},
        {"accessTokenGeneration": {"claimsToAddOrOverride": {"client_id": "other"}}},
        {"accessTokenGeneration": {"claimsToAddOrOverride": {"scope": "admin"}}},
        {"accessTokenGeneration": {"claimsToSuppress": ["jti"]}},
        {"accessTokenGeneration": {"claimsToSuppress": ["username"]}},
        {"groupOverrideDetails": {"groupsToOverride": "admins"}},
        {"accessTokenGeneration": {"claimsToAddOrOverride": {"n": float("nan")}}},
        {"accessTokenGeneration": {"claimsToAddOrOverride": {"n": None}}},
        {"accessTokenGeneration": {"scopesToAdd": ["two words"]}},
        {"accessTokenGeneration": {"claimsToSuppress": "username"}},
        {"unknownPart": {}},
        "not an object",
    ],
)
def test_claims_cognito_protects_are_refused(lc: LocalCognito, response: Any) -> None:
    lc.pre_token_generation = Recorder(response)
    signed_in = sign_in(lc)
    with pytest.raises(TokenExchangeError) as refused:
        get_cognito_tokens(signed_in.code, config=lc.config, code_verifier=signed_in.code_verifier)
    assert refused.value.error == "invalid_request"
    assert "PreTokenGeneration failed" in (refused.value.description or "")
    assert "Traceback" not in str(refused.value)


def test_a_hook_that_raises_fails_the_token_request_over_http(lc: LocalCognito) -> None:
    def broken(event: Dict[str, Any]) -> None:
        raise KeyError("internal detail")

    lc.pre_token_generation = broken
    signed_in = sign_in(lc)
    response = requests.post(
        lc.config.token_url,
        data={
            "grant_type": "authorization_code",
            "client_id": lc.client_id,
            "code": signed_in.code,
            "redirect_uri": lc.config.redirect_uri,
            "code_verifier": signed_in.code_verifier,
        },
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "internal detail" not in response.text
    assert lc.server_errors == []


def test_the_hook_must_be_callable() -> None:
    with pytest.raises(TypeError):
        LocalCognito(pre_token_generation="not callable")  # type: ignore[arg-type]


# -- verifier, memo and guard with nested custom claims ------------------------------------


def _custom_access_token(lc: LocalCognito) -> str:
    lc.pre_token_generation = Recorder(USER_RESPONSE)
    return _user_tokens(lc).access_token


def test_memo_hits_give_each_caller_its_own_nested_custom_claims(lc: LocalCognito) -> None:
    token = _custom_access_token(lc)
    typed: AccessTokenClaims = decode_verify_jwt(token, config=lc.config, token_use="access")
    first = custom_claims(typed)  # the same dict, typed so custom claims can be indexed
    assert id(first) == id(typed)
    hits_before = cognito_helper.verification_memo_info().hits
    second = custom_claims(decode_verify_jwt(token, config=lc.config, token_use="access"))
    assert cognito_helper.verification_memo_info().hits == hits_before + 1
    assert first == second and first["app"] is not second["app"]
    first["app"]["tenant"]["plan"]["tier"] = "changed"  # a caller changing its copy
    first["app"]["roles"].append("extra")
    first["app"]["roles"][1]["scoped"].clear()
    first["flags"].append("more")
    del first["quota"]
    third = custom_claims(decode_verify_jwt(token, config=lc.config, token_use="access"))
    assert third["app"] == NESTED and third["flags"] == [True, 1, "x"]
    assert third["quota"] == 12.5 and second["app"] == NESTED
    assert cognito_helper.verification_memo_info().hits == hits_before + 2


def test_a_verifier_object_memo_hit_is_a_copy_too(lc: LocalCognito) -> None:
    lc.pre_token_generation = Recorder(USER_RESPONSE)
    id_token = _user_tokens(lc).id_token or ""
    verifier = CognitoVerifier(config=lc.config, token_use="id")
    first = verifier.verify(id_token)
    custom_claims(first)["app"]["roles"][1]["scoped"].append("mutated")
    first["cognito:roles"].append("root")
    again = verifier.verify(id_token)
    assert custom_claims(again)["app"] == NESTED
    assert again["cognito:roles"] == ["arn:aws:iam::123456789012:role/admin"]
    assert again.get("beta") is True and again["email"] == "other@example.com"


def test_a_flask_guard_passes_a_nested_custom_claim_to_the_view(lc: LocalCognito) -> None:
    token = _custom_access_token(lc)
    app = Flask(__name__)

    @app.get("/tenant")
    @require_token(config=lc.config, scopes="orders/read", groups="admins")
    def tenant() -> Any:
        claims = g.cognito_claims
        tier = claims["app"]["tenant"]["plan"]["tier"]
        claims["app"]["tenant"]["plan"]["tier"] = "changed-by-view"
        return jsonify(tier=tier, roles=claims["app"]["roles"])

    client = app.test_client()
    for _ in range(2):  # the second request is a memo hit
        body = client.get("/tenant", headers={"Authorization": f"Bearer {token}"}).get_json()
        assert body == {"tier": "gold", "roles": NESTED["roles"]}
    assert client.get("/tenant").status_code == 401


def test_the_readme_snippet(lc: LocalCognito) -> None:
    (snippet,) = snippets_for(test_the_readme_snippet)
    namespace = snippet.run(module="readme_customisation_snippet")
    assert namespace["claims"]["tenant"] == {"id": "t1", "plans": ["gold"]}
    assert USER and EMAIL  # the shared user is untouched by the snippet


# -- typed claims with custom claims ----------------------------------------------------------

TYPED_PROGRAM = """
from typing import Any, Dict, cast

from cognito_helper import AccessTokenClaims, IdTokenClaims, custom_claims, decode_verify_jwt


class OrderClaims(AccessTokenClaims, total=False):
    app: Dict[str, Any]


def tier(token: str) -> str:
    claims = decode_verify_jwt(token, token_use="access")
    plan: str = custom_claims(claims)["app"]["tenant"]["plan"]["tier"]
    seats: int = cast(OrderClaims, claims)["app"]["tenant"]["plan"]["seats"]
    groups = claims.get("cognito:groups", [])
    return f"{plan} {seats} {groups} {claims.get('custom:tenant')}"


def email(claims: IdTokenClaims) -> object:
    custom_claims(claims)["app"]["roles"].append("x")
    return claims.get("beta")
"""


@pytest.mark.slow
def test_custom_claims_type_check_under_mypy_strict(tmp_path: Any) -> None:
    mypy_api = pytest.importorskip("mypy.api")
    program = tmp_path / "typed_claims.py"
    program.write_text(TYPED_PROGRAM)
    stdout, stderr, status = mypy_api.run(
        ["--strict", "--cache-dir", str(tmp_path / "cache"), str(program)]
    )
    assert status == 0, stdout + stderr


def test_custom_claims_is_the_same_dict_and_refuses_anything_else() -> None:
    claims: Dict[str, Any] = {"sub": "x", "app": {"a": [1]}}
    assert custom_claims(claims) is claims
    with pytest.raises(TypeError):
        custom_claims([("sub", "x")])  # type: ignore[arg-type]
