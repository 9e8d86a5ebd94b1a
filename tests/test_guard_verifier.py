"""Every guard (Flask, FastAPI, DRF, Lambda) takes ``verifier=`` instead of its option keywords,
and logs why it refused a request (the error's ``reason``), never the token.

Tokens come from LocalCognito; each framework is driven through its own test client.
"""

import logging
import time
from typing import Any, Dict

import pytest

from cognito_helper import CognitoVerifier
from cognito_helper.aws_lambda import authorize
from cognito_helper.integrations.bearer import Guard
from cognito_helper.testing import LocalCognito

READ, WRITE = "localapi/read", "localapi/write"

pytestmark = pytest.mark.usefixtures("memo")


def readers(lc: LocalCognito) -> CognitoVerifier:
    return CognitoVerifier(lc.config, token_use="access", scopes=[READ])


def bearer(token: str) -> Dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def refusal_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "cognito_helper"
        and r.levelno == logging.INFO
        and "(reason: " in r.getMessage()
    ]


# -- the shared options type ----------------------------------------------------------------


def test_a_guard_holds_the_verifier_built_once_from_its_options(lc: LocalCognito) -> None:
    guard = Guard.of(config=lc.config, scopes=READ, realm="api")
    assert isinstance(guard.verifier, CognitoVerifier)
    assert guard.verifier.scopes == (READ,) and guard.verifier.token_use == "access"
    assert guard.realm == "api"
    given = readers(lc)
    assert Guard.of(verifier=given).verifier is given


@pytest.mark.parametrize("option", ["scopes", "config", "token_use", "check"])
def test_a_verifier_beside_an_option_it_replaces_is_a_type_error(
    lc: LocalCognito, option: str
) -> None:
    value = {"scopes": WRITE, "config": lc.config, "token_use": "id", "check": bool}[option]
    with pytest.raises(TypeError, match=rf"verifier.*{option}"):
        Guard.of(verifier=readers(lc), **{option: value})


def test_a_verifier_that_is_not_a_cognito_verifier_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="CognitoVerifier"):
        Guard.of(verifier="access")


def test_an_unknown_option_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="scope"):
        Guard.of(scope=READ)


# -- Flask ----------------------------------------------------------------------------------


def flask_app(lc: LocalCognito) -> Any:
    flask = pytest.importorskip("flask")
    from cognito_helper.flask import TokenGuard, require_token

    app = flask.Flask(__name__)

    @app.get("/decorated")
    @require_token(verifier=readers(lc), realm="orders")
    def decorated() -> Dict[str, Any]:
        return {"sub": flask.g.cognito_claims["sub"]}

    guard = TokenGuard(app, verifier=readers(lc))

    @guard.get("/one-step")
    def one_step() -> Dict[str, Any]:
        return {"sub": flask.g.cognito_claims["sub"]}

    @guard.get("/writers", verifier=CognitoVerifier(lc.config, token_use="access", scopes=WRITE))
    def writers() -> Dict[str, Any]:
        return {"sub": flask.g.cognito_claims["sub"]}

    return app


def test_the_flask_guards_take_a_verifier(lc: LocalCognito) -> None:
    client = flask_app(lc).test_client()
    read, write = lc.mint("access", scope=READ), lc.mint("access", scope=WRITE)
    for route, allowed, refused in [
        ("/decorated", read, write),
        ("/one-step", read, write),
        ("/writers", write, read),
    ]:
        assert client.get(route, headers=bearer(allowed)).status_code == 200, route
        answer = client.get(route, headers=bearer(refused))
        assert answer.status_code == 403, route
    challenge = client.get("/decorated", headers=bearer(write)).headers["WWW-Authenticate"]
    assert 'realm="orders"' in challenge and f'scope="{READ}"' in challenge


def test_require_token_refuses_a_verifier_beside_its_options(lc: LocalCognito) -> None:
    pytest.importorskip("flask")
    from cognito_helper.flask import require_token

    with pytest.raises(TypeError, match=r"verifier.*scopes"):
        require_token(verifier=readers(lc), scopes=WRITE)


