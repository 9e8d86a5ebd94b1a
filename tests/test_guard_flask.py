"""cognito_helper.flask: ``require_token`` through Flask's test client, against LocalCognito.

Every row of the bearer mapping's table, on a sync and an async view, with the verification
memo on and off; then the claims reaching the view, ``realm``, ``audience``, ``check``,
``config`` (one, a list, the configured default) and the README's snippet. No mocking of the
verifier: the tokens are LocalCognito's and the keys come from its JWKS endpoint.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple, cast

import pytest

pytest.importorskip("flask")
pytest.importorskip("asgiref")  # Flask's async views: flask[async]

import flask
from flask import Blueprint, Flask, g, request
from flask.views import MethodView

import cognito_helper
from cognito_helper import (
    CognitoConfig,
    ConfigError,
    InvalidClaimsError,
    decode_unverified,
    verification_memo_info,
)
from cognito_helper.flask import TokenGuard, require_token
from cognito_helper.integrations.bearer import BearerRefusal, verify_bearer
from cognito_helper.testing import LocalCognito

from .helpers import PLAIN_USE, MakeLocalCognito, imports
from .servers import closed_port
from .snippets import snippets_for
from .tokens import KeyPair

ROOT = Path(__file__).parents[1]
WRITE_SCOPES = ["orders/write", "orders/admin"]
Headers = List[Tuple[str, str]]


# -- an app with guarded views ------------------------------------------------------------


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def asynchronous(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


class Guarded:
    """A Flask app whose views return ``g.cognito_claims``; ``calls`` counts view runs."""

    def __init__(self, asynchronous: bool) -> None:
        self.app = Flask(__name__)
        self.client = self.app.test_client()
        self.asynchronous = asynchronous
        self.calls = 0

    def route(self, path: str, **options: Any) -> Dict[str, Any]:
        """Add a view at ``path`` guarded by ``require_token(**options)``; return the options."""

        def sync_view() -> Dict[str, Any]:
            self.calls += 1
            return {"claims": g.cognito_claims, "path": request.path}

        async def async_view() -> Dict[str, Any]:
            await asyncio.sleep(0)  # really awaited: the view runs in an event loop
            self.calls += 1
            return {"claims": g.cognito_claims, "path": request.path}

        view: Callable[..., Any] = async_view if self.asynchronous else sync_view
        self.app.add_url_rule(path, endpoint=path, view_func=require_token(**options)(view))
        return options

    def get(self, path: str, headers: Optional[Headers] = None) -> Any:
        return self.client.get(path, headers=headers or [])


def bearer(token: str) -> Headers:
    return [("Authorization", f"Bearer {token}")]


def app_for(config: Any, asynchronous: bool) -> Tuple[Guarded, Dict[str, Dict[str, Any]]]:
    """The table's app: its routes, and the ``require_token`` options of each."""
    app = Guarded(asynchronous)
    options = {
        "/any": app.route("/any", config=config),
        "/either": app.route("/either", config=config, token_use=None),
        "/write": app.route("/write", config=config, scopes=WRITE_SCOPES),
        "/admins": app.route("/admins", config=config, groups="admins"),
    }
    return app, options


# -- the table ----------------------------------------------------------------------------


class Row(NamedTuple):
    """One situation: what the client sends, where, and the answer bearer.py's table gives."""

    headers: Callable[[LocalCognito, MakeLocalCognito, KeyPair], Headers]
    status: int
    error: str
    route: str = "/any"
    warm: Optional[str] = None  # a route that accepts the token first (it enters the memo)
    jwks_down: bool = False


def expired(lc: LocalCognito, *_: Any) -> Headers:
    now = int(time.time())
    return bearer(lc.mint("access", exp=now - 120, iat=now - 3720, auth_time=now - 3720))


