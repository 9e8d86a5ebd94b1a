"""The whole hosted-UI flow through the public API against LocalCognito, over loopback HTTP,
and LocalCognito's Cognito-shaped behaviour where the library depends on it."""

from __future__ import annotations

import dataclasses
import json
import threading
from typing import Any, Dict
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from cognito_helper import (
    CognitoConnectionError,
    InvalidGrantError,
    InvalidSignatureError,
    TokenExchangeError,
    UnknownKeyError,
    decode_unverified,
    decode_verify_jwt,
    get_client_credentials_token,
    get_cognito_tokens,
    get_user_info,
    revoke_token,
)
from cognito_helper.core.encoding import b64url_decode, b64url_encode
from cognito_helper.testing import KeyPool, LocalCognito, PresentedClientAuth, SignInError

from .helpers import EMAIL, PASSWORD, USER, MakeLocalCognito, sign_in
from .servers import ScriptedServer, respond


def query_of(url: str) -> Dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


# -- the flow -----------------------------------------------------------------------------


def test_whole_hosted_ui_flow(lc: LocalCognito) -> None:
    config = lc.config
    login = config.start_login()
    redirect = lc.sign_in(login.url, USER, PASSWORD)
    assert redirect.startswith(config.redirect_uri + "?")
    query = query_of(redirect)
    assert query["state"] == login.state

    tokens = get_cognito_tokens(query["code"], config=config, code_verifier=login.code_verifier)
    assert tokens.id_token and tokens.refresh_token
    id_claims = decode_verify_jwt(
        tokens.id_token,
        config=config,
        token_use="id",
        nonce=login.nonce,
        access_token=tokens.access_token,
    )
    access_claims = decode_verify_jwt(
        tokens.access_token, config=config, token_use="access", scopes="openid", groups="staff"
    )
    assert id_claims["email"] == EMAIL and id_claims["cognito:username"] == USER
    assert access_claims["sub"] == id_claims["sub"]

    refreshed = get_cognito_tokens(refresh_token=tokens.refresh_token, config=config)
    assert refreshed.refresh_token == tokens.refresh_token
    assert refreshed.id_token is not None
    assert (
        decode_verify_jwt(refreshed.id_token, config=config, token_use="id")["sub"]
        == (id_claims["sub"])
    )

    info = get_user_info(refreshed.access_token, config=config)
    assert (info["sub"], info["email"]) == (id_claims["sub"], EMAIL)

    revoke_token(tokens.refresh_token, config=config)
    with pytest.raises(InvalidGrantError):
        get_cognito_tokens(refresh_token=tokens.refresh_token, config=config)


def test_confidential_client_flow_uses_basic_auth(make_lc: MakeLocalCognito) -> None:
    secret_lc = make_lc(client_secret="local-secret-123")
    config = secret_lc.config
    got = sign_in(secret_lc)
    tokens = get_cognito_tokens(got.code, config=config, code_verifier=got.code_verifier)
    assert tokens.id_token is not None and tokens.refresh_token is not None
    decode_verify_jwt(tokens.id_token, config=config, nonce=got.nonce)
    get_cognito_tokens(refresh_token=tokens.refresh_token, config=config)
    revoke_token(tokens.refresh_token, config=config)
    get_client_credentials_token("localapi/read", config=config)

    # LocalCognito accepts the secret in the body too: only the record shows what was sent.
    seen = secret_lc.client_authentications
    assert [a.endpoint for a in seen] == ["token", "token", "revoke", "token"]
    for auth in seen:
        assert auth.method == "client_secret_basic", auth
        assert auth.client_id == secret_lc.client_id
        assert not auth.secret_in_body, auth


def test_public_client_sends_only_its_client_id(lc: LocalCognito) -> None:
    got = sign_in(lc)
    tokens = get_cognito_tokens(got.code, config=lc.config, code_verifier=got.code_verifier)
    assert tokens.refresh_token is not None
    revoke_token(tokens.refresh_token, config=lc.config)
    assert lc.client_authentications == [
        PresentedClientAuth("token", "none", lc.client_id, secret_in_body=False),
        PresentedClientAuth("revoke", "none", lc.client_id, secret_in_body=False),
    ]