def test_the_flask_guard_logs_the_reason_and_detail_never_the_token(
    lc: LocalCognito, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cognito_helper")
    client = flask_app(lc).test_client()
    expired = lc.mint("access", scope=READ, exp=int(time.time()) - 3600)
    assert client.get("/decorated", headers=bearer(expired)).status_code == 401
    assert client.get("/decorated", headers=bearer(lc.mint("access"))).status_code == 403
    lines = refusal_lines(caplog)
    assert len(lines) == 2, lines
    assert "(401)" in lines[0] and lines[0].endswith("(reason: expired)")
    assert "(403)" in lines[1] and lines[1].endswith("(reason: scope)")
    assert READ in lines[1]  # the server's detail
    assert expired not in caplog.text


def test_the_flask_guard_reads_a_repeated_header_as_two_credentials(lc: LocalCognito) -> None:
    client = flask_app(lc).test_client()
    token = lc.mint("access", scope=READ)
    twice = [("Authorization", f"Bearer {token}"), ("Authorization", "Basic dXNlcjpwdw==")]
    answer = client.get("/decorated", headers=twice)
    assert answer.status_code == 400 and answer.json["error"] == "invalid_request"


# -- FastAPI --------------------------------------------------------------------------------


def fastapi_client(lc: LocalCognito) -> Any:
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from typing import Annotated

    from fastapi import Depends, FastAPI, Security
    from fastapi.testclient import TestClient

    from cognito_helper.fastapi import CognitoBearer, add_exception_handler

    app = FastAPI()
    add_exception_handler(app)
    guard = CognitoBearer(verifier=readers(lc))

    @app.get("/read")
    def read(claims: Annotated[Dict[str, Any], Depends(guard)]) -> Dict[str, Any]:
        return {"sub": claims["sub"]}

    @app.get("/both")
    def both(
        claims: Annotated[Dict[str, Any], Security(guard, scopes=[WRITE])],
    ) -> Dict[str, Any]:
        return {"sub": claims["sub"]}

    return TestClient(app)


def test_the_fastapi_guard_takes_a_verifier(lc: LocalCognito) -> None:
    client = fastapi_client(lc)
    read, both = lc.mint("access", scope=READ), lc.mint("access", scope=f"{READ} {WRITE}")
    assert client.get("/read", headers=bearer(read)).status_code == 200
    assert client.get("/read", headers=bearer(lc.mint("access", scope=WRITE))).status_code == 403
    assert client.get("/both", headers=bearer(both)).status_code == 200
    answer = client.get("/both", headers=bearer(read))
    assert answer.status_code == 403 and f'scope="{WRITE}"' in answer.headers["WWW-Authenticate"]


def test_cognito_bearer_refuses_a_verifier_beside_its_options(lc: LocalCognito) -> None:
    pytest.importorskip("fastapi")
    from cognito_helper.fastapi import CognitoBearer

    with pytest.raises(TypeError, match=r"verifier.*audience"):
        CognitoBearer(verifier=readers(lc), audience="https://api")


def test_the_fastapi_guard_logs_the_reason(
    lc: LocalCognito, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cognito_helper")
    client = fastapi_client(lc)
    token = lc.mint("access", scope=READ)
    assert client.get("/both", headers=bearer(token)).status_code == 403
    (line,) = refusal_lines(caplog)
    assert "(403)" in line and line.endswith("(reason: scope)") and WRITE in line
    assert token not in caplog.text


# -- Lambda ---------------------------------------------------------------------------------


def token_event(token: str) -> Dict[str, Any]:
    return {
        "type": "TOKEN",
        "authorizationToken": f"Bearer {token}",
        "methodArn": "arn:aws:execute-api:us-east-1:123456789012:abc/prod/GET/orders",
    }


def test_the_lambda_authorizer_takes_a_verifier(lc: LocalCognito) -> None:
    allowed = authorize(token_event(lc.mint("access", scope=READ)), verifier=readers(lc))
    assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    denied = authorize(token_event(lc.mint("access", scope=WRITE)), verifier=readers(lc))
    assert denied["policyDocument"]["Statement"][0]["Effect"] == "Deny"
    with pytest.raises(TypeError, match=r"verifier.*groups"):
        authorize(token_event(lc.mint("access")), verifier=readers(lc), groups="admins")


def test_the_lambda_log_line_names_the_reason(
    lc: LocalCognito, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="cognito_helper")
    token = lc.mint("access", scope=WRITE)
    authorize(token_event(token), verifier=readers(lc))
    (line,) = refusal_lines(caplog)
    assert line.startswith("authorizer: access denied (403): ")
    assert line.endswith("(reason: scope)")
    expired = lc.mint("access", scope=READ, exp=int(time.time()) - 60)
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(token_event(expired), verifier=readers(lc))
    lines = refusal_lines(caplog)
    assert len(lines) == 2
    assert lines[1].startswith("authorizer: unauthorized (401): the token expired")
    assert lines[1].endswith("(reason: expired)")
    assert token not in caplog.text and expired not in caplog.text


# -- Django REST framework ------------------------------------------------------------------


def drf_request(authorization: str) -> Any:
    pytest.importorskip("rest_framework")
    from .django_setup import configure_django

    configure_django()
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    return Request(APIRequestFactory().get("/", HTTP_AUTHORIZATION=authorization))


def test_the_drf_guard_takes_a_verifier(lc: LocalCognito) -> None:
    request = drf_request(f"Bearer {lc.mint('access', scope=READ)}")
    from cognito_helper.django import CognitoAuthentication

    class Readers(CognitoAuthentication):
        verifier = readers(lc)

    user, claims = Readers().authenticate(request)
    assert user.sub == claims["sub"] and claims["scope"] == READ

    class Both(Readers):
        audience = "https://api"

    with pytest.raises(TypeError, match=r"verifier.*audience"):
        Both().authenticate(request)


def test_the_drf_guard_logs_the_reason(lc: LocalCognito, caplog: pytest.LogCaptureFixture) -> None:
    token = lc.mint("access", scope=WRITE)
    request = drf_request(f"Bearer {token}")
    from cognito_helper.django import BearerPermissionDenied, CognitoAuthentication

    class Readers(CognitoAuthentication):
        verifier = readers(lc)

    caplog.set_level(logging.INFO, logger="cognito_helper")
    with pytest.raises(BearerPermissionDenied):
        Readers().authenticate(request)
    (line,) = refusal_lines(caplog)
    assert "(403)" in line and line.endswith("(reason: scope)") and READ in line
    assert token not in caplog.text