ROWS: Dict[str, Row] = {
    "no-header": Row(lambda *_: [], 401, "unauthorized"),
    "empty-header": Row(lambda *_: [("Authorization", "")], 401, "unauthorized"),
    "other-scheme": Row(lambda *_: [("Authorization", "Basic dXNlcjpwdw==")], 401, "unauthorized"),
    "bearer-no-token": Row(lambda *_: [("Authorization", "Bearer")], 400, "invalid_request"),
    "bearer-blank": Row(lambda *_: [("Authorization", "Bearer   ")], 400, "invalid_request"),
    "two-tokens": Row(
        lambda lc, *_: [("Authorization", f"Bearer {lc.mint('access')} {lc.mint('access')}")],
        400,
        "invalid_request",
    ),
    "two-headers": Row(
        lambda lc, *_: bearer(lc.mint("access")) + bearer(lc.mint("access")),
        400,
        "invalid_request",
    ),
    "over-64-KiB": Row(lambda *_: bearer("x" * 64 * 1024), 400, "invalid_request"),
    "malformed": Row(lambda *_: bearer("not-a-jwt"), 401, "invalid_token"),
    "expired": Row(expired, 401, "invalid_token"),
    "foreign-pool": Row(
        lambda _, make_lc, __: bearer(make_lc().mint("access")), 401, "invalid_token"
    ),
    "unknown-key": Row(
        lambda lc, *_: bearer(lc.mint("access", header={"kid": "no-such-kid"})),
        401,
        "invalid_token",
    ),
    "bad-signature": Row(
        lambda lc, _, key: bearer(lc.mint("access", key=key.private)), 401, "invalid_token"
    ),
    "id-token": Row(lambda lc, *_: bearer(lc.mint("id")), 401, "invalid_token", warm="/either"),
    "missing-scope": Row(
        lambda lc, *_: bearer(lc.mint("access", scope="openid orders/read")),
        403,
        "insufficient_scope",
        route="/write",
        warm="/any",
    ),
    "missing-group": Row(
        lambda lc, *_: bearer(lc.mint("access", **{"cognito:groups": ["readers"]})),
        403,
        "insufficient_scope",
        route="/admins",
        warm="/any",
    ),
    "jwks-unreachable": Row(
        lambda lc, *_: bearer(lc.mint("access")), 503, "temporarily_unavailable", jwks_down=True
    ),
}


def check_challenge(name: str, row: Row, headers: Any) -> None:
    """The ``WWW-Authenticate`` (or ``Retry-After``) the table asks for."""
    challenge = headers.get("WWW-Authenticate")
    if row.status == 503:
        assert challenge is None
        assert headers["Retry-After"] == "10"
    elif row.error == "unauthorized":
        assert challenge == "Bearer"  # no error code when there were no credentials
    elif row.error == "invalid_request":
        assert challenge == 'Bearer error="invalid_request"'
    elif row.error == "invalid_token":
        assert challenge.startswith('Bearer error="invalid_token", error_description="')
    else:
        assert challenge.startswith('Bearer error="insufficient_scope", error_description="')
        if row.route == "/write":  # the scopes the token lacks; a missing group names none
            assert challenge.endswith(', scope="orders/admin orders/write"')
        else:
            assert "scope=" not in challenge


