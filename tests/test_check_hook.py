"""The app's ``check=``: refused when it cannot run (an ``async def``), and what it returns.

A coroutine function (or an object whose ``__call__`` is one, or a
``functools.partial`` of either) is a ``ValueError`` where the check is given: a
``decode_verify_jwt`` call, ``require_token``, ``CognitoBearer``, the Lambda authorizer. A
check that returns an awaitable anyway refuses the token (the awaitable is closed, so no
"never awaited" warning), and so does a check that returns ``False``; ``None`` and ``True``
accept; anything else is the app's bug, a ``TypeError``. Each guard is driven through its own
test client or event, the verifier never mocked.
"""

from __future__ import annotations

import asyncio
import functools
import gc
import inspect
import json
import warnings
from pathlib import Path
from typing import Any, Callable, Coroutine, Dict, Iterator, List, Optional

import pytest

from cognito_helper import InvalidClaimsError, decode_verify_jwt, verification_memo_info
from cognito_helper.testing import LocalCognito

from .conftest import Issuer

Claims = Dict[str, Any]
LAMBDA_FIXTURES = Path(__file__).parent / "fixtures" / "lambda"
REFUSED_BY_CHECK = "the app's check refused the token"


pytestmark = pytest.mark.usefixtures("memo")  # every test with the memo on and off (conftest)


# -- checks that cannot run: async ones --------------------------------------------------------

RAN: List[str] = []  # what the async checks' bodies saw run (they must never run)


async def async_check(claims: Claims) -> None:
    RAN.append("function")


async def async_refusal(claims: Claims, tenant: str) -> bool:
    RAN.append("partial")
    return claims.get("custom:tenant") == tenant


async def async_generator_check(claims: Claims) -> Any:
    RAN.append("async generator")
    yield None


class AsyncCallable:
    async def __call__(self, claims: Claims) -> None:
        RAN.append("object")


class InheritsAsyncCall(AsyncCallable):
    pass


class WithAsyncMethod:
    async def check(self, claims: Claims) -> None:
        RAN.append("method")


ASYNC_CHECKS: Dict[str, Callable[[], Any]] = {
    "async-def": lambda: async_check,
    "partial-of-async-def": lambda: functools.partial(async_refusal, tenant="acme"),
    "async-__call__": AsyncCallable,
    "inherited-async-__call__": InheritsAsyncCall,
    "partial-of-async-__call__": lambda: functools.partial(AsyncCallable()),
    "partial-of-partial": lambda: functools.partial(functools.partial(async_refusal), tenant="a"),
    "async-method": lambda: WithAsyncMethod().check,
    "async-generator": lambda: async_generator_check,
}


@pytest.fixture(params=sorted(ASYNC_CHECKS))
def async_one(request: pytest.FixtureRequest) -> Iterator[Any]:
    RAN.clear()
    yield ASYNC_CHECKS[request.param]()
    assert RAN == []  # never called


