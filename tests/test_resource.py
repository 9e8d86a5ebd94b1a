"""Resource-bound access tokens (RFC 8707 resource indicators, Cognito's ``resource``).

The library sends ``resource`` on ``/oauth2/authorize`` (``login_url`` / ``start_login``) and on
the client-credentials grant, after checking it is an absolute URI; LocalCognito binds the
access token to it (``aud``) when the app client may ask for it and refuses it with
``invalid_request`` otherwise. Everything runs end to end over loopback HTTP.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests

from cognito_helper import (
    InvalidClaimsError,
    InvalidGrantError,
    LoginRequest,
    TokenExchangeError,
    Tokens,
    decode_unverified,
    decode_verify_jwt,
    get_client_credentials_token,
    get_cognito_tokens,
)
from cognito_helper.testing import LocalCognito

from .helpers import PASSWORD, USER, MakeLocalCognito, sign_in

API = "https://api.example.com"
ORDERS = "https://orders.example.com/v1"
OTHER_API = "https://other.example.com"
SECRET = "m2m-secret-456"

# Not absolute URIs Cognito could know: each must be a ValueError naming `resource`.
BAD_RESOURCES: List[Any] = [
    "",
    "api.example.com",  # no scheme
    "/orders",  # relative
    "//api.example.com",  # scheme-relative
    "https://",  # no host
    "https:///orders",  # no host
    "https://:443/",  # a port but no host
    "urn:example:orders",  # no host
    "https://api.example.com/#read",  # a fragment
    "https://api.example.com/#",  # an empty fragment is still one
    "https://api.example.com/a b",  # whitespace
    " https://api.example.com",
    "https://api.example.com\n",  # a control character
    "https://api.example.com/\x00",
    "https://api.example.com/\\orders",  # a backslash
    'https://api.example.com/"x"',  # '"' is not in a resource server identifier
    "https://bücher.example",  # non-ASCII
    "https://api.example.com:99999/",  # a port out of range
    "1http://api.example.com",  # a scheme starts with a letter
    "https://api.example.com/" + "a" * 240,  # over 256 characters
    42,  # not a string at all
    b"https://api.example.com",
]


def query_of(url: str) -> Dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def claims_of(token: Optional[str]) -> Dict[str, Any]:
    """The payload of ``token``, read without verifying (the test checks what it holds)."""
    assert token is not None
    return decode_unverified(token)[1]


def post_token(lc: LocalCognito, form: Dict[str, str], *, secret: str = SECRET) -> Any:
    """A raw token request, for what the library refuses to send."""
    return requests.post(lc.config.token_url, data=form, auth=(lc.client_id, secret), timeout=5)


def sign_in_tokens(lc: LocalCognito, resource: str) -> Tuple[LoginRequest, Tokens]:
    """Sign the standard user in with ``resource`` and exchange the code: (login, tokens)."""
    login = lc.config.start_login(resource=resource)
    got = sign_in(lc, login)
    tokens = get_cognito_tokens(got.code, config=lc.config, code_verifier=got.code_verifier)
    assert tokens.id_token is not None and tokens.refresh_token is not None
    return login, tokens


# -- what the library sends -----------------------------------------------------------------


def test_login_url_and_start_login_send_the_resource(lc: LocalCognito) -> None:
    url = lc.config.login_url(state="st", resource=ORDERS)
    assert query_of(url)["resource"] == ORDERS
    assert "resource=https%3A%2F%2Forders.example.com%2Fv1" in url  # percent-encoded
    assert query_of(lc.config.start_login(resource=API).url)["resource"] == API
    assert "resource" not in query_of(lc.config.start_login().url)


@pytest.mark.parametrize(
    "resource",
    [
        "http://api.internal.example",  # an identifier, never fetched: http is fine anywhere
        "api://orders",  # any scheme with a host
        "https://api.example.com:8443/v1?tenant=a",  # port, path and query are allowed
        "https://api.example.com/" + "a" * 232,  # exactly 256 characters
    ],
)
def test_any_absolute_uri_with_a_host_is_sent_as_given(lc: LocalCognito, resource: str) -> None:
    assert query_of(lc.config.login_url(resource=resource))["resource"] == resource


@pytest.mark.parametrize("resource", BAD_RESOURCES)
def test_invalid_resource_is_a_value_error_before_any_request(
    make_lc: MakeLocalCognito, resource: Any
) -> None:
    lc = make_lc(client_secret=SECRET, resources=[API])
    before = lc.requests_seen
    with pytest.raises(ValueError, match=r"^resource "):
        lc.config.login_url(resource=resource)
    with pytest.raises(ValueError, match=r"^resource "):
        lc.config.start_login(resource=resource)
    with pytest.raises(ValueError, match=r"^resource "):
        get_client_credentials_token("localapi/read", config=lc.config, resource=resource)
    assert lc.requests_seen == before


# -- authorization-code grant ---------------------------------------------------------------


def test_sign_in_with_a_resource_binds_the_access_token(make_lc: MakeLocalCognito) -> None:
    lc = make_lc(resources=[API, ORDERS])
    login, tokens = sign_in_tokens(lc, ORDERS)
    access = claims_of(tokens.access_token)
    assert access["aud"] == ORDERS  # one resource: a string, as Cognito sets it
    assert access["client_id"] == lc.client_id and access["token_use"] == "access"
    assert claims_of(tokens.id_token)["aud"] == lc.client_id  # the ID token is unchanged
    # Still a valid access token of this client for a verifier that asks nothing about aud.
    decode_verify_jwt(tokens.access_token, config=lc.config, token_use="access")
    assert tokens.id_token is not None
    decode_verify_jwt(
        tokens.id_token,
        config=lc.config,
        token_use="id",
        nonce=login.nonce,
        access_token=tokens.access_token,
    )

    refreshed = get_cognito_tokens(refresh_token=tokens.refresh_token, config=lc.config)
    assert claims_of(refreshed.access_token)["aud"] == ORDERS  # the grant stays bound
    assert claims_of(refreshed.id_token)["aud"] == lc.client_id


def test_access_token_without_a_resource_has_no_aud(make_lc: MakeLocalCognito) -> None:
    lc = make_lc(resources=[API])
    got = sign_in(lc)
    tokens = get_cognito_tokens(got.code, config=lc.config, code_verifier=got.code_verifier)
    assert "aud" not in claims_of(tokens.access_token)
    refreshed = get_cognito_tokens(refresh_token=tokens.refresh_token, config=lc.config)
    assert "aud" not in claims_of(refreshed.access_token)


def test_resource_bound_access_token_verifies_with_audience(make_lc: MakeLocalCognito) -> None:
    lc = make_lc(resources=[API])
    login, tokens = sign_in_tokens(lc, API)
    config = lc.config
    claims = decode_verify_jwt(tokens.access_token, config=config, token_use="access", audience=API)
    assert claims["aud"] == API
    either = decode_verify_jwt(tokens.access_token, config=config, audience=[OTHER_API, API])
    assert either["aud"] == API
    with pytest.raises(InvalidClaimsError) as other:
        decode_verify_jwt(
            tokens.access_token, config=config, token_use="access", audience=OTHER_API
        )
    assert other.value.claim == "aud"
    # The ID token of the same sign-in is bound to the app client, never to the API.
    assert tokens.id_token is not None
    with pytest.raises(InvalidClaimsError) as id_token:
        decode_verify_jwt(tokens.id_token, config=config, nonce=login.nonce, audience=API)
    assert id_token.value.claim == "aud"
    # An access token signed in without a resource is bound to no API: refused too.
    got = sign_in(lc)
    unbound = get_cognito_tokens(got.code, config=config, code_verifier=got.code_verifier)
    with pytest.raises(InvalidClaimsError) as no_aud:
        decode_verify_jwt(unbound.access_token, config=config, audience=API)
    assert no_aud.value.claim == "aud"


def test_unregistered_resource_on_authorize_is_refused_on_the_redirect(
    make_lc: MakeLocalCognito,
) -> None:
    lc = make_lc(resources=[API])
    login = lc.config.start_login(resource=OTHER_API)
    redirect = lc.sign_in(login.url, USER, PASSWORD)
    assert redirect.startswith(f"{lc.config.redirect_uri}?")
    query = query_of(redirect)
    assert query["error"] == "invalid_request"
    assert query["state"] == login.state
    assert "code" not in query
    assert "resource" in query["error_description"]


def test_resource_on_authorize_is_refused_when_the_client_has_none(lc: LocalCognito) -> None:
    query = query_of(lc.sign_in(lc.config.login_url(state="st", resource=API), USER, PASSWORD))
    assert (query["error"], query["state"]) == ("invalid_request", "st")


@pytest.mark.parametrize(
    "resource", ["/orders", "api.example.com", "https://api.example.com#frag", "https://"]
)
def test_malformed_resource_on_authorize_is_invalid_request(
    make_lc: MakeLocalCognito, resource: str
) -> None:
    lc = make_lc(resources=[API])
    url = lc.config.login_url(state="st") + "&" + urlencode({"resource": resource})
    query = query_of(lc.sign_in(url, USER, PASSWORD))
    assert (query["error"], query["state"]) == ("invalid_request", "st")
    assert "code" not in query


def test_each_client_binds_only_to_its_own_resources(make_lc: MakeLocalCognito) -> None:
    lc = make_lc(resources=[API])
    lc.add_client("otherclient", resources=[OTHER_API])
    other = dataclasses.replace(lc.config, client_id="otherclient")
    login = other.start_login(resource=OTHER_API)
    got = sign_in(lc, login)
    tokens = get_cognito_tokens(got.code, config=other, code_verifier=got.code_verifier)
    assert claims_of(tokens.access_token)["aud"] == OTHER_API
    assert claims_of(tokens.access_token)["client_id"] == "otherclient"
    assert claims_of(tokens.id_token)["aud"] == "otherclient"
    # The main client may not ask for the other client's resource, nor the other for API.
    for config, resource in ((lc.config, OTHER_API), (other, API)):
        url = config.login_url(state="st", resource=resource)
        refused = query_of(lc.sign_in(url, USER, PASSWORD))
        assert refused["error"] == "invalid_request"


def test_code_exchange_may_repeat_the_resource_but_not_change_it(
    make_lc: MakeLocalCognito,
) -> None:
    lc = make_lc(client_secret=SECRET, resources=[API, OTHER_API])
    results = []
    for sent in (API, OTHER_API):
        got = sign_in(lc, lc.config.start_login(resource=API))
        form = {
            "grant_type": "authorization_code",
            "code": got.code,
            "redirect_uri": lc.config.redirect_uri or "",
            "code_verifier": got.code_verifier or "",
            "resource": sent,
        }
        results.append(post_token(lc, form))
    same, changed = results
    assert same.status_code == 200
    assert claims_of(same.json()["access_token"])["aud"] == API
    assert changed.status_code == 400
    assert changed.json()["error"] == "invalid_request"


# -- client-credentials grant ---------------------------------------------------------------


def test_client_credentials_with_a_resource_binds_the_access_token(
    make_lc: MakeLocalCognito,
) -> None:
    m2m = make_lc(client_secret=SECRET, resources=[API])
    tokens = get_client_credentials_token("localapi/read", config=m2m.config, resource=API)
    assert tokens.id_token is None and tokens.refresh_token is None
    claims = decode_verify_jwt(tokens.access_token, config=m2m.config, token_use="access")
    assert claims["aud"] == API
    assert claims["sub"] == claims["client_id"] == m2m.client_id
    bound = decode_verify_jwt(tokens.access_token, config=m2m.config, audience=API)
    assert bound["aud"] == API

    unbound = get_client_credentials_token("localapi/read", config=m2m.config)
    assert "aud" not in claims_of(unbound.access_token)


@pytest.mark.parametrize("registered", [[], [API]])
def test_unregistered_resource_on_client_credentials_is_invalid_request(
    make_lc: MakeLocalCognito, registered: List[str]
) -> None:
    m2m = make_lc(client_secret=SECRET, resources=registered)
    with pytest.raises(TokenExchangeError) as refused:
        get_client_credentials_token("localapi/read", config=m2m.config, resource=OTHER_API)
    assert not isinstance(refused.value, InvalidGrantError)
    assert refused.value.error == "invalid_request"
    assert refused.value.status_code == 400
    assert ("POST", "/oauth2/token") in m2m.requests_seen


@pytest.mark.parametrize(
    "resource", ["orders", "/orders", "https://api.example.com/#x", "https://"]
)
def test_malformed_resource_on_the_token_endpoint_is_invalid_request(
    make_lc: MakeLocalCognito, resource: str
) -> None:
    m2m = make_lc(client_secret=SECRET, resources=[API])
    answer = post_token(
        m2m, {"grant_type": "client_credentials", "scope": "localapi/read", "resource": resource}
    )
    assert answer.status_code == 400
    assert answer.headers["Content-Type"].startswith("application/json")
    assert answer.json()["error"] == "invalid_request"


# -- registering resources --------------------------------------------------------------------


@pytest.mark.parametrize("resource", ["orders", "https://api.example.com/#x", "https://", ""])
def test_registering_an_invalid_resource_is_a_value_error(lc: LocalCognito, resource: str) -> None:
    with pytest.raises(ValueError, match="resource"):
        lc.add_client("client2", resources=[resource])
    with pytest.raises(ValueError, match="resource"):
        LocalCognito(resources=[API, resource])


def test_resources_given_as_one_string_is_a_type_error(lc: LocalCognito) -> None:
    with pytest.raises(TypeError, match="resources"):
        lc.add_client("client2", resources=API)