@pytest.mark.parametrize("name", list(ROWS))
def test_the_table(
    name: str,
    lc: LocalCognito,
    make_lc: MakeLocalCognito,
    key_pairs: List[KeyPair],
    memo: bool,
    asynchronous: bool,
) -> None:
    row = ROWS[name]
    config = lc.config
    if row.jwks_down:
        config = dataclasses.replace(config, jwks_url=f"http://127.0.0.1:{closed_port()}/jwks")
    app, options = app_for(config, asynchronous)
    headers = row.headers(lc, make_lc, key_pairs[0])
    if row.warm:
        assert app.get(row.warm, headers).status_code == 200
    calls, hits = app.calls, verification_memo_info().hits

    answers = [app.get(row.route, headers) for _ in range(2)]

    assert app.calls == calls, "a refused request reached the view"
    if row.warm:  # the repeats were answered from the memo exactly when it is on
        assert (verification_memo_info().hits > hits) == memo
    first, second = answers
    assert first.status_code == second.status_code == row.status
    assert first.mimetype == "application/json"
    body = first.get_json()
    assert body["error"] == row.error and body["error_description"]
    # The description may differ on the repeat ("refetch cooling down"); nothing else does.
    assert second.get_json()["error"] == row.error
    assert set(second.headers.keys()) == set(first.headers.keys())
    check_challenge(name, row, first.headers)
    check_challenge(name, row, second.headers)
    for _, value in headers:
        token = value.split()[-1] if value.split() else ""
        if len(token) > 20:
            assert token not in first.get_data(as_text=True)
            assert token not in str(first.headers)
    # The answer is bearer.py's mapping, sent as it is.
    with pytest.raises(BearerRefusal) as refused:
        authorization = ", ".join(value for _, value in headers) if headers else None
        verify_bearer(authorization, **options[row.route])
    expected = refused.value.refusal
    assert (second.status_code, second.get_json()) == (expected.status, expected.body)
    for header, value in expected.headers.items():
        assert second.headers[header] == value


def test_a_valid_token_reaches_the_view_with_its_claims(
    lc: LocalCognito, memo: bool, asynchronous: bool
) -> None:
    app, _ = app_for(lc.config, asynchronous)
    token = lc.mint("access", scope="orders/write", **{"cognito:groups": ["admins"]})
    claims = decode_unverified(token)[1]
    for path in ["/any", "/either", "/write", "/admins", "/any"]:
        answer = app.get(path, bearer(token))
        assert answer.status_code == 200, answer.get_json()
        assert answer.get_json() == {"claims": claims, "path": path}
    assert app.calls == 5
    # The scheme name is matched in any case, and spaces around the token are not part of it.
    assert app.get("/any", [("Authorization", f"bEaReR   {token}  ")]).status_code == 200
    info = verification_memo_info()
    assert (info.hits > 0) == memo


def test_async_views_stay_coroutine_functions_and_keep_their_names() -> None:
    async def report() -> str:
        """The report."""
        return "ok"

    def orders() -> str:
        return "ok"

    guarded_report = require_token()(report)
    guarded_orders = require_token()(orders)
    assert inspect.iscoroutinefunction(guarded_report)
    assert not inspect.iscoroutinefunction(guarded_orders)
    assert (guarded_report.__name__, guarded_report.__doc__) == ("report", "The report.")
    assert guarded_orders.__name__ == "orders"


def test_view_arguments_are_passed_on(lc: LocalCognito, asynchronous: bool) -> None:
    app = Flask(__name__)

    if asynchronous:

        @app.get("/orders/<int:number>")
        @require_token(config=lc.config)
        async def order(number: int) -> Dict[str, Any]:
            return {"number": number, "user": g.cognito_claims["username"]}

    else:

        @app.get("/orders/<int:number>")
        @require_token(config=lc.config)
        def order(number: int) -> Dict[str, Any]:
            return {"number": number, "user": g.cognito_claims["username"]}

    answer = app.test_client().get("/orders/7", headers=bearer(lc.mint("access")))
    assert answer.get_json() == {"number": 7, "user": "local-user"}


# -- the options --------------------------------------------------------------------------


def test_the_realm_is_in_every_challenge(lc: LocalCognito, asynchronous: bool) -> None:
    app = Guarded(asynchronous)
    app.route("/r", config=lc.config, realm="orders", scopes="orders/write")
    assert app.get("/r").headers["WWW-Authenticate"] == 'Bearer realm="orders"'
    assert app.get("/r", [("Authorization", "Bearer")]).headers["WWW-Authenticate"] == (
        'Bearer realm="orders", error="invalid_request"'
    )
    challenge = app.get("/r", bearer("not-a-jwt")).headers["WWW-Authenticate"]
    assert challenge.startswith('Bearer realm="orders", error="invalid_token", ')
    forbidden = app.get("/r", bearer(lc.mint("access", scope="openid")))
    assert forbidden.status_code == 403
    assert forbidden.headers["WWW-Authenticate"].startswith(
        'Bearer realm="orders", error="insufficient_scope", '
    )
    assert app.get("/r", bearer(lc.mint("access", scope="orders/write"))).status_code == 200