def test_client_authentications_record_what_was_sent_even_when_refused(
    make_lc: MakeLocalCognito,
) -> None:
    secret_lc = make_lc(client_secret="local-secret-123")
    token_url = secret_lc.config.token_url
    client_id = secret_lc.client_id
    form = {"grant_type": "client_credentials", "client_id": client_id}
    in_body = requests.post(
        token_url, data={**form, "client_secret": "local-secret-123"}, timeout=5
    )
    both = requests.post(
        token_url,
        data={**form, "client_secret": "local-secret-123"},
        auth=(client_id, "local-secret-123"),
        timeout=5,
    )
    malformed = requests.post(
        token_url, data=form, headers={"Authorization": "Basic !!!"}, timeout=5
    )
    assert (in_body.status_code, both.status_code) == (200, 200)
    assert malformed.status_code == 400
    assert secret_lc.client_authentications == [
        PresentedClientAuth("token", "client_secret_post", client_id, secret_in_body=True),
        PresentedClientAuth("token", "client_secret_basic", client_id, secret_in_body=True),
        PresentedClientAuth("token", "client_secret_basic", None, secret_in_body=False),
    ]
    assert "local-secret-123" not in repr(secret_lc.client_authentications)


def test_wrong_client_secret_is_invalid_client(make_lc: MakeLocalCognito) -> None:
    secret_lc = make_lc(client_secret="local-secret-123")
    got = sign_in(secret_lc)
    config = dataclasses.replace(secret_lc.config, client_secret="wrong-secret")
    with pytest.raises(TokenExchangeError) as info:
        get_cognito_tokens(got.code, config=config, code_verifier=got.code_verifier)
    assert info.value.error == "invalid_client"


def test_code_is_single_use(lc: LocalCognito) -> None:
    got = sign_in(lc)
    get_cognito_tokens(got.code, config=lc.config, code_verifier=got.code_verifier)
    with pytest.raises(InvalidGrantError):
        get_cognito_tokens(got.code, config=lc.config, code_verifier=got.code_verifier)


def test_wrong_pkce_verifier_is_invalid_grant(lc: LocalCognito) -> None:
    got = sign_in(lc)
    with pytest.raises(InvalidGrantError):
        get_cognito_tokens(got.code, config=lc.config, code_verifier="x" * 60)


def test_missing_pkce_verifier_is_invalid_grant_saying_it_is_missing(lc: LocalCognito) -> None:
    got = sign_in(lc)
    with pytest.raises(InvalidGrantError) as info:
        get_cognito_tokens(got.code, config=lc.config)
    assert info.value.description is not None
    assert "code_verifier is missing" in info.value.description
    assert "does not match" not in info.value.description


def test_pkce_verifier_errors_on_the_wire_tell_missing_from_wrong(lc: LocalCognito) -> None:
    form = {"grant_type": "authorization_code", "client_id": lc.client_id}
    form["redirect_uri"] = lc.config.redirect_uri or ""
    answers = []
    for verifier in (None, "", "x" * 60):
        extra = {} if verifier is None else {"code_verifier": verifier}
        response = requests.post(
            lc.config.token_url, data={**form, "code": sign_in(lc).code, **extra}, timeout=5
        )
        answers.append((response.status_code, response.json()))
    missing = "code_verifier is missing: this code was issued for a PKCE code_challenge"
    assert answers == [
        (400, {"error": "invalid_grant", "error_description": missing}),
        (400, {"error": "invalid_grant", "error_description": missing}),
        (400, {"error": "invalid_grant", "error_description": "code_verifier does not match"}),
    ]


def test_code_expires_after_five_minutes(lc: LocalCognito) -> None:
    got = sign_in(lc)
    lc.advance_clock(301)
    with pytest.raises(InvalidGrantError):
        get_cognito_tokens(got.code, config=lc.config, code_verifier=got.code_verifier)


def test_redirect_uri_mismatch_is_unauthorized_client(lc: LocalCognito) -> None:
    got = sign_in(lc)
    with pytest.raises(TokenExchangeError) as info:
        get_cognito_tokens(
            got.code,
            config=lc.config,
            code_verifier=got.code_verifier,
            redirect_uri="http://localhost:8000/elsewhere",
        )
    assert (info.value.error, info.value.description) == ("unauthorized_client", "invalid_redirect")


def test_sign_in_to_a_page_it_cannot_parse_is_a_sign_in_error(lc: LocalCognito) -> None:
    # Python 3.9's HTML parser calls self.error() on a marked section it does not know.
    page = b"<!DOCTYPE html><html><body><![bogus[ x ]]><p>no form here</p></body></html>"
    with ScriptedServer() as server:
        server.routes["/login"] = respond(200, page, content_type="text/html")
        with pytest.raises(SignInError, match="no sign-in form"):
            lc.sign_in(server.url + "/login", USER, PASSWORD)


def test_wrong_password_raises_without_showing_it(lc: LocalCognito) -> None:
    login = lc.config.start_login()
    with pytest.raises(SignInError) as info:
        lc.sign_in(login.url, USER, "Not-The-Passw0rd!")
    assert "Not-The-Passw0rd!" not in str(info.value)