@pytest.fixture
def no_unawaited_warning() -> Iterator[None]:
    """The test must leave no "coroutine ... was never awaited" RuntimeWarning behind."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
        gc.collect()
    assert [w for w in caught if issubclass(w.category, RuntimeWarning)] == []


def test_an_async_check_is_a_value_error_in_decode_verify_jwt(
    issuer: Issuer, async_one: Any, no_unawaited_warning: None
) -> None:
    token = issuer.token("access")
    for _ in range(2):  # a new token, then (memo on) a remembered one
        with pytest.raises(ValueError, match="async"):
            decode_verify_jwt(token, config=issuer.config, check=async_one)
    assert decode_verify_jwt(token, config=issuer.config)["sub"]  # the token itself is fine


def test_a_sync_callable_object_and_a_partial_of_a_sync_function_are_accepted(
    issuer: Issuer,
) -> None:
    class Tenant:
        def __call__(self, claims: Claims, tenant: str = "acme") -> bool:
            return claims.get("custom:tenant") == tenant

    token = issuer.token("access", **{"custom:tenant": "acme"})
    for check in (Tenant(), functools.partial(Tenant(), tenant="acme"), Tenant().__call__):
        assert decode_verify_jwt(token, config=issuer.config, check=check)["sub"]
    with pytest.raises(InvalidClaimsError):
        decode_verify_jwt(
            token, config=issuer.config, check=functools.partial(Tenant(), tenant="x")
        )


class Awaitable:
    """An awaitable that is not a coroutine, with no ``close()``."""

    def __await__(self) -> Iterator[None]:
        yield None


def test_a_check_that_returns_an_awaitable_refuses_the_token_and_closes_it(
    issuer: Issuer, no_unawaited_warning: None
) -> None:
    returned: List[Coroutine[Any, Any, None]] = []

    def hides_an_async_check(claims: Claims) -> Any:  # a sync wrapper: not detectable
        coroutine = async_check(claims)
        returned.append(coroutine)
        return coroutine

    RAN.clear()
    token = issuer.token("access")
    for check in [hides_an_async_check, hides_an_async_check, lambda claims: Awaitable()]:
        with pytest.raises(InvalidClaimsError) as info:
            decode_verify_jwt(token, config=issuer.config, check=check)
        assert info.value.claim == "check"
        assert str(info.value) == REFUSED_BY_CHECK
        assert info.value.claims is not None and info.value.claims["sub"]
    assert RAN == []
    assert [inspect.getcoroutinestate(c) for c in returned] == [inspect.CORO_CLOSED] * 2


# -- what a check returns ----------------------------------------------------------------------


def test_a_check_that_returns_false_refuses_the_token(issuer: Issuer, memo: bool) -> None:
    token = issuer.token("access", **{"custom:tenant": "globex"})
    decode_verify_jwt(token, config=issuer.config)
    hits = verification_memo_info().hits
    for _ in range(2):
        with pytest.raises(InvalidClaimsError) as info:
            decode_verify_jwt(
                token, config=issuer.config, check=lambda c: c["custom:tenant"] == "acme"
            )
        assert info.value.claim == "check"
        assert str(info.value) == REFUSED_BY_CHECK
        assert info.value.claims is not None and info.value.claims["custom:tenant"] == "globex"
    assert verification_memo_info().hits == (hits + 2 if memo else hits)


@pytest.mark.parametrize("verdict", [None, True])
def test_a_check_that_returns_none_or_true_accepts_the_token(issuer: Issuer, verdict: Any) -> None:
    token = issuer.token("access")
    for _ in range(2):
        claims = decode_verify_jwt(token, config=issuer.config, check=lambda c: verdict)
        assert claims["token_use"] == "access"


@pytest.mark.parametrize("verdict", [0, 1, "", "acme", [], {"ok": True}, 0.0, Ellipsis])
def test_a_check_that_returns_anything_else_is_a_type_error(issuer: Issuer, verdict: Any) -> None:
    token = issuer.token("access")
    for _ in range(2):
        with pytest.raises(TypeError, match="check must return None, True or False"):
            decode_verify_jwt(token, config=issuer.config, check=lambda c: verdict)


def test_a_check_that_returns_false_is_refused_among_several_configs(
    issuer: Issuer, make_lc: Callable[..., LocalCognito]
) -> None:
    configs = [make_lc().config, issuer.config]
    token = issuer.token("access")
    for _ in range(2):
        with pytest.raises(InvalidClaimsError, match=REFUSED_BY_CHECK):
            decode_verify_jwt(token, config=configs, check=lambda c: False)
        assert decode_verify_jwt(token, config=configs, check=lambda c: True)["sub"]


# -- the guards --------------------------------------------------------------------------------


def refusing_wrapper(claims: Claims) -> Any:
    """A sync check that returns the coroutine of an async one (caught when it returns)."""
    return async_check(claims)


# Flask ----------------------------------------------------------------------------------------


def flask_client(lc: LocalCognito, **options: Any) -> Any:
    pytest.importorskip("flask")
    from flask import Flask, g

    from cognito_helper.flask import require_token

    app = Flask(__name__)

    @app.get("/t")
    @require_token(config=lc.config, **options)
    def view() -> Claims:
        return {"sub": g.cognito_claims["sub"]}

    return app.test_client()


def test_flask_refuses_an_async_check_when_the_view_is_decorated(
    lc: LocalCognito, async_one: Any, no_unawaited_warning: None
) -> None:
    pytest.importorskip("flask")
    from cognito_helper.flask import require_token

    with pytest.raises(ValueError, match="async"):
        require_token(config=lc.config, check=async_one)


@pytest.mark.parametrize(
    "check", [lambda c: False, refusing_wrapper], ids=["returns-false", "returns-a-coroutine"]
)
def test_flask_answers_401_when_the_check_refuses(
    lc: LocalCognito, check: Any, no_unawaited_warning: None
) -> None:
    client = flask_client(lc, check=check)
    for _ in range(2):
        answer = client.get("/t", headers={"Authorization": f"Bearer {lc.mint('access')}"})
        assert answer.status_code == 401
        assert answer.get_json() == {
            "error": "invalid_token",
            "error_description": REFUSED_BY_CHECK,
        }
    accepted = flask_client(lc, check=lambda c: True)
    assert (
        accepted.get("/t", headers={"Authorization": f"Bearer {lc.mint('access')}"}).status_code
        == 200
    )


def test_flask_answers_500_when_the_check_returns_something_else(lc: LocalCognito) -> None:
    client = flask_client(lc, check=lambda c: "yes")
    answer = client.get("/t", headers={"Authorization": f"Bearer {lc.mint('access')}"})
    assert answer.status_code == 500


# FastAPI --------------------------------------------------------------------------------------


def fastapi_client(lc: LocalCognito, **options: Any) -> Any:
    pytest.importorskip("fastapi")
    pytest.importorskip("httpx")
    from fastapi import FastAPI, Security
    from fastapi.testclient import TestClient

    from cognito_helper.fastapi import CognitoBearer, add_exception_handler

    bearer = CognitoBearer(config=lc.config, **options)
    app = FastAPI()
    add_exception_handler(app)

    async def any_token(claims: Claims = Security(bearer)) -> Claims:
        return {"sub": claims["sub"]}

    async def reader(claims: Claims = Security(bearer, scopes=["orders/read"])) -> Claims:
        return {"sub": claims["sub"]}

    app.get("/any")(any_token)
    app.get("/orders")(reader)  # Security scopes: the guard wraps the check in its own
    return TestClient(app)


def test_fastapi_refuses_an_async_check_when_the_guard_is_made(
    lc: LocalCognito, async_one: Any, no_unawaited_warning: None
) -> None:
    pytest.importorskip("fastapi")
    from cognito_helper.fastapi import CognitoBearer

    with pytest.raises(ValueError, match="async"):
        CognitoBearer(config=lc.config, check=async_one)


@pytest.mark.parametrize(
    "check", [lambda c: False, refusing_wrapper], ids=["returns-false", "returns-a-coroutine"]
)
@pytest.mark.parametrize("route", ["/any", "/orders"])
def test_fastapi_answers_401_when_the_check_refuses(
    lc: LocalCognito, check: Any, route: str, no_unawaited_warning: None
) -> None:
    client = fastapi_client(lc, check=check)
    headers = {"Authorization": f"Bearer {lc.mint('access', scope='orders/read')}"}
    for _ in range(2):
        answer = client.get(route, headers=headers)
        assert answer.status_code == 401
        assert answer.json() == {"error": "invalid_token", "error_description": REFUSED_BY_CHECK}
    assert fastapi_client(lc, check=lambda c: True).get(route, headers=headers).status_code == 200


# The Lambda authorizer ------------------------------------------------------------------------


def lambda_event(kind: str, token: Optional[str]) -> Dict[str, Any]:
    """AWS's documented ``kind`` event (tests/fixtures/lambda) carrying ``Bearer token``."""
    text = (LAMBDA_FIXTURES / f"{kind}.json").read_text(encoding="utf-8")
    return json.loads(text.replace("{caller-supplied-token}", f"Bearer {token}"))  # type: ignore[no-any-return]


