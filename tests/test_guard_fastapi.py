"""cognito_helper.fastapi: the FastAPI guard, through FastAPI's TestClient (and httpx's ASGI
transport where requests must run concurrently), against tokens from LocalCognito.

The verifier is never mocked: a refusal here is the library's own, mapped by
cognito_helper.integrations.bearer. Every row of the mapping's table runs with the verification memo
on and
off.
"""

# No "from __future__ import annotations": FastAPI reads the routes' annotations, which name
# guards local to the functions that build the apps.
import asyncio
import dataclasses
import socket
import time
from pathlib import Path
from typing import Annotated, Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Tuple

import pytest

fastapi = pytest.importorskip("fastapi")
httpx = pytest.importorskip("httpx")

from fastapi import Depends, FastAPI, Security  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402

import cognito_helper  # noqa: E402
import cognito_helper.integrations.fastapi as guard  # noqa: E402
from cognito_helper import CognitoConfig, ConfigError, InvalidClaimsError  # noqa: E402
from cognito_helper.fastapi import (  # noqa: E402
    BearerHTTPException,
    CognitoBearer,
    add_exception_handler,
    refusal_response,
)
from cognito_helper.testing import LocalCognito  # noqa: E402
from cognito_helper.testing.keys import SigningKey  # noqa: E402

from .helpers import (  # noqa: E402
    PLAIN_USE,
    MakeLocalCognito,
    example_env,
    free_port,
    imported,
    load_example,
    running_example,
)
from .servers import ScriptedServer, respond, send  # noqa: E402
from .snippets import snippets_for  # noqa: E402

Claims = Dict[str, Any]
Headers = List[Tuple[str, str]]


def api(bearer: CognitoBearer, *, handler: bool = True) -> FastAPI:
    """An app with a route per way of using ``bearer``; ``/open`` verifies with no options."""
    app = FastAPI()
    if handler:
        add_exception_handler(app)
    open_bearer = CognitoBearer(config=bearer.config, token_use=None)

    async def reader(claims: Annotated[Claims, Security(bearer, scopes=["orders/read"])]) -> Claims:
        return claims

    @app.get("/public")
    async def public() -> Dict[str, bool]:
        return {"public": True}

    @app.get("/open")
    async def open_route(claims: Annotated[Claims, Depends(open_bearer)]) -> Claims:
        return claims

    @app.get("/any")
    async def any_token(claims: Annotated[Claims, Depends(bearer)]) -> Claims:
        return claims

    @app.get("/sync")
    def sync_route(claims: Annotated[Claims, Depends(bearer)]) -> Claims:
        return claims

    @app.get("/orders")
    async def orders(claims: Annotated[Claims, Security(bearer, scopes=["orders/read"])]) -> Claims:
        return claims

    @app.get("/admin")  # nested: reader's orders/read and this route's orders/admin
    async def admin(claims: Annotated[Claims, Security(reader, scopes=["orders/admin"])]) -> Claims:
        return claims

    return app


def bearer_header(token: str) -> Headers:
    return [("Authorization", f"Bearer {token}")]


# -- the table --------------------------------------------------------------------------------


class Pools(NamedTuple):
    lc: LocalCognito  # the configured pool
    other: LocalCognito  # a pool the app does not trust
    down: CognitoConfig  # lc's pool, with a JWKS URL that answers 500


@pytest.fixture
def pools(make_lc: MakeLocalCognito) -> Iterator[Pools]:
    lc, other = make_lc(), make_lc(user_pool_id="us-east-1_OtherPool9")
    with ScriptedServer() as broken:
        broken.routes["/jwks.json"] = respond(500, {"message": "down"})
        yield Pools(lc, other, dataclasses.replace(lc.config, jwks_url=broken.url + "/jwks.json"))


class Row(NamedTuple):
    headers: Callable[[Pools], Headers]
    path: str
    options: Dict[str, Any]
    status: int
    challenge: Optional[str]  # the WWW-Authenticate value, or its start when it ends in "*"
    error: Optional[str]  # the body's "error"; None for a 200


def forged(p: Pools) -> str:
    return p.lc.mint("access", key=SigningKey.generate().private_key)


