"""``LocalALB``: the tokens it mints, the keys it serves, its users and its clock."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Iterator

import pytest

from cognito_helper import TokenExpiredError
from cognito_helper.testing import LocalALB, LocalCognito
from cognito_helper.verification.alb import verify_alb_request

from .alb_support import ARN
from .helpers import USER


@pytest.fixture
def site(lc: LocalCognito) -> Iterator[LocalALB]:
    with LocalALB(lc, alb_arn=ARN) as alb:
        yield alb


def test_local_alb_mints_padded_segments_and_a_raw_signature(site: LocalALB) -> None:
    token = site.headers(USER)["x-amzn-oidc-data"]
    head, body, sig = token.split(".")
    assert all(len(s) % 4 == 0 for s in (head, body, sig))
    assert len(base64.urlsafe_b64decode(sig)) == 64
    header = json.loads(base64.urlsafe_b64decode(head))
    assert header["alg"] == "ES256" and header["signer"] == ARN
    assert header["kid"] == site.kid and uuid.UUID(header["kid"])
    assert header["exp"] == json.loads(base64.urlsafe_b64decode(body))["exp"]


def test_local_alb_serves_each_published_key_and_nothing_else(site: LocalALB) -> None:
    import requests

    got = requests.get(site.url + f"/{site.kid}", timeout=5)
    assert got.status_code == 200 and got.content == site.public_pem()
    assert requests.get(site.url + "/no-such-kid", timeout=5).status_code == 404
    assert site.key_requests == 2
    assert site.server_errors == []


def test_local_alb_claims_follow_local_cognito_users(lc: LocalCognito, site: LocalALB) -> None:
    claims = site.user_claims(USER)
    assert claims["username"] == USER and claims["email_verified"] == "true"
    with pytest.raises(ValueError, match="no user"):
        site.user_claims("nobody")


def test_local_alb_follows_the_local_cognito_clock(lc: LocalCognito, site: LocalALB) -> None:
    headers = site.headers(USER)
    assert verify_alb_request(headers, **site.verify_options)
    lc.advance_clock(-site.token_lifetime)  # minted a lifetime ago: expired now
    with pytest.raises(TokenExpiredError):
        verify_alb_request(site.headers(USER), **site.verify_options)


def test_local_alb_without_local_cognito_makes_users_up() -> None:
    with LocalALB() as alb:
        headers = alb.headers("carol")
        assert headers["x-amzn-oidc-identity"] == alb.headers("carol")["x-amzn-oidc-identity"]
        assert headers["x-amzn-oidc-accesstoken"].count(".") == 0
        identity = verify_alb_request(headers, **alb.verify_options)
        assert identity.claims["username"] == "carol"


def test_local_alb_refuses_a_previous_key_before_any_rotation() -> None:
    alb = LocalALB()
    with pytest.raises(ValueError, match="previous"):
        alb.mint(key="previous")


def test_local_alb_refuses_a_malformed_arn() -> None:
    with pytest.raises(ValueError):
        LocalALB(alb_arn="my-alb")