def test_refresh_token_rotation_carries_the_new_token(lc: LocalCognito) -> None:
    lc.refresh_token_rotation = True
    got = sign_in(lc)
    first = get_cognito_tokens(got.code, config=lc.config, code_verifier=got.code_verifier)
    second = get_cognito_tokens(refresh_token=first.refresh_token, config=lc.config)
    assert second.refresh_token and second.refresh_token != first.refresh_token
    assert len(second.refresh_token.split(".")) == 5  # opaque, JWE-shaped
    with pytest.raises(InvalidGrantError):
        get_cognito_tokens(refresh_token=first.refresh_token, config=lc.config)
    assert get_cognito_tokens(refresh_token=second.refresh_token, config=lc.config).access_token


def test_user_info_rejects_access_tokens_after_revocation(lc: LocalCognito) -> None:
    got = sign_in(lc)
    tokens = get_cognito_tokens(got.code, config=lc.config, code_verifier=got.code_verifier)
    assert tokens.refresh_token is not None
    revoke_token(tokens.refresh_token, config=lc.config)
    # Offline verification cannot see revocation: the access token verifies until exp...
    assert decode_verify_jwt(tokens.access_token, config=lc.config)["token_use"] == "access"
    # ...but userInfo rejects it.
    with pytest.raises(TokenExchangeError) as info:
        get_user_info(tokens.access_token, config=lc.config)
    assert (info.value.error, info.value.status_code) == ("invalid_token", 401)


def test_revoking_twice_succeeds(lc: LocalCognito) -> None:
    got = sign_in(lc)
    tokens = get_cognito_tokens(got.code, config=lc.config, code_verifier=got.code_verifier)
    assert tokens.refresh_token is not None
    revoke_token(tokens.refresh_token, config=lc.config)
    revoke_token(tokens.refresh_token, config=lc.config)


def test_client_credentials_grant_returns_an_access_token_only(
    make_lc: MakeLocalCognito,
) -> None:
    m2m = make_lc(client_secret="m2m-secret-456")
    tokens = get_client_credentials_token("localapi/read", config=m2m.config)
    assert tokens.id_token is None and tokens.refresh_token is None
    claims = decode_verify_jwt(
        tokens.access_token, config=m2m.config, token_use="access", scopes="localapi/read"
    )
    assert claims["sub"] == claims["client_id"] == m2m.client_id


def test_sequential_grants_reuse_one_connection(lc: LocalCognito) -> None:
    got = sign_in(lc)
    tokens = get_cognito_tokens(got.code, config=lc.config, code_verifier=got.code_verifier)
    before = lc.connections_opened
    for _ in range(10):
        get_cognito_tokens(refresh_token=tokens.refresh_token, config=lc.config)
    assert lc.connections_opened - before <= 1


# -- counting token requests and failing the token endpoint --------------------------------


def test_token_requests_are_counted_per_grant_type_refused_ones_included(
    make_lc: MakeLocalCognito,
) -> None:
    m2m = make_lc(client_secret="m2m-secret-456")
    config = m2m.config
    got = sign_in(m2m)
    tokens = get_cognito_tokens(got.code, config=config, code_verifier=got.code_verifier)
    assert tokens.refresh_token is not None
    get_cognito_tokens(refresh_token=tokens.refresh_token, config=config)
    get_client_credentials_token("localapi/read", config=config)
    with pytest.raises(TokenExchangeError):
        get_client_credentials_token("localapi/admin", config=config)  # invalid_scope
    requests.post(config.token_url, data="not a form", timeout=5)  # no readable grant type
    counts = {
        grant: m2m.token_requests(grant)
        for grant in ("authorization_code", "refresh_token", "client_credentials", "password")
    }
    assert counts == {
        "authorization_code": 1,
        "refresh_token": 1,
        "client_credentials": 2,
        "password": 0,
    }
    assert m2m.token_requests() == 5


@pytest.mark.timeout(60)
def test_token_request_counts_are_exact_under_concurrent_requests(
    make_lc: MakeLocalCognito,
) -> None:
    m2m = make_lc(client_secret="m2m-secret-456")

    def work() -> None:
        for _ in range(10):
            get_client_credentials_token(config=m2m.config)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert m2m.token_requests("client_credentials") == 80