NOW = int(time.time())
ROWS = {
    "valid": Row(lambda p: bearer_header(p.lc.mint("access")), "/any", {}, 200, None, None),
    "valid-sync-route": Row(
        lambda p: bearer_header(p.lc.mint("access")), "/sync", {}, 200, None, None
    ),
    "scheme-any-case": Row(
        lambda p: [("Authorization", f"bEaReR   {p.lc.mint('access')} ")],
        "/any",
        {},
        200,
        None,
        None,
    ),
    "no-header": Row(lambda p: [], "/any", {}, 401, "Bearer", "unauthorized"),
    "empty-header": Row(
        lambda p: [("Authorization", "")], "/any", {}, 401, "Bearer", "unauthorized"
    ),
    "other-scheme": Row(
        lambda p: [("Authorization", "Basic dXNlcjpwdw==")],
        "/any",
        {},
        401,
        "Bearer",
        "unauthorized",
    ),
    "bearer-no-token": Row(
        lambda p: [("Authorization", "Bearer ")],
        "/any",
        {},
        400,
        'Bearer error="invalid_request"',
        "invalid_request",
    ),
    "two-tokens": Row(
        lambda p: [("Authorization", "Bearer a.b.c d.e.f")],
        "/any",
        {},
        400,
        'Bearer error="invalid_request"',
        "invalid_request",
    ),
    "two-headers": Row(
        lambda p: bearer_header(p.lc.mint("access")) * 2,
        "/any",
        {},
        400,
        'Bearer error="invalid_request"',
        "invalid_request",
    ),
    "header-over-64k": Row(
        lambda p: bearer_header("x" * 64 * 1024),
        "/any",
        {},
        400,
        'Bearer error="invalid_request"',
        "invalid_request",
    ),
    "malformed": Row(
        lambda p: bearer_header("not-a-jwt"),
        "/any",
        {},
        401,
        'Bearer error="invalid_token", error_description="*',
        "invalid_token",
    ),
    "expired": Row(
        lambda p: bearer_header(p.lc.mint("access", exp=NOW - 60, iat=NOW - 3660)),
        "/any",
        {},
        401,
        'Bearer error="invalid_token", error_description="*',
        "invalid_token",
    ),
    "id-token": Row(
        lambda p: bearer_header(p.lc.mint("id")),
        "/any",
        {},
        401,
        'Bearer error="invalid_token", error_description="*',
        "invalid_token",
    ),
    "forged-signature": Row(
        lambda p: bearer_header(forged(p)),
        "/any",
        {},
        401,
        'Bearer error="invalid_token", error_description="*',
        "invalid_token",
    ),
    "unknown-kid": Row(
        lambda p: bearer_header(p.lc.mint("access", header={"kid": "no-such-kid"})),
        "/any",
        {},
        401,
        'Bearer error="invalid_token", error_description="*',
        "invalid_token",
    ),
    "unconfigured-pool": Row(
        lambda p: bearer_header(p.other.mint("access")),
        "/any",
        {},
        401,
        'Bearer error="invalid_token", error_description="*',
        "invalid_token",
    ),
    "unconfigured-pool-config-list": Row(
        lambda p: bearer_header(p.other.mint("access")),
        "/any",
        {"config": "list"},
        401,
        'Bearer error="invalid_token", error_description="*',
        "invalid_token",
    ),
    "no-required-scope": Row(
        lambda p: bearer_header(p.lc.mint("access")),
        "/any",
        {"scopes": ["orders/write", "orders/admin"]},
        403,
        'Bearer error="insufficient_scope", error_description="*scope="orders/admin orders/write"',
        "insufficient_scope",
    ),
    "one-required-scope": Row(
        lambda p: bearer_header(p.lc.mint("access", scope="openid orders/admin")),
        "/any",
        {"scopes": ["orders/write", "orders/admin"]},
        200,
        None,
        None,
    ),
    "no-required-group": Row(
        lambda p: bearer_header(p.lc.mint("access", **{"cognito:groups": ["readers"]})),
        "/any",
        {"groups": "admins"},
        403,
        'Bearer error="insufficient_scope", error_description="*',
        "insufficient_scope",
    ),
    "required-group": Row(
        lambda p: bearer_header(p.lc.mint("access", **{"cognito:groups": ["admins"]})),
        "/any",
        {"groups": "admins"},
        200,
        None,
        None,
    ),
    "no-security-scope": Row(
        lambda p: bearer_header(p.lc.mint("access")),
        "/orders",
        {},
        403,
        'Bearer error="insufficient_scope", error_description="*scope="orders/read"',
        "insufficient_scope",
    ),
    "security-scope": Row(
        lambda p: bearer_header(p.lc.mint("access", scope="orders/read")),
        "/orders",
        {},
        200,
        None,
        None,
    ),
    "check-refuses": Row(
        lambda p: bearer_header(p.lc.mint("access", **{"custom:tenant": "b"})),
        "/any",
        {"check": "tenant-a"},
        401,
        'Bearer error="invalid_token", error_description="another tenant\'s token"',
        "invalid_token",
    ),
    "no-usable-jwks": Row(
        lambda p: bearer_header(p.lc.mint("access")), "/any", {"config": "down"}, 503, None, None
    ),
}