def test_audience(lc: LocalCognito, memo: bool, asynchronous: bool) -> None:
    app = Guarded(asynchronous)
    app.route("/a", config=lc.config, audience="https://api.example.com")
    app.route("/any", config=lc.config)
    bound = lc.mint("access", aud="https://api.example.com")
    other = lc.mint("access", aud="https://other.example.com")
    unbound = lc.mint("access")
    for _ in range(2):
        assert app.get("/a", bearer(bound)).status_code == 200
        for token in [other, unbound]:
            assert app.get("/any", bearer(token)).status_code == 200  # a valid token...
            refused = app.get("/a", bearer(token))  # ...for another resource, or none
            assert refused.status_code == 401
            assert refused.get_json()["error"] == "invalid_token"
            assert "bound to" in refused.get_json()["error_description"]


def test_check(lc: LocalCognito, memo: bool, asynchronous: bool) -> None:
    seen: List[Dict[str, Any]] = []

    def same_tenant(claims: Dict[str, Any]) -> None:
        seen.append(claims)
        if claims.get("custom:tenant") != "acme":
            raise InvalidClaimsError("another tenant's token", claim="custom:tenant")

    app = Guarded(asynchronous)
    app.route("/t", config=lc.config, check=same_tenant)
    ours = lc.mint("access", **{"custom:tenant": "acme"})
    theirs = lc.mint("access", **{"custom:tenant": "globex"})
    for _ in range(2):  # the second time from the memo, when it is on: check runs again
        assert app.get("/t", bearer(ours)).get_json()["claims"]["custom:tenant"] == "acme"
        refused = app.get("/t", bearer(theirs))
        assert refused.status_code == 401
        assert refused.get_json() == {
            "error": "invalid_token",
            "error_description": "another tenant's token",
        }
    assert len(seen) == 4


def test_a_check_that_crashes_is_the_apps_bug_a_500(lc: LocalCognito, asynchronous: bool) -> None:
    def broken(claims: Dict[str, Any]) -> None:
        raise RuntimeError("a bug in the app")

    app = Guarded(asynchronous)
    app.route("/t", config=lc.config, check=broken)
    assert app.get("/t", bearer(lc.mint("access"))).status_code == 500
    app.app.testing = True  # the exception itself reaches the test
    with pytest.raises(RuntimeError, match="a bug in the app"):
        app.get("/t", bearer(lc.mint("access")))


def test_token_use(lc: LocalCognito, asynchronous: bool) -> None:
    app = Guarded(asynchronous)
    app.route("/id", config=lc.config, token_use="id")
    app.route("/either", config=lc.config, token_use=None)
    id_token, access_token = lc.mint("id"), lc.mint("access")
    assert app.get("/id", bearer(id_token)).get_json()["claims"]["token_use"] == "id"
    assert app.get("/id", bearer(access_token)).status_code == 401
    assert app.get("/either", bearer(id_token)).status_code == 200
    assert app.get("/either", bearer(access_token)).status_code == 200


def test_config_none_is_the_default_read_at_request_time(
    lc: LocalCognito, make_lc: MakeLocalCognito, asynchronous: bool
) -> None:
    other = make_lc()
    app = Guarded(asynchronous)
    app.route("/d")  # decorated while nothing is configured
    token = lc.mint("access")
    cognito_helper.configure(lc.config)
    assert app.get("/d", bearer(token)).status_code == 200
    cognito_helper.configure(other.config)
    assert app.get("/d", bearer(token)).status_code == 401
    assert app.get("/d", bearer(other.mint("access"))).status_code == 200
    cognito_helper.configure(None)
    # Nothing configured is the app's mistake, not the client's: a 500, never a 401.
    assert app.get("/d", bearer(token)).status_code == 500
    app.app.testing = True
    with pytest.raises(ConfigError):
        app.get("/d", bearer(token))