def test_fail_token_endpoint_answers_the_status_until_its_with_block_ends(
    make_lc: MakeLocalCognito,
) -> None:
    m2m = make_lc(client_secret="m2m-secret-456")
    with m2m.fail_token_endpoint(500) as outage:
        for _ in range(3):
            with pytest.raises(CognitoConnectionError, match="HTTP 500"):
                get_client_credentials_token(config=m2m.config)
        assert outage.answered == 3 and outage.active
    assert not outage.active
    assert get_client_credentials_token(config=m2m.config).access_token
    assert m2m.token_requests("client_credentials") == 4
    assert m2m.server_errors == []  # an outage asked for is not an internal error


def test_fail_token_endpoint_for_a_number_of_answers(lc: LocalCognito) -> None:
    outage = lc.fail_token_endpoint(503, times=2)
    got = sign_in(lc)
    for _ in range(2):
        with pytest.raises(CognitoConnectionError, match="HTTP 503"):
            get_cognito_tokens(got.code, config=lc.config, code_verifier=got.code_verifier)
    assert not outage.active and outage.answered == 2
    tokens = get_cognito_tokens(got.code, config=lc.config, code_verifier=got.code_verifier)
    assert tokens.access_token  # the code was never looked at while the endpoint failed


def test_fail_token_endpoint_ends_when_told_and_a_new_one_replaces_it(lc: LocalCognito) -> None:
    first = lc.fail_token_endpoint(500)
    lc.fail_token_endpoint(400, error="invalid_client", times=1)
    with pytest.raises(TokenExchangeError) as refused:
        get_cognito_tokens(refresh_token="r" * 40, config=lc.config)
    assert refused.value.error == "invalid_client" and refused.value.status_code == 400
    assert first.answered == 0
    first.end()
    with pytest.raises(InvalidGrantError):  # handled normally again: an unknown refresh token
        get_cognito_tokens(refresh_token="r" * 40, config=lc.config)


@pytest.mark.parametrize(
    "arguments",
    [
        {"status": 200},
        {"status": 302},
        {"status": 600},
        {"times": 0},
        {"times": 1.5},
        {"error": ""},
    ],
)
def test_fail_token_endpoint_refuses_what_is_not_an_outage(
    lc: LocalCognito, arguments: Dict[str, Any]
) -> None:
    with pytest.raises(ValueError):
        lc.fail_token_endpoint(**arguments)


# -- tokens and keys ----------------------------------------------------------------------


def test_issued_tokens_have_cognitos_claims(lc: LocalCognito) -> None:
    got = sign_in(lc)
    tokens = get_cognito_tokens(got.code, config=lc.config, code_verifier=got.code_verifier)
    assert tokens.id_token is not None
    id_header, id_claims = decode_unverified(tokens.id_token)
    access_header, access_claims = decode_unverified(tokens.access_token)
    assert id_header["alg"] == access_header["alg"] == "RS256"
    assert id_header["kid"] != access_header["kid"]
    for claim in (
        "sub",
        "aud",
        "iss",
        "auth_time",
        "exp",
        "iat",
        "jti",
        "origin_jti",
        "event_id",
        "cognito:username",
        "email",
        "nonce",
        "at_hash",
    ):
        assert claim in id_claims, claim
    assert id_claims["email_verified"] is True
    assert id_claims["cognito:groups"] == ["staff"]
    for claim in (
        "sub",
        "client_id",
        "iss",
        "scope",
        "auth_time",
        "exp",
        "iat",
        "jti",
        "origin_jti",
        "event_id",
        "username",
    ):
        assert claim in access_claims, claim
    assert access_claims["version"] == 2 and "aud" not in access_claims
    assert access_claims["origin_jti"] == id_claims["origin_jti"]


def test_jwks_lists_two_rs256_signing_keys(lc: LocalCognito) -> None:
    keys = requests.get(lc.jwks_url, timeout=5).json()["keys"]
    assert len(keys) == 2 and len({k["kid"] for k in keys}) == 2
    assert all(k["kty"] == "RSA" and k["alg"] == "RS256" and k["use"] == "sig" for k in keys)


def test_openid_configuration_names_the_issuer_and_endpoints(lc: LocalCognito) -> None:
    doc = requests.get(f"{lc.issuer}/.well-known/openid-configuration", timeout=5).json()
    assert doc["issuer"] == lc.issuer
    assert doc["jwks_uri"] == lc.jwks_url
    assert doc["token_endpoint"] == lc.config.token_url


def test_minted_tokens_verify_and_take_claim_overrides(lc: LocalCognito) -> None:
    token = lc.mint("access", scope="localapi/read", username=None)
    claims = decode_verify_jwt(token, config=lc.config, scopes=["localapi/read"])
    assert "username" not in claims