def tenant_a(claims: Claims) -> None:
    if claims.get("custom:tenant", "a") != "a":
        raise InvalidClaimsError("another tenant's token", claim="custom:tenant")


def options_for(row: Row, p: Pools) -> Dict[str, Any]:
    options = dict(row.options)
    config = options.pop("config", "lc")
    options["config"] = {"lc": p.lc.config, "down": p.down, "list": [p.lc.config]}[config]
    if options.get("check") == "tenant-a":
        options["check"] = tenant_a
    return options


def assert_answer(response: Any, row: Row, sent: Headers) -> None:
    assert response.status_code == row.status, response.text
    body = response.json()
    if row.status == 200:
        assert body["token_use"] == "access"
        return
    if row.status == 503:
        assert response.headers["Retry-After"] == "10"
        assert "WWW-Authenticate" not in response.headers
        assert body["error"] == "temporarily_unavailable"
    else:
        challenge = response.headers["WWW-Authenticate"]
        assert row.challenge is not None
        start, star, end = row.challenge.partition("*")
        assert challenge.startswith(start) and challenge.endswith(end), challenge
        assert star or challenge == start
        assert body["error"] == row.error
    assert set(body) == {"error", "error_description"}
    assert body["error_description"]
    for _, value in sent:
        token = value.split()[-1] if value.split() else ""
        if len(token) > 20:  # never the token, in the body or the challenge
            assert token not in response.text
            assert token not in response.headers.get("WWW-Authenticate", "")


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_the_rfc6750_table(pools: Pools, memo: bool, row: Row) -> None:
    client = TestClient(api(CognitoBearer(**options_for(row, pools))))
    sent = row.headers(pools)
    if row.status in (200, 403):  # a valid token: let it pass once first (the memo keeps it)
        assert client.get("/open", headers=sent).status_code == 200
    for _ in range(2):  # the same answer from the full path and from the memo
        assert_answer(client.get(row.path, headers=sent), row, sent)


def test_the_memo_answers_repeats_through_the_guard(pools: Pools, memo: bool) -> None:
    client = TestClient(api(CognitoBearer(config=pools.lc.config)))
    token = bearer_header(pools.lc.mint("access"))
    before = cognito_helper.verification_memo_info().hits
    for _ in range(3):
        assert client.get("/any", headers=token).status_code == 200
    assert client.get("/orders", headers=token).status_code == 403  # refused from the memo too
    hits = cognito_helper.verification_memo_info().hits - before
    assert hits == (3 if memo else 0)


def test_the_realm_is_in_every_challenge(lc: LocalCognito) -> None:
    client = TestClient(api(CognitoBearer(config=lc.config, realm="orders")))
    assert client.get("/any").headers["WWW-Authenticate"] == 'Bearer realm="orders"'
    refused = client.get("/orders", headers=bearer_header(lc.mint("access")))
    assert refused.headers["WWW-Authenticate"].startswith(
        'Bearer realm="orders", error="insufficient_scope"'
    )


def test_the_claims_reach_the_route(lc: LocalCognito) -> None:
    token = lc.mint("access", scope="openid orders/read", username="bob")
    answer = TestClient(api(CognitoBearer(config=lc.config))).get(
        "/orders", headers=bearer_header(token)
    )
    assert answer.status_code == 200
    assert answer.json()["username"] == "bob" and answer.json()["scope"] == "openid orders/read"


def test_an_id_token_guard(lc: LocalCognito) -> None:
    client = TestClient(api(CognitoBearer(config=lc.config, token_use="id")))
    assert client.get("/any", headers=bearer_header(lc.mint("id"))).json()["token_use"] == "id"
    assert client.get("/any", headers=bearer_header(lc.mint("access"))).status_code == 401


