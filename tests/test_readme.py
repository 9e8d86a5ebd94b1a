"""README.md's three examples, each run as printed by the test its marker names (through
``tests/snippets.py``): signing in a web app, protecting an API, calling an API machine to
machine. LocalCognito stands in for the pool, a loopback server for the API."""

from __future__ import annotations

from typing import Tuple

import pytest

import cognito_helper
from cognito_helper import CognitoConfig
from cognito_helper.testing import LocalCognito

from .helpers import PASSWORD, USER, MakeLocalCognito
from .snippets import snippets_for
from .test_snippets import Orders, m2m_lc, orders_api  # noqa: F401 (fixtures)

ORIGIN = "http://localhost"  # Flask's test client is http://localhost/
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
JSON_ONLY = {"Accept": "application/json"}


def _the_pool_in_the_environment(config: CognitoConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "COGNITO_USER_POOL_ID": config.user_pool_id,
        "COGNITO_CLIENT_ID": config.client_id,
        "COGNITO_DOMAIN": config.base_url,
        "COGNITO_REDIRECT_URI": config.redirect_uri or "",
        "COGNITO_LOGOUT_URI": config.logout_uri or "",
        "COGNITO_ISSUER": config.issuers[0],
        "COGNITO_JWKS_URL": config.jwks_url or "",
    }.items():
        monkeypatch.setenv(name, value)
    cognito_helper.configure(None)  # read the variables again


def test_signing_in_a_web_app(make_lc: MakeLocalCognito, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("flask")
    lc = make_lc(redirect_uri=f"{ORIGIN}/cognito_redirect", logout_uri=f"{ORIGIN}/")
    _the_pool_in_the_environment(lc.config, monkeypatch)
    (snippet,) = snippets_for(test_signing_in_a_web_app)
    client = snippet.run()["app"].test_client()
    assert client.get("/", headers=JSON_ONLY).status_code == 401
    to_sign_in = client.get("/", headers=BROWSER)
    assert to_sign_in.headers["Location"] == "/login?next=/"
    started = client.get(to_sign_in.headers["Location"])
    landed = client.get(lc.sign_in(started.headers["Location"], USER, PASSWORD))
    assert landed.headers["Location"] == "/"
    assert client.get("/").data.decode() == f"hello {USER}"
    signed_out = client.post("/logout", headers={"Origin": ORIGIN})
    assert signed_out.headers["Location"] == lc.config.logout_url()
    assert client.get("/", headers=JSON_ONLY).status_code == 401


def test_protecting_an_api(lc: LocalCognito, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("flask")
    _the_pool_in_the_environment(lc.config, monkeypatch)
    (snippet,) = snippets_for(test_protecting_an_api)
    client = snippet.run()["app"].test_client()
    token = lc.mint("access", scope="openid orders/read")
    answer = client.get("/orders", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200 and answer.get_json()["orders"] == []
    assert client.get("/orders").status_code == 401
    other = lc.mint("access", scope="openid")
    refused = client.get("/orders", headers={"Authorization": f"Bearer {other}"})
    assert refused.status_code == 403
    assert 'error="insufficient_scope"' in refused.headers["WWW-Authenticate"]


def test_calling_an_api_machine_to_machine(
    m2m_lc: LocalCognito,  # noqa: F811
    orders_api: Tuple[Orders, str],  # noqa: F811
) -> None:
    api, url = orders_api
    (snippet,) = snippets_for(test_calling_an_api_machine_to_machine)
    namespace = snippet.replacing({"https://orders.example.com": url}).run()
    assert namespace["resp"].status_code == 200
    assert len(api.tokens) == 1 and api.tokens[0]
    assert m2m_lc.token_requests("client_credentials") == 1