def test_rotated_keys_withdraw_the_old_ones(lc: LocalCognito) -> None:
    old = lc.mint("id")
    decode_verify_jwt(old, config=lc.config)
    lc.rotate_keys()
    assert decode_verify_jwt(lc.mint("id"), config=lc.config)["token_use"] == "id"
    with pytest.raises(UnknownKeyError):
        decode_verify_jwt(old, config=lc.config)


def test_rotation_keeping_old_keys_keeps_old_tokens_valid(lc: LocalCognito) -> None:
    old = lc.mint("id")
    lc.rotate_keys(keep_old=True)
    assert decode_verify_jwt(lc.mint("id"), config=lc.config)["token_use"] == "id"
    assert decode_verify_jwt(old, config=lc.config)["token_use"] == "id"


# -- hosted-UI pages ----------------------------------------------------------------------


def test_invalid_scope_comes_back_on_the_redirect_with_state(lc: LocalCognito) -> None:
    url = lc.config.login_url(state="s-1", scopes=["email"])  # email without openid
    resp = requests.get(url, allow_redirects=False, timeout=5)
    assert resp.status_code == 302
    location = resp.headers["Location"]
    assert location.startswith(lc.config.redirect_uri + "?")
    query = query_of(location)
    assert (query["error"], query["state"]) == ("invalid_scope", "s-1")
    assert "code" not in query


def test_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(lc: LocalCognito) -> None:
    url = lc.config.login_url(redirect_uri="https://evil.example.com/cb")
    resp = requests.get(url, allow_redirects=False, timeout=5)
    assert resp.status_code == 400 and "Location" not in resp.headers
    assert "redirect_mismatch" in resp.text


def test_logout_redirects_to_the_registered_sign_out_url(lc: LocalCognito) -> None:
    resp = requests.get(lc.config.logout_url(), allow_redirects=False, timeout=5)
    assert resp.status_code == 302 and resp.headers["Location"] == lc.config.logout_uri


def test_logout_to_an_unregistered_url_is_refused(lc: LocalCognito) -> None:
    url = lc.config.logout_url("https://evil.example.com/")
    resp = requests.get(url, allow_redirects=False, timeout=5)
    assert resp.status_code == 400 and "Location" not in resp.headers


# -- KeyPool ----------------------------------------------------------------------------------


def _public_numbers(lc: LocalCognito) -> Dict[str, int]:
    """kid -> RSA modulus of each key lc publishes."""
    keys = requests.get(lc.jwks_url, timeout=5).json()["keys"]
    return {k["kid"]: int.from_bytes(b64url_decode(k["n"]), "big") for k in keys}


def test_a_key_pool_gives_size_distinct_keys_then_reuses_them_under_new_kids() -> None:
    pool = KeyPool(size=4)
    given = [pool.signing_key() for _ in range(6)]
    numbers = [key.private_key.private_numbers().public_numbers.n for key in given]
    assert len(set(numbers[:4])) == 4
    assert numbers[4:] == numbers[:2]  # the same order again
    assert len({key.kid for key in given}) == 6  # never a kid twice


@pytest.mark.parametrize("size", [0, 1, True, 2.0])
def test_a_key_pool_of_fewer_than_two_keys_is_a_value_error(size: Any) -> None:
    with pytest.raises(ValueError, match="at least 2"):
        KeyPool(size=size)


def test_providers_sharing_a_pool_sign_with_keys_of_their_own() -> None:
    pool = KeyPool(size=4)
    with LocalCognito(key_pool=pool) as one, LocalCognito(key_pool=pool) as two:
        ours, theirs = _public_numbers(one), _public_numbers(two)
        assert len(ours) == len(theirs) == 2
        assert not set(ours.values()) & set(theirs.values())
        token = one.mint("access")
        assert decode_verify_jwt(token, config=one.config)["token_use"] == "access"
        # two's token under one's kid and issuer: another key, so the signature fails
        forged = two.mint("access", iss=one.config.issuer, client_id=one.client_id)
        _, payload, signature = forged.split(".")
        kid = decode_unverified(token)[0]["kid"]
        swapped = b64url_encode(json.dumps({"alg": "RS256", "kid": kid}).encode())
        with pytest.raises(InvalidSignatureError):
            decode_verify_jwt(f"{swapped}.{payload}.{signature}", config=one.config)


def test_rotating_keys_takes_new_keys_from_the_pool() -> None:
    pool = KeyPool(size=4)
    with LocalCognito(key_pool=pool) as lc:
        before = _public_numbers(lc)
        lc.rotate_keys()
        after = _public_numbers(lc)
        assert len(after) == 2 and not set(before.values()) & set(after.values())
        assert decode_verify_jwt(lc.mint("id"), config=lc.config)["token_use"] == "id"