# -- Security scopes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("granted", "status"),
    [
        ("openid", 403),
        ("orders/read", 403),
        ("orders/admin", 403),
        ("orders/read orders/admin", 200),
        ("openid orders/admin email orders/read", 200),
    ],
)
def test_nested_security_scopes_are_all_required(
    lc: LocalCognito, granted: str, status: int
) -> None:
    client = TestClient(api(CognitoBearer(config=lc.config)))
    answer = client.get("/admin", headers=bearer_header(lc.mint("access", scope=granted)))
    assert answer.status_code == status
    if status == 403:  # scope= names the ones the token lacks
        challenge = answer.headers["WWW-Authenticate"]
        missing = " ".join(s for s in ["orders/admin", "orders/read"] if s not in granted)
        assert challenge.endswith(f'scope="{missing}"'), challenge
        assert "it needs all of ['orders/admin', 'orders/read']" in challenge


@pytest.mark.parametrize(
    ("granted", "status"),
    [("orders/read", 200), ("orders/read orders/write", 200), ("orders/write", 403), ("a", 403)],
)
def test_security_scopes_add_to_the_guards_own(lc: LocalCognito, granted: str, status: int) -> None:
    # The guard's scopes=: at least one of them; Security's: every one, on top.
    bearer = CognitoBearer(config=lc.config, scopes=["orders/read", "orders/list"])
    client = TestClient(api(bearer))
    answer = client.get("/orders", headers=bearer_header(lc.mint("access", scope=granted)))
    assert answer.status_code == status


def test_security_scopes_run_before_the_apps_check(lc: LocalCognito) -> None:
    seen: List[Claims] = []
    bearer = CognitoBearer(config=lc.config, check=seen.append)
    client = TestClient(api(bearer))
    assert client.get("/orders", headers=bearer_header(lc.mint("access"))).status_code == 403
    assert seen == []
    ok = client.get("/orders", headers=bearer_header(lc.mint("access", scope="orders/read")))
    assert ok.status_code == 200 and len(seen) == 1


# -- the answer's form ------------------------------------------------------------------------


def test_without_the_handler_fastapi_nests_the_body_under_detail(lc: LocalCognito) -> None:
    client = TestClient(api(CognitoBearer(config=lc.config), handler=False))
    answer = client.get("/orders", headers=bearer_header(lc.mint("access")))
    assert answer.status_code == 403
    assert answer.headers["WWW-Authenticate"].startswith('Bearer error="insufficient_scope"')
    assert answer.json()["detail"]["error"] == "insufficient_scope"
    assert set(answer.json()["detail"]) == {"error", "error_description"}


def test_the_exception_is_an_http_exception_carrying_the_refusal(lc: LocalCognito) -> None:
    caught: List[BearerHTTPException] = []
    app = api(CognitoBearer(config=lc.config), handler=False)

    @app.exception_handler(BearerHTTPException)
    async def record(request: Any, exc: BearerHTTPException) -> Any:
        caught.append(exc)
        return await refusal_response(request, exc)

    answer = TestClient(app).get("/any", headers=bearer_header(lc.mint("id")))
    assert answer.status_code == 401 and answer.json()["error"] == "invalid_token"
    (exc,) = caught
    assert isinstance(exc, fastapi.HTTPException)
    assert exc.status_code == 401 and exc.detail == exc.refusal.body
    assert exc.headers == exc.refusal.headers
    assert isinstance(exc.cause, InvalidClaimsError) and exc.cause.claim == "token_use"


def test_starlette_without_fastapi(lc: LocalCognito) -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    bearer = CognitoBearer(config=lc.config)

    async def orders(request: Request) -> JSONResponse:
        claims = await bearer.authenticate(request, scopes=["orders/read"])
        return JSONResponse({"sub": claims["sub"]})

    app = Starlette(
        routes=[Route("/orders", orders)],
        exception_handlers={BearerHTTPException: refusal_response},
    )
    client = TestClient(app)
    assert client.get("/orders").status_code == 401
    refused = client.get("/orders", headers=bearer_header(lc.mint("access")))
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"
    token = lc.mint("access", scope="orders/read")
    assert client.get("/orders", headers=bearer_header(token)).status_code == 200


def test_nothing_configured_is_a_server_error_not_a_refusal(lc: LocalCognito) -> None:
    client = TestClient(api(CognitoBearer()))
    with pytest.raises(ConfigError):
        client.get("/any", headers=bearer_header(lc.mint("access")))


def test_the_configured_default_is_read_per_request(make_lc: MakeLocalCognito) -> None:
    first, second = make_lc(), make_lc(user_pool_id="us-east-1_SecondPool2")
    client = TestClient(api(CognitoBearer()))
    token = bearer_header(first.mint("access"))
    cognito_helper.configure(first.config)
    assert client.get("/any", headers=token).status_code == 200
    cognito_helper.configure(second.config)
    assert client.get("/any", headers=token).status_code == 401