@pytest.mark.parametrize("kind", ["rest_token", "http_v2_request"])
def test_the_lambda_authorizer_refuses_an_async_check(
    lc: LocalCognito, kind: str, async_one: Any, no_unawaited_warning: None
) -> None:
    from cognito_helper.aws_lambda import authorize

    with pytest.raises(ValueError, match="async"):
        authorize(lambda_event(kind, lc.mint("access")), config=lc.config, check=async_one)


@pytest.mark.parametrize(
    "check", [lambda c: False, refusing_wrapper], ids=["returns-false", "returns-a-coroutine"]
)
def test_the_lambda_authorizer_refuses_the_token_when_the_check_refuses(
    lc: LocalCognito, check: Any, no_unawaited_warning: None
) -> None:
    from cognito_helper.aws_lambda import authorize

    token = lc.mint("access")
    for _ in range(2):
        with pytest.raises(Exception, match=r"^Unauthorized$"):
            authorize(lambda_event("rest_token", token), config=lc.config, check=check)
        simple = authorize(lambda_event("http_v2_request", token), config=lc.config, check=check)
        assert simple["isAuthorized"] is False
    allowed = authorize(lambda_event("rest_token", token), config=lc.config, check=lambda c: True)
    assert allowed["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_an_async_check_never_runs_in_an_event_loop_either(issuer: Issuer) -> None:
    """Even called from a running loop (FastAPI's), the coroutine function is refused."""

    async def main() -> None:
        with pytest.raises(ValueError, match="async"):
            decode_verify_jwt(issuer.token("access"), config=issuer.config, check=async_check)

    asyncio.run(main())