def test_a_list_of_configs(
    lc: LocalCognito, make_lc: MakeLocalCognito, memo: bool, asynchronous: bool
) -> None:
    staff, stranger = make_lc(), make_lc()
    configs = [lc.config, staff.config]
    app = Guarded(asynchronous)
    app.route("/l", config=configs)
    configs.clear()  # the guard holds its own copy
    for _ in range(2):
        assert app.get("/l", bearer(lc.mint("access"))).status_code == 200
        assert app.get("/l", bearer(staff.mint("access"))).status_code == 200
        refused = app.get("/l", bearer(stranger.mint("access")))
        assert refused.status_code == 401
        assert refused.get_json()["error"] == "invalid_token"


def test_scopes_given_as_a_generator_are_read_once(lc: LocalCognito) -> None:
    app = Guarded(False)
    app.route("/g", config=lc.config, scopes=(s for s in ["b/write", "a/read"]))
    for _ in range(2):
        refused = app.get("/g", bearer(lc.mint("access", scope="openid")))
        assert refused.headers["WWW-Authenticate"].endswith('scope="a/read b/write"')
        assert app.get("/g", bearer(lc.mint("access", scope="a/read"))).status_code == 200


@pytest.mark.parametrize(
    "options",
    [
        {"token_use": "acess"},
        {"scopes": ""},
        {"scopes": []},
        {"groups": [""]},
        {"groups": 5},
        {"audience": ["https://api", 7]},
        {"check": "not callable"},
        {"config": []},
        {"config": "us-east-1_AbC123"},
        {"config": [{"user_pool_id": "us-east-1_AbC123"}]},
    ],
)
def test_invalid_options_fail_when_the_view_is_decorated(options: Dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        require_token(**options)


def test_options_are_keyword_only() -> None:
    with pytest.raises(TypeError, match=r"keywords.*require_token\(scopes="):
        cast(Any, require_token)("orders/read")


def test_importing_cognito_helper_does_not_import_flask() -> None:
    assert not imports(PLAIN_USE, "flask"), "flask was imported"
    then = (
        "import cognito_helper.flask, flask\n"
        "assert cognito_helper.integrations.flask.flask is flask"
    )
    assert imports(f"{PLAIN_USE}\n{then}", "flask")


# -- the README ---------------------------------------------------------------------------


def test_the_readme_snippet(
    lc: LocalCognito, make_lc: MakeLocalCognito, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "COGNITO_USER_POOL_ID": lc.config.user_pool_id,
        "COGNITO_CLIENT_ID": lc.config.client_id,
        "COGNITO_ISSUER": lc.config.issuers[0],
        "COGNITO_JWKS_URL": lc.config.jwks_url or "",
    }.items():
        monkeypatch.setenv(name, value)
    (snippet,) = snippets_for(test_the_readme_snippet)  # "### Flask" of the guards
    namespace = snippet.run(module="readme_flask_snippet")
    client = namespace["app"].test_client()

    reader = lc.mint("access", scope="orders/read")
    assert client.get("/orders").status_code == 401
    assert client.get("/orders", headers=bearer(reader)).get_json() == {
        "user": decode_unverified(reader)[1]["sub"],
        "orders": [],
    }
    assert client.get("/orders", headers=bearer(lc.mint("access"))).status_code == 403
    admin = lc.mint("access", **{"cognito:groups": ["admins"]})
    assert client.get("/report", headers=bearer(admin)).get_json() == {"by": "local-user"}
    refused = client.get("/report", headers=bearer(reader))
    assert refused.status_code == 403
    assert refused.headers["WWW-Authenticate"].startswith('Bearer realm="orders", ')
    foreign = client.get("/orders", headers=bearer(make_lc().mint("access", scope="orders/read")))
    assert foreign.status_code == 401


def test_config_objects_work_as_keyword_config(lc: LocalCognito) -> None:
    # A CognitoConfig built by hand (not LocalCognito's own object) is one config, not a list.
    config = CognitoConfig(
        user_pool_id=lc.config.user_pool_id,
        client_id=lc.config.client_id,
        issuer=lc.config.issuers[0],
        jwks_url=lc.config.jwks_url,
    )
    app = Guarded(False)
    app.route("/c", config=config)
    assert app.get("/c", bearer(lc.mint("access"))).status_code == 200


# -- what a refusal sends and names; repeated headers; nothing configured ------------------


def blocked_tenant(claims: Dict[str, Any]) -> None:
    """A check whose refusal holds a detail for the log and a sentence for the client."""
    exc = InvalidClaimsError("tenant 'acme-internal-7' is blocked", claim="custom:tenant")
    exc.public = "this tenant is blocked"
    raise exc


def test_a_refusal_sends_the_public_sentence(lc: LocalCognito, asynchronous: bool) -> None:
    app = Guarded(asynchronous)
    app.route("/t", config=lc.config, check=blocked_tenant)
    refused = app.get("/t", bearer(lc.mint("access")))
    assert refused.status_code == 401
    assert refused.get_json()["error_description"] == "this tenant is blocked"
    challenge = refused.headers["WWW-Authenticate"]
    assert challenge.endswith('error_description="this tenant is blocked"')
    assert "acme-internal-7" not in refused.get_data(as_text=True) + str(refused.headers)


def test_a_missing_group_names_no_scope(lc: LocalCognito, asynchronous: bool) -> None:
    app = Guarded(asynchronous)
    app.route("/admins", config=lc.config, groups="admins", scopes="openid")
    refused = app.get("/admins", bearer(lc.mint("access", **{"cognito:groups": ["readers"]})))
    assert refused.status_code == 403
    assert "scope=" not in refused.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    "values",
    [["Basic dXNlcjpwdw==", "Bearer {}"], ["Bearer {}", "Basic dXNlcjpwdw=="]],
    ids=["basic-first", "bearer-first"],
)
def test_a_bearer_header_beside_another_scheme_is_400(
    lc: LocalCognito, asynchronous: bool, values: List[str]
) -> None:
    app = Guarded(asynchronous)
    app.route("/any", config=lc.config)
    token = lc.mint("access")
    refused = app.get("/any", [("Authorization", v.format(token)) for v in values])
    assert (refused.status_code, refused.get_json()["error"]) == (400, "invalid_request")
    assert app.calls == 0