@pytest.mark.parametrize(
    "options",
    [
        {"token_use": "refresh"},
        {"scopes": 5},
        {"groups": [1]},
        {"config": []},
        {"config": ["not a config"]},
        {"check": "not callable"},
    ],
)
def test_invalid_options_fail_when_the_guard_is_made(options: Dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        CognitoBearer(**options)


def test_a_config_list_is_copied(lc: LocalCognito) -> None:
    configs = [lc.config]
    bearer = CognitoBearer(config=configs)
    configs.clear()
    assert bearer.config == (lc.config,)


# -- OpenAPI ----------------------------------------------------------------------------------


def test_openapi_shows_an_http_bearer_scheme_on_the_guarded_routes(lc: LocalCognito) -> None:
    app = api(CognitoBearer(config=lc.config))
    schema = TestClient(app).get("/openapi.json").json()
    scheme = schema["components"]["securitySchemes"]["CognitoBearer"]
    assert scheme["type"] == "http" and scheme["scheme"] == "bearer"
    assert scheme["bearerFormat"] == "JWT" and "access token" in scheme["description"]
    assert schema["paths"]["/any"]["get"]["security"] == [{"CognitoBearer": []}]
    assert "security" not in schema["paths"]["/public"]["get"]
    assert "/orders" in schema["paths"] and "security" in schema["paths"]["/orders"]["get"]
    # No parameter leaks into the schema: the guard reads the header itself.
    assert "parameters" not in schema["paths"]["/any"]["get"]
    docs = TestClient(app).get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_the_scheme_name_and_description_can_be_chosen(lc: LocalCognito) -> None:
    bearer = CognitoBearer(config=lc.config, scheme_name="Staff", description="staff tokens")
    scheme = api(bearer).openapi()["components"]["securitySchemes"]["Staff"]
    assert scheme["description"] == "staff tokens"


# -- the event loop -----------------------------------------------------------------------------


class Hops:
    """Counts verifications sent to a worker thread."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        real = guard.run_in_threadpool

        async def counting(func: Any, *args: Any) -> Any:
            self.count += 1
            return await real(func, *args)

        monkeypatch.setattr(guard, "run_in_threadpool", counting)

    def taken(self) -> int:
        count, self.count = self.count, 0
        return count


def test_only_a_verification_that_may_fetch_keys_leaves_the_loop(
    make_lc: MakeLocalCognito, monkeypatch: pytest.MonkeyPatch
) -> None:
    lc, other = make_lc(), make_lc(user_pool_id="us-east-1_OtherPool9")
    hops = Hops(monkeypatch)
    client = TestClient(api(CognitoBearer(config=lc.config)))

    def status(token: str, path: str = "/any") -> int:
        return int(client.get(path, headers=bearer_header(token)).status_code)

    token = lc.mint("access")
    assert (status(token), hops.taken()) == (200, 1)  # no JWKS yet: fetched off the loop
    assert (status(token), hops.taken()) == (200, 0)  # a current key: on the loop
    assert (status(lc.mint("access")), hops.taken()) == (200, 0)  # a new token, same key
    assert (status(lc.mint("id")), hops.taken()) == (401, 0)  # the pool's other current key
    assert (client.get("/any").status_code, hops.taken()) == (401, 0)  # no token
    assert (status("not-a-jwt"), hops.taken()) == (401, 0)  # refused before any key
    assert (status(lc.mint("access", header={"kid": "new"})), hops.taken()) == (401, 1)
    assert (status(other.mint("access")), hops.taken()) == (401, 1)  # a kid the cache lacks
    cognito_helper.jwks_cache(lc.jwks_url).ttl = 0  # due for a refresh: may fetch
    assert (status(token), hops.taken()) == (200, 1)


def test_several_configs_stay_on_the_loop_only_for_one_pools_current_key(
    make_lc: MakeLocalCognito, monkeypatch: pytest.MonkeyPatch
) -> None:
    lc, other = make_lc(), make_lc(user_pool_id="us-east-1_OtherPool9")
    hops = Hops(monkeypatch)
    mobile = dataclasses.replace(lc.config, client_id="mobileclient1234567890")
    one_pool = TestClient(api(CognitoBearer(config=[lc.config, mobile])))
    two_pools = TestClient(api(CognitoBearer(config=[lc.config, other.config])))
    token = bearer_header(lc.mint("access"))
    assert (one_pool.get("/any", headers=token).status_code, hops.taken()) == (200, 1)
    assert (one_pool.get("/any", headers=token).status_code, hops.taken()) == (200, 0)
    for _ in range(2):  # the other pool's cache never holds this kid
        assert (two_pools.get("/any", headers=token).status_code, hops.taken()) == (200, 1)


class SlowJwks:
    """``lc``'s JWKS, served by a loopback server that first waits ``delay`` seconds."""

    def __init__(self, lc: LocalCognito, server: ScriptedServer, delay: float) -> None:
        import requests

        with requests.Session() as session:
            session.trust_env = False  # no proxy between the test and loopback
            document = session.get(lc.jwks_url, timeout=10).content
        self.server, self.path = server, "/slow/jwks.json"

        def slow(handler: Any) -> None:
            time.sleep(delay)
            send(handler, 200, document)

        server.routes[self.path] = slow
        self.config = dataclasses.replace(
            lc.config, jwks_url=server.url + self.path, timeout=delay + 8
        )

    @property
    def fetches(self) -> int:
        return self.server.count(self.path)


class Run(NamedTuple):
    statuses: List[int]
    elapsed: float  # seconds the requests took
    ticks: int  # how often a 10 ms ticker ticked meanwhile
    longest_gap: float  # the longest the ticker was held up


def run_with_ticker(app: Any, tokens: List[str], before: Any = None) -> Run:
    """Send a request per token to ``app`` at once, while a task ticks every 10 ms."""

    async def scenario() -> Run:
        gaps: List[float] = []
        stop = asyncio.Event()

        async def ticker() -> None:
            last = time.monotonic()
            while not stop.is_set():
                await asyncio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
            ticking = asyncio.create_task(ticker())
            await asyncio.sleep(0.05)
            gaps.clear()
            started = time.monotonic()
            if before is not None:
                before()
            answers = await asyncio.gather(
                *(client.get("/any", headers=bearer_header(token)) for token in tokens)
            )
            elapsed = time.monotonic() - started
            stop.set()
            await ticking
        return Run([a.status_code for a in answers], elapsed, len(gaps), max(gaps))

    return asyncio.run(scenario())


@pytest.mark.slow  # waits out a 2 s fetch
def test_a_slow_jwks_fetch_never_blocks_the_loop_and_concurrent_requests_share_it(
    lc: LocalCognito,
) -> None:
    with ScriptedServer() as server:
        jwks = SlowJwks(lc, server, delay=2.0)
        app = api(CognitoBearer(config=jwks.config))
        tokens = [lc.mint("access") for _ in range(20)]
        run = run_with_ticker(app, tokens)
        assert run.statuses == [200] * 20
        assert jwks.fetches == 1  # twenty requests, one fetch
        assert run.elapsed >= 1.9  # they did wait for the slow JWKS...
        assert run.longest_gap < 0.25, run  # ...while the loop kept running
        assert run.ticks >= 0.4 * run.elapsed / 0.01, run
        # Now the key is current: the same and new tokens are answered without a fetch.
        again = run_with_ticker(app, [*tokens[:5], lc.mint("access")])
        assert again.statuses == [200] * 6 and jwks.fetches == 1 and again.elapsed < 1


@pytest.mark.slow  # waits out a 2 s fetch
def test_the_ticker_does_see_a_verification_that_blocks_the_loop(lc: LocalCognito) -> None:
    # The check on the test above: the same fetch made on the loop holds the ticker up.
    with ScriptedServer() as server:
        jwks = SlowJwks(lc, server, delay=2.0)
        token = lc.mint("access")
        run = run_with_ticker(
            FastAPI(),
            [],
            before=lambda: cognito_helper.decode_verify_jwt(token, config=jwks.config),
        )
        assert run.longest_gap >= 1.9, run


# -- imports ------------------------------------------------------------------------------------


def test_import_cognito_helper_imports_no_web_framework() -> None:
    assert imported(PLAIN_USE, "fastapi", "starlette") == []


# -- the README's snippet ---------------------------------------------------------------------


def test_readme_snippet_runs_as_written(lc: LocalCognito) -> None:
    cognito_helper.configure(lc.config)
    (snippet,) = snippets_for(test_readme_snippet_runs_as_written)  # "### FastAPI"
    namespace = snippet.run(module="readme_fastapi")
    client = TestClient(namespace["app"])
    token = lc.mint("access")
    sub = cognito_helper.decode_unverified(token)[1]["sub"]
    assert client.get("/me", headers=bearer_header(token)).json() == {"user": sub}
    assert client.get("/me").status_code == 401
    refused = client.get("/orders", headers=bearer_header(token))
    assert refused.status_code == 403 and refused.json()["error"] == "insufficient_scope"
    granted = bearer_header(lc.mint("access", scope="orders/read"))
    assert client.get("/orders", headers=granted).json() == {"user": sub, "orders": []}


# -- examples/fastapi_app.py ------------------------------------------------------------------


def check_example_routes(client: TestClient, lc: LocalCognito) -> None:
    plain = bearer_header(lc.mint("access"))
    orders = bearer_header(lc.mint("access", scope="openid orders/read"))
    assert client.get("/").status_code == 200
    refused = client.get("/me")
    assert (refused.status_code, refused.headers["WWW-Authenticate"]) == (401, "Bearer")
    assert refused.json()["error"] == "unauthorized"
    me = client.get("/me", headers=plain)
    assert me.status_code == 200 and me.json()["scopes"] == ["openid", "email", "profile"]
    forbidden = client.get("/orders", headers=plain)
    assert forbidden.status_code == 403
    assert forbidden.json()["error"] == "insufficient_scope"
    assert forbidden.headers["WWW-Authenticate"].endswith('scope="orders/read"')
    assert client.get("/orders", headers=orders).json()["orders"]
    assert client.get("/me", headers=bearer_header(lc.mint("id"))).status_code == 401
    schema = client.get("/openapi.json").json()
    assert schema["components"]["securitySchemes"]["CognitoBearer"]["scheme"] == "bearer"


def test_example_with_a_configured_pool(lc: LocalCognito) -> None:
    app = load_example("fastapi_app").create_app(lc.config)
    with TestClient(app) as client:
        assert app.state.local_cognito is None
        check_example_routes(client, lc)


def test_example_runs_against_an_embedded_local_cognito_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no config.py here; conftest removed the COGNITO_* variables
    example = load_example("fastapi_app")
    app = example.create_app()
    lc = app.state.local_cognito
    with TestClient(app) as client:
        check_example_routes(client, lc)
        tokens = example.demo_tokens(lc)
        assert client.get("/orders", headers=bearer_header(tokens["TOKEN"])).status_code == 403
        answer = client.get("/orders", headers=bearer_header(tokens["ORDERS_TOKEN"]))
        assert answer.status_code == 200
    host, port = lc.url.rsplit("//", 1)[1].split(":")
    with pytest.raises(OSError):  # shutting the app down stopped its LocalCognito
        socket.create_connection((host, int(port)), timeout=5).close()


def test_example_reads_the_cognito_variables(
    lc: LocalCognito, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COGNITO_USER_POOL_ID", lc.config.user_pool_id)
    monkeypatch.setenv("COGNITO_CLIENT_ID", lc.config.client_id)
    monkeypatch.setenv("COGNITO_ISSUER", lc.issuer)
    monkeypatch.setenv("COGNITO_JWKS_URL", lc.jwks_url)
    app = load_example("fastapi_app").create_app()
    with TestClient(app) as client:
        assert app.state.local_cognito is None
        check_example_routes(client, lc)


@pytest.mark.slow  # a subprocess
def test_example_serves_with_uvicorn_and_prints_working_demo_tokens(tmp_path: Path) -> None:
    pytest.importorskip("uvicorn")
    import requests

    port = free_port()
    with running_example("fastapi_app", tmp_path, example_env(PORT=str(port)), port) as run:
        assert run.process.stdout is not None
        exports: Dict[str, str] = {}
        for line in run.process.stdout:
            if line.strip().startswith("export "):
                name, _, value = line.strip()[len("export ") :].partition("=")
                exports[name] = value
            if len(exports) == 2:
                break
        base = f"http://127.0.0.1:{port}"
        session = requests.Session()
        session.trust_env = False

        def get(path: str, token: Optional[str] = None) -> int:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            return int(session.get(base + path, headers=headers, timeout=10).status_code)

        assert get("/") == 200 and get("/me") == 401
        assert get("/me", exports["TOKEN"]) == 200 and get("/orders", exports["TOKEN"]) == 403
        assert get("/orders", exports["ORDERS_TOKEN"]) == 200


# -- what a refusal sends and names; repeated headers; nothing configured ---------------------


def blocked_tenant(claims: Claims) -> None:
    """A check whose refusal holds a detail for the log and a sentence for the client."""
    exc = InvalidClaimsError("tenant 'acme-internal-7' is blocked", claim="custom:tenant")
    exc.public = "this tenant is blocked"
    raise exc


def test_a_refusal_sends_the_public_sentence(lc: LocalCognito) -> None:
    client = TestClient(api(CognitoBearer(config=lc.config, check=blocked_tenant)))
    refused = client.get("/any", headers=bearer_header(lc.mint("access")))
    assert refused.status_code == 401
    assert refused.json()["error_description"] == "this tenant is blocked"
    challenge = refused.headers["WWW-Authenticate"]
    assert challenge.endswith('error_description="this tenant is blocked"')
    assert "acme-internal-7" not in refused.text + str(refused.headers)


@pytest.mark.parametrize(
    ("granted", "named"),
    [
        ("openid", "orders/admin orders/read"),
        ("orders/read", "orders/admin"),
        ("orders/admin", "orders/read"),
    ],
)
def test_security_scopes_name_only_the_missing_ones(
    lc: LocalCognito, granted: str, named: str
) -> None:
    client = TestClient(api(CognitoBearer(config=lc.config)))
    refused = client.get("/admin", headers=bearer_header(lc.mint("access", scope=granted)))
    assert refused.status_code == 403
    assert refused.headers["WWW-Authenticate"].endswith(f', scope="{named}"')


def test_a_missing_group_names_no_scope(lc: LocalCognito) -> None:
    client = TestClient(api(CognitoBearer(config=lc.config, groups="admins")))
    token = lc.mint("access", scope="orders/read", **{"cognito:groups": ["readers"]})
    for path in ["/any", "/orders"]:
        refused = client.get(path, headers=bearer_header(token))
        assert refused.status_code == 403
        assert "scope=" not in refused.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    "values",
    [["Basic dXNlcjpwdw==", "Bearer {}"], ["Bearer {}", "Basic dXNlcjpwdw=="]],
    ids=["basic-first", "bearer-first"],
)
def test_a_bearer_header_beside_another_scheme_is_400(lc: LocalCognito, values: List[str]) -> None:
    client = TestClient(api(CognitoBearer(config=lc.config)))
    token = lc.mint("access")
    refused = client.get("/any", headers=[("Authorization", v.format(token)) for v in values])
    assert (refused.status_code, refused.json()["error"]) == (400, "invalid_request")


def test_nothing_configured_is_the_same_error_with_or_without_a_token(lc: LocalCognito) -> None:
    client = TestClient(api(CognitoBearer()))
    basic = [("Authorization", "Basic dXNlcjpwdw==")]
    for headers in [[], basic, bearer_header(lc.mint("access"))]:
        with pytest.raises(ConfigError):
            client.get("/any", headers=headers)
    quiet = TestClient(api(CognitoBearer()), raise_server_exceptions=False)
    assert quiet.get("/any").status_code == quiet.get("/sync").status_code == 500


# -- the class instead of an instance, refused when the route is made ---------------------------


class StaffBearer(CognitoBearer):
    """A subclass, as an app may make one."""


@pytest.mark.parametrize("guard_class", [CognitoBearer, StaffBearer])
@pytest.mark.parametrize("form", ["Depends", "Security", "default"])
def test_the_class_instead_of_an_instance_fails_when_the_route_is_made(
    guard_class: Any, form: str
) -> None:
    app = FastAPI()
    with pytest.raises(TypeError, match=rf"Depends\({guard_class.__name__}\).*an instance"):
        if form == "Depends":

            @app.get("/me")
            async def me(claims: Annotated[Claims, Depends(guard_class)]) -> Claims:
                return claims

        elif form == "Security":

            @app.get("/me")
            async def me(
                claims: Annotated[Claims, Security(guard_class, scopes=["orders/read"])],
            ) -> Claims:
                return claims

        else:

            @app.get("/me")
            def me(claims: Claims = Depends(guard_class)) -> Claims:
                return claims

    assert TestClient(app).get("/me").status_code == 404  # no route was left behind
    assert TestClient(app).get("/openapi.json").status_code == 200


def test_an_instance_of_either_class_still_guards(lc: LocalCognito) -> None:
    for bearer in [CognitoBearer(config=lc.config), StaffBearer(config=lc.config)]:
        client = TestClient(api(bearer))
        assert client.get("/any").status_code == 401
        assert client.get("/any", headers=bearer_header(lc.mint("access"))).status_code == 200
        assert client.get("/openapi.json").status_code == 200
