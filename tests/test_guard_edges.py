"""Edges of the FastAPI guard and the Lambda authorizer that issue 19's mutation pass found
untested (see ``.ci/mutation.md``): what a 403 for one ``Security`` scope says, and which
credentials a payload 2.0 authorizer event is read from.

Tokens come from LocalCognito; FastAPI's TestClient drives the app, and the authorizer is
called with the documented event of ``tests/fixtures/lambda/``. Nothing is mocked.
"""

# No "from __future__ import annotations": FastAPI reads the route's annotations, which name
# a guard local to the function that builds the app.
import json
from pathlib import Path
from typing import Annotated, Any, Dict, List

import pytest

pytest.importorskip("fastapi")

from fastapi import FastAPI, Security
from fastapi.testclient import TestClient

from cognito_helper.aws_lambda import authorize
from cognito_helper.fastapi import CognitoBearer, add_exception_handler
from cognito_helper.testing import LocalCognito

Claims = Dict[str, Any]
V2_EVENT = Path(__file__).parent / "fixtures" / "lambda" / "http_v2_request.json"


# -- FastAPI: the 403 for Security(..., scopes=[...]) -----------------------------------------


def scoped_app(lc: LocalCognito, scopes: List[str]) -> TestClient:
    """An app whose ``/orders`` needs every one of ``scopes`` through ``Security``."""
    bearer = CognitoBearer(config=lc.config)
    app = FastAPI()
    add_exception_handler(app)

    @app.get("/orders")
    async def orders(claims: Annotated[Claims, Security(bearer, scopes=scopes)]) -> Claims:
        return claims

    return TestClient(app)


def test_a_403_for_one_required_security_scope_names_it_without_saying_all_of(
    lc: LocalCognito,
) -> None:
    token = lc.mint("access", scope="openid")
    answer = scoped_app(lc, ["orders/read"]).get(
        "/orders", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 403
    assert answer.json() == {
        "error": "insufficient_scope",
        "error_description": "the token lacks the scopes ['orders/read']",
    }
    # With two required, the description says that every one of them is needed.
    both = scoped_app(lc, ["orders/read", "orders/write"])
    answer = both.get("/orders", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 403
    assert answer.json()["error_description"] == (
        "the token lacks the scopes ['orders/read', 'orders/write'] "
        "(it needs all of ['orders/read', 'orders/write'])"
    )


# -- Lambda: payload 2.0 reads the Authorization header before identitySource ---------------


def v2_event(authorization: str, identity_source: List[str]) -> Dict[str, Any]:
    """AWS's documented payload 2.0 REQUEST event with these credentials."""
    ev: Dict[str, Any] = json.loads(V2_EVENT.read_text(encoding="utf-8"))
    ev["headers"]["authorization"] = authorization
    ev["identitySource"] = identity_source
    return ev


def test_a_payload_2_event_with_an_authorization_header_ignores_its_identity_source(
    lc: LocalCognito,
) -> None:
    good, forged = lc.mint("access"), lc.mint("access", client_id="another-client")
    # The identity source is another header (say, a request id): the token is the header's.
    allowed = authorize(v2_event(f"Bearer {good}", ["request-id-42"]), config=lc.config)
    assert allowed["isAuthorized"] is True
    # identitySource is a fallback for an event without the header, never a second chance.
    refused = authorize(v2_event(f"Bearer {forged}", [f"Bearer {good}"]), config=lc.config)
    assert refused["isAuthorized"] is False
