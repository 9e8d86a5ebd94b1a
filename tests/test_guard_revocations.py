"""Every guard given ``revocations=`` refuses the access token of a signed-out session with a 401
(reason ``"revoked"``), while another sign-in's token passes: Flask through its test client,
FastAPI through its own, and the Lambda authorizer with an API Gateway event. Sign-in and
sign-out run over real HTTP against LocalCognito."""

from __future__ import annotations

from typing import Any, Dict, Tuple

import pytest

from cognito_helper.sessions import CognitoSessions, RevocationList, storage_key
from cognito_helper.testing import LocalCognito

from .sessions_support import sign_in


def _signed_out_and_other(lc: LocalCognito) -> Tuple[RevocationList, str, str]:
    """A list, the access token of a session signed out (listed), and another session's."""
    revocations = RevocationList()
    sessions = CognitoSessions(lc.config, revocations=revocations)
    ended, other = sign_in(lc, sessions).session_id, sign_in(lc, sessions).session_id
    tokens = []
    for session_id in (ended, other):
        record = sessions.store.load(storage_key(session_id))
        assert record is not None
        tokens.append(record.access_token)
    sessions.end(ended)
    return revocations, tokens[0], tokens[1]


def test_the_flask_guard_refuses_a_revoked_token(lc: LocalCognito) -> None:
    flask = pytest.importorskip("flask")
    from cognito_helper.flask import require_token

    revocations, revoked, other = _signed_out_and_other(lc)
    app = flask.Flask(__name__)

    @app.get("/orders")
    @require_token(config=lc.config, revocations=revocations)
    def orders() -> Dict[str, Any]:
        return {"ok": True}

    client = app.test_client()
    for _ in range(2):  # the second time from the memo
        refused = client.get("/orders", headers={"Authorization": f"Bearer {revoked}"})
        assert refused.status_code == 401
        assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
        assert refused.get_json()["error_description"] == "the token has been revoked"
        passed = client.get("/orders", headers={"Authorization": f"Bearer {other}"})
        assert passed.status_code == 200


def test_the_fastapi_guard_refuses_a_revoked_token(lc: LocalCognito) -> None:
    fastapi = pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from cognito_helper.fastapi import CognitoBearer, add_exception_handler

    revocations, revoked, other = _signed_out_and_other(lc)
    app = fastapi.FastAPI()
    add_exception_handler(app)
    bearer = CognitoBearer(config=lc.config, revocations=revocations)

    @app.get("/orders")
    def orders(claims: Dict[str, Any] = fastapi.Depends(bearer)) -> Dict[str, Any]:
        return {"sub": claims["sub"]}

    client = TestClient(app)
    for _ in range(2):
        refused = client.get("/orders", headers={"Authorization": f"Bearer {revoked}"})
        assert refused.status_code == 401
        assert refused.json()["error_description"] == "the token has been revoked"
        passed = client.get("/orders", headers={"Authorization": f"Bearer {other}"})
        assert passed.status_code == 200


def test_the_lambda_authorizer_refuses_a_revoked_token(lc: LocalCognito) -> None:
    from cognito_helper.aws_lambda import authorize

    revocations, revoked, other = _signed_out_and_other(lc)

    def event(token: str) -> Dict[str, Any]:
        return {
            "type": "TOKEN",
            "authorizationToken": f"Bearer {token}",
            "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/orders",
        }

    for _ in range(2):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorize(event(revoked), config=lc.config, revocations=revocations)
        allowed = authorize(event(other), config=lc.config, revocations=revocations)
        assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"