def test_nothing_configured_is_a_500_with_or_without_a_token(
    lc: LocalCognito, asynchronous: bool
) -> None:
    app = Guarded(asynchronous)
    app.route("/d")
    for headers in [[], [("Authorization", "Basic dXNlcjpwdw==")], bearer(lc.mint("access"))]:
        assert app.get("/d", headers).status_code == 500
    app.app.testing = True
    for headers in [[], bearer(lc.mint("access"))]:
        with pytest.raises(ConfigError):
            app.get("/d", headers)


# -- @require_token bare, and routes that cannot be left open -----------------------------------


def test_require_token_without_parentheses(lc: LocalCognito, asynchronous: bool) -> None:
    app = Flask(__name__)
    if asynchronous:

        @app.get("/me")
        @require_token
        async def me() -> Dict[str, Any]:
            return {"sub": g.cognito_claims["sub"]}

        assert inspect.iscoroutinefunction(me)
    else:

        @app.get("/me")
        @require_token
        def me() -> Dict[str, Any]:
            return {"sub": g.cognito_claims["sub"]}

    assert me.__name__ == "me"
    cognito_helper.configure(lc.config)  # the defaults: access tokens of the configured pool
    client = app.test_client()
    assert client.get("/me").status_code == 401
    assert client.get("/me", headers=bearer(lc.mint("id"))).status_code == 401
    token = lc.mint("access")
    assert client.get("/me", headers=bearer(token)).get_json() == {
        "sub": decode_unverified(token)[1]["sub"]
    }


def test_require_token_above_the_route_is_a_type_error(lc: LocalCognito) -> None:
    app = Flask(__name__)
    with pytest.raises(TypeError, match=r"'orders'.*/orders.*below"):

        @require_token(config=lc.config)
        @app.get("/orders")
        def orders() -> str:
            return "open"

    with pytest.raises(TypeError, match="below"):

        @require_token
        @app.route("/report", methods=["GET", "POST"])
        def report() -> str:
            return "open"


BLUEPRINT_MODULE = """
from flask import Blueprint
from cognito_helper.flask import require_token

api = Blueprint("api", __name__, url_prefix="/api")

@require_token(scopes=["orders/read"])
@api.get("/orders")
def orders():
    return "open"
"""


def test_require_token_above_a_blueprint_route_is_a_type_error() -> None:
    namespace: Dict[str, Any] = {"__name__": "orders_api"}
    with pytest.raises(TypeError, match=r"'orders'.*/orders of the blueprint 'api'"):
        exec(compile(BLUEPRINT_MODULE, "orders_api.py", "exec"), namespace)


def test_require_token_above_a_route_of_the_current_app_is_a_type_error() -> None:
    def add_routes() -> None:
        @require_token
        @flask.current_app.get("/orders")
        def orders() -> str:
            return "open"

    app = Flask(__name__)
    with app.app_context(), pytest.raises(TypeError, match="below"):
        add_routes()


def test_a_guard_object_above_a_route_is_a_type_error(lc: LocalCognito) -> None:
    app = Flask(__name__)
    guard = TokenGuard(app, config=lc.config)
    with pytest.raises(TypeError, match="below"):

        @guard.get("/guarded")
        @app.get("/open")
        def orders() -> str:
            return "open"


def test_the_right_order_and_the_guard_object_are_left_alone(lc: LocalCognito) -> None:
    app = Flask(__name__)
    guard = TokenGuard(app, config=lc.config)

    @app.get("/a")
    @require_token(config=lc.config)
    def a() -> str:
        return "a"

    @guard.get("/b")
    @guard.post("/c")
    def b() -> str:
        return "b"

    @app.get("/public")
    def public() -> str:
        return "public"

    client = app.test_client()
    assert client.get("/public").status_code == 200  # the first request: the check passes
    for method, path in [("GET", "/a"), ("GET", "/b"), ("POST", "/c")]:
        assert client.open(path, method=method).status_code == 401
        ok = client.open(path, method=method, headers=bearer(lc.mint("access")))
        assert ok.status_code == 200


class Holder:
    """An app reached through an attribute: no decorator can see it."""

    def __init__(self) -> None:
        self.app = Flask(__name__)


def test_a_guard_object_refuses_every_request_while_a_guarded_view_is_served_open(
    lc: LocalCognito,
) -> None:
    holder = Holder()
    TokenGuard(holder.app, config=lc.config)

    @require_token(config=lc.config)  # above the route, where nothing can see the app
    @holder.app.get("/orders")
    def orders() -> str:
        return "open"

    @holder.app.get("/health")
    def health() -> str:
        return "ok"

    client = holder.app.test_client()
    for path in ["/orders", "/health", "/orders"]:  # every request, not only the first
        assert client.get(path).status_code == 500
    holder.app.testing = True
    with pytest.raises(TypeError, match=r"/orders.*'orders'.*below"):
        client.get("/health")


def test_a_guard_object_on_a_blueprint_watches_the_app(lc: LocalCognito) -> None:
    api = Blueprint("api", __name__)
    TokenGuard(api, config=lc.config)
    holder = Holder()

    @require_token(config=lc.config)
    @holder.app.get("/orders")
    def orders() -> str:
        return "open"

    holder.app.register_blueprint(api)
    assert holder.app.test_client().get("/orders").status_code == 500


def reader_and_writer(lc: LocalCognito) -> Tuple[Headers, Headers, Headers]:
    return (
        bearer(lc.mint("access", scope="openid")),
        bearer(lc.mint("access", scope="orders/read")),
        bearer(lc.mint("access", scope="orders/read orders/write")),
    )


def test_a_guard_object_registers_and_guards_in_one_step(
    lc: LocalCognito, asynchronous: bool
) -> None:
    app = Flask(__name__)
    guard = TokenGuard(app, config=lc.config, realm="orders", scopes=["orders/read"])

    @guard.get("/orders/<int:number>")
    def read(number: int) -> Dict[str, Any]:
        return {"number": number, "sub": g.cognito_claims["sub"]}

    if asynchronous:

        @guard.route("/orders", methods=["POST"], scopes=["orders/write"], endpoint="write")
        async def write() -> Dict[str, Any]:
            return {"written": True}

    else:

        @guard.route("/orders", methods=["POST"], scopes=["orders/write"], endpoint="write")
        def write() -> Dict[str, Any]:
            return {"written": True}

    # The decorator returns the function as Flask's own do; the app serves its guarded form.
    assert app.view_functions["read"].__wrapped__ is read  # type: ignore[attr-defined]
    client = app.test_client()
    nobody, reader, writer = reader_and_writer(lc)
    assert client.get("/orders/7").headers["WWW-Authenticate"] == 'Bearer realm="orders"'
    assert client.get("/orders/7", headers=nobody).status_code == 403
    assert client.get("/orders/7", headers=reader).get_json()["number"] == 7
    refused = client.post("/orders", headers=reader)
    assert refused.status_code == 403
    assert refused.headers["WWW-Authenticate"].endswith('scope="orders/write"')
    assert client.post("/orders", headers=writer).get_json() == {"written": True}
    assert {r.rule for r in app.url_map.iter_rules() if r.endpoint == "write"} == {"/orders"}


def test_a_guard_object_on_a_blueprint_and_a_method_view(lc: LocalCognito) -> None:
    api = Blueprint("api", __name__, url_prefix="/api")
    guard = TokenGuard(api, config=lc.config)

    class Orders(MethodView):
        def get(self) -> Dict[str, Any]:
            return {"orders": []}

        def post(self) -> Dict[str, Any]:
            return {"written": True}

    guard.add_url_rule("/orders", view_func=Orders.as_view("orders"), scopes="orders/write")

    @guard.delete("/orders/<int:number>", groups=["admins"])
    def delete(number: int) -> Dict[str, Any]:
        return {"deleted": number}

    app = Flask(__name__)
    app.register_blueprint(api)
    client = app.test_client()
    _, reader, writer = reader_and_writer(lc)
    assert client.get("/api/orders").status_code == 401
    assert client.post("/api/orders", headers=reader).status_code == 403
    assert client.post("/api/orders", headers=writer).get_json() == {"written": True}
    admin = bearer(lc.mint("access", **{"cognito:groups": ["admins"]}))
    assert client.delete("/api/orders/3", headers=writer).status_code == 403
    assert client.delete("/api/orders/3", headers=admin).get_json() == {"deleted": 3}


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda: TokenGuard(cast(Any, "app")), TypeError),
        (lambda: TokenGuard(Flask(__name__), scopes=""), ValueError),
        (lambda: TokenGuard(Flask(__name__), config=[]), ValueError),
        (lambda: TokenGuard(Flask(__name__)).route("/x", scopes=[""]), ValueError),
        (lambda: TokenGuard(Flask(__name__)).get("/x", methods=["POST"]), TypeError),
        (lambda: TokenGuard(Flask(__name__)).add_url_rule("/x"), TypeError),
    ],
)
def test_a_guard_object_checks_its_options_when_made(make: Any, error: type) -> None:
    with pytest.raises(error):
        make()
