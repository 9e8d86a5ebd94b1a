"""cognito_helper.aws_lambda: API Gateway Lambda authorizers, called directly with the event
shapes of AWS's documentation (``tests/fixtures/lambda/``) and tokens from LocalCognito.

The fixtures are the documented examples: ``rest_token.json`` and ``rest_request.json`` from
"Input to an API Gateway Lambda authorizer" (the REQUEST example gains an ``Authorization``
header), ``http_v1_request.json`` and ``http_v2_request.json`` from "Control access to HTTP
APIs with AWS Lambda authorizers" (their identity source is the ``Authorization`` header).
``{caller-supplied-token}`` is replaced at load time by what the caller sends; an entry
holding it is removed when the caller sends nothing.

Every test runs with the verification memo on and off, and every table row authorizes twice
(the second time a memo hit when the memo is on): both answers must be the same.
"""

from __future__ import annotations

import json
import logging
import time
import urllib.request
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest

import cognito_helper
from cognito_helper import (
    CognitoConnectionError,
    ConfigError,
    InvalidClaimsError,
    TokenExpiredError,
    verification_memo_info,
)
from cognito_helper.aws_lambda import authorize
from cognito_helper.testing import LocalCognito

from .servers import ScriptedServer, closed_port, respond
from .snippets import snippets_for

FIXTURES = Path(__file__).parent / "fixtures" / "lambda"
PLACEHOLDER = "{caller-supplied-token}"
REST_KINDS = ["rest_token", "rest_request", "http_v1_request"]
KINDS = [*REST_KINDS, "http_v2_request"]

UNAUTHORIZED = "401"  # raised Exception("Unauthorized")
DENIED = "403"  # a Deny policy
ALLOWED = "allow"  # an Allow policy, or isAuthorized true
REFUSED = "refused"  # isAuthorized false (an HTTP API answers 403)


pytestmark = pytest.mark.usefixtures("memo")  # every test with the memo on and off (conftest)


def _fill(node: Any, credentials: Optional[str]) -> Any:
    if isinstance(node, dict):
        return {
            k: _fill(v, credentials)
            for k, v in node.items()
            if not (credentials is None and v == PLACEHOLDER)
        }
    if isinstance(node, list):
        return [
            _fill(v, credentials) for v in node if not (credentials is None and v == PLACEHOLDER)
        ]
    return credentials if node == PLACEHOLDER else node


def event(kind: str, credentials: Optional[str]) -> Dict[str, Any]:
    """The documented ``kind`` event carrying ``credentials`` (``None``: none at all)."""
    document = json.loads((FIXTURES / f"{kind}.json").read_text(encoding="utf-8"))
    filled: Dict[str, Any] = _fill(document, credentials)
    return filled


def outcome(answer: Dict[str, Any]) -> str:
    if "isAuthorized" in answer:
        assert set(answer) == {"isAuthorized", "context"}
        return ALLOWED if answer["isAuthorized"] is True else REFUSED
    assert set(answer) == {"principalId", "policyDocument", "context"}
    effect = answer["policyDocument"]["Statement"][0]["Effect"]
    return {"Allow": ALLOWED, "Deny": DENIED}[effect]


def decide_once(ev: Dict[str, Any], **options: Any) -> Any:
    try:
        answer = authorize(ev, **options)
    except Exception as exc:
        if type(exc) is Exception and exc.args == ("Unauthorized",):
            return UNAUTHORIZED
        raise
    return outcome(answer), answer


def decide(kind: str, credentials: Optional[str], **options: Any) -> str:
    """What API Gateway is told for ``credentials``, asked twice (answers must agree)."""
    first = decide_once(event(kind, credentials), **options)
    second = decide_once(event(kind, credentials), **options)
    assert first == second
    return first if isinstance(first, str) else str(first[0])


def refusal_for(kind: str, status: str) -> str:
    """How ``kind`` refuses a request that the RFC 6750 table answers with ``status``."""
    return REFUSED if kind == "http_v2_request" else status


# -- the documented shapes, allowed ---------------------------------------------------------


@pytest.mark.parametrize("kind", REST_KINDS)
def test_a_valid_access_token_gets_an_allow_policy_on_the_method(
    lc: LocalCognito, kind: str, memo: bool
) -> None:
    token = lc.mint("access")
    claims = cognito_helper.decode_verify_jwt(token, config=lc.config)
    answers = [authorize(event(kind, f"Bearer {token}"), config=lc.config) for _ in range(2)]
    assert answers[0] == answers[1]
    assert answers[0] == {
        "principalId": claims["sub"],
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "execute-api:Invoke",
                    "Effect": "Allow",
                    "Resource": event(kind, None)["methodArn"],
                }
            ],
        },
        "context": {k: v for k, v in claims.items() if k != "cognito:groups"},
    }
    assert verification_memo_info().hits == (2 if memo else 0)  # the decode above + once


def test_a_valid_access_token_gets_is_authorized_from_an_http_api(lc: LocalCognito) -> None:
    token = lc.mint("access")
    claims = cognito_helper.decode_verify_jwt(token, config=lc.config)
    answer = authorize(event("http_v2_request", f"Bearer {token}"), config=lc.config)
    assert answer == {
        "isAuthorized": True,
        "context": {k: v for k, v in claims.items() if k != "cognito:groups"},
    }


@pytest.mark.parametrize("kind", KINDS)
def test_the_context_holds_only_strings_numbers_and_booleans(lc: LocalCognito, kind: str) -> None:
    token = lc.mint(
        "access",
        **{
            "cognito:groups": ["admins"],
            "custom:tier": "gold",
            "custom:seats": 3,
            "custom:ratio": 0.5,
            "custom:beta": True,
            "custom:list": ["a"],
            "custom:map": {"a": 1},
            "custom:none": None,
        },
    )
    context = authorize(event(kind, f"Bearer {token}"), config=lc.config)["context"]
    assert context["custom:tier"] == "gold" and context["custom:seats"] == 3
    assert context["custom:ratio"] == 0.5 and context["custom:beta"] is True
    assert isinstance(context["exp"], int) and context["token_use"] == "access"
    assert not {"cognito:groups", "custom:list", "custom:map", "custom:none"} & set(context)
    assert all(isinstance(v, (str, int, float, bool)) for v in context.values())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize(
    "form", ["Bearer {}", "bearer {}", "BEARER   {}  ", "{}", "  {} "], ids=repr
)
def test_bearer_in_any_case_or_a_bare_token_is_read(lc: LocalCognito, kind: str, form: str) -> None:
    assert decide(kind, form.format(lc.mint("access")), config=lc.config) == ALLOWED


# -- the table --------------------------------------------------------------------------------


def _expired(lc: LocalCognito) -> str:
    now = int(time.time())
    return lc.mint("access", iat=now - 7200, auth_time=now - 7200, exp=now - 3600)


TOKENS: Dict[str, Callable[[LocalCognito], Optional[str]]] = {
    "no-credentials": lambda lc: None,
    "empty": lambda lc: "",
    "other-scheme": lambda lc: "Basic dXNlcjpwdw==",
    "bearer-without-token": lambda lc: "Bearer ",
    "two-tokens": lambda lc: f"Bearer {lc.mint('access')} {lc.mint('access')}",
    "over-64-KiB": lambda lc: "Bearer " + "x" * (64 * 1024),
    "malformed": lambda lc: "Bearer not-a-jwt",
    "expired": lambda lc: f"Bearer {_expired(lc)}",
    "unknown-key": lambda lc: f"Bearer {lc.mint('access', header={'kid': 'no-such-kid'})}",
    "forged-signature": lambda lc: f"Bearer {lc.mint('access', key=_stranger_key())}",
    "id-token": lambda lc: f"Bearer {lc.mint('id')}",
}


def _stranger_key() -> Any:
    from cryptography.hazmat.primitives.asymmetric import rsa

    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("case", list(TOKENS))
def test_no_or_a_bad_token_is_unauthorized(lc: LocalCognito, kind: str, case: str) -> None:
    credentials = TOKENS[case](lc)
    assert decide(kind, credentials, config=lc.config) == refusal_for(kind, UNAUTHORIZED)


@pytest.mark.parametrize("kind", KINDS)
def test_a_token_of_a_pool_not_configured_is_unauthorized(
    make_lc: Callable[..., LocalCognito], kind: str
) -> None:
    ours, theirs = make_lc(), make_lc(user_pool_id="us-east-1_OtherPool1")
    token = theirs.mint("access")
    assert decide(kind, f"Bearer {token}", config=ours.config) == refusal_for(kind, UNAUTHORIZED)
    assert theirs.jwks_requests == 0  # keys come only from the configured pool


@pytest.mark.parametrize("kind", KINDS)
def test_an_id_token_is_allowed_when_asked_for(lc: LocalCognito, kind: str) -> None:
    token = lc.mint("id")
    assert decide(kind, f"Bearer {token}", config=lc.config, token_use="id") == ALLOWED
    assert decide(kind, f"Bearer {lc.mint('access')}", config=lc.config, token_use="id") == (
        refusal_for(kind, UNAUTHORIZED)
    )


@pytest.mark.parametrize("kind", KINDS)
def test_a_missing_scope_is_denied(lc: LocalCognito, kind: str) -> None:
    token = f"Bearer {lc.mint('access', scope='openid localapi/read')}"
    assert decide(kind, token, config=lc.config, scopes=["localapi/write"]) == (
        refusal_for(kind, DENIED)
    )
    assert decide(kind, token, config=lc.config, scopes=["localapi/read"]) == ALLOWED


@pytest.mark.parametrize("kind", KINDS)
def test_a_missing_group_is_denied(lc: LocalCognito, kind: str) -> None:
    token = f"Bearer {lc.mint('access', **{'cognito:groups': ['readers']})}"
    assert decide(kind, token, config=lc.config, groups="admins") == refusal_for(kind, DENIED)
    assert decide(kind, token, config=lc.config, groups=["admins", "readers"]) == ALLOWED


@pytest.mark.parametrize("kind", REST_KINDS)
def test_a_deny_policy_names_the_caller_and_the_method(lc: LocalCognito, kind: str) -> None:
    token = lc.mint("access", scope="openid")
    sub = cognito_helper.decode_verify_jwt(token, config=lc.config)["sub"]
    for _ in range(2):  # the second time from the memo, when it is on
        answer = authorize(event(kind, f"Bearer {token}"), config=lc.config, scopes="x/y")
        assert answer["principalId"] == sub
        assert answer["policyDocument"]["Statement"] == [
            {
                "Action": "execute-api:Invoke",
                "Effect": "Deny",
                "Resource": event(kind, None)["methodArn"],
            }
        ]
        assert answer["context"]["sub"] == sub


def test_an_http_api_refusal_for_a_missing_scope_carries_the_claims(lc: LocalCognito) -> None:
    token = lc.mint("access", scope="openid")
    answer = authorize(event("http_v2_request", f"Bearer {token}"), config=lc.config, scopes="x")
    assert answer["isAuthorized"] is False and answer["context"]["token_use"] == "access"
    bad = authorize(event("http_v2_request", "Bearer not-a-jwt"), config=lc.config)
    assert bad == {"isAuthorized": False, "context": {}}


@pytest.mark.parametrize("kind", KINDS)
def test_no_usable_jwks_is_an_error_not_a_refusal(lc: LocalCognito, kind: str) -> None:
    with ScriptedServer() as server:
        server.routes["/jwks.json"] = respond(503, {"error": "down"})
        config = replace(lc.config, jwks_url=server.url + "/jwks.json", timeout=2.0)
        for _ in range(2):
            with pytest.raises(CognitoConnectionError) as info:
                authorize(event(kind, f"Bearer {lc.mint('access')}"), config=config)
            assert str(info.value) != "Unauthorized"
        assert server.count("/jwks.json") >= 1


# -- how the 401 is raised ----------------------------------------------------------------------


@pytest.mark.parametrize("kind", REST_KINDS)
def test_unauthorized_is_a_plain_exception_chained_to_the_reason(
    lc: LocalCognito, kind: str
) -> None:
    token = _expired(lc)
    with pytest.raises(Exception) as info:
        authorize(event(kind, f"Bearer {token}"), config=lc.config)
    assert type(info.value) is Exception and str(info.value) == "Unauthorized"
    assert isinstance(info.value.__cause__, TokenExpiredError)
    assert token not in repr(info.value.__cause__)


def test_the_reason_is_logged_without_the_token(
    lc: LocalCognito, caplog: pytest.LogCaptureFixture
) -> None:
    token = _expired(lc)
    caplog.set_level("INFO", logger="cognito_helper")
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        authorize(event("rest_token", token), config=lc.config)
    assert "401" in caplog.text and "expired" in caplog.text.lower()
    assert token not in caplog.text


# -- reading the event --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["authorization", "AUTHORIZATION", "aUtHoRiZaTiOn"])
def test_the_authorization_header_is_found_in_any_case(lc: LocalCognito, name: str) -> None:
    for kind in ["rest_request", "http_v2_request"]:
        ev = event(kind, None)
        ev["headers"][name] = f"Bearer {lc.mint('access')}"
        ev.pop("identitySource", None)
        assert decide_once(ev, config=lc.config)[0] == ALLOWED


def test_two_authorization_headers_are_refused(lc: LocalCognito) -> None:
    a, b = f"Bearer {lc.mint('access')}", f"Bearer {lc.mint('access')}"
    spelled_twice = event("rest_request", a)
    spelled_twice["headers"]["authorization"] = b
    assert decide_once(spelled_twice, config=lc.config) == UNAUTHORIZED
    repeated = event("rest_request", a)
    repeated["multiValueHeaders"] = {"Authorization": [a, b]}  # the header sent twice
    assert decide_once(repeated, config=lc.config) == UNAUTHORIZED
    joined = event("http_v2_request", f"{a},{b}")  # HTTP APIs join repeated headers with ","
    assert decide_once(joined, config=lc.config)[0] == REFUSED
    once = event("rest_request", a)
    once["multiValueHeaders"] = {"Authorization": [a]}
    assert decide_once(once, config=lc.config)[0] == ALLOWED


def test_a_token_event_reads_only_the_authorization_token(lc: LocalCognito) -> None:
    ev = event("rest_token", None)
    ev["headers"] = {"Authorization": f"Bearer {lc.mint('access')}"}
    assert decide_once(ev, config=lc.config) == UNAUTHORIZED


def test_an_http_api_identity_source_is_read_when_there_is_no_header(lc: LocalCognito) -> None:
    ev = event("http_v2_request", f"Bearer {lc.mint('access')}")
    del ev["headers"]["authorization"]  # e.g. the identity source is another header
    assert ev["identitySource"] and decide_once(ev, config=lc.config)[0] == ALLOWED
    ev["identitySource"] = [ev["identitySource"][0], "another value"]
    assert decide_once(ev, config=lc.config)[0] == REFUSED  # which one? refuse


@pytest.mark.parametrize(
    "broken",
    [
        {"type": "TOKEN", "authorizationToken": "x"},  # no methodArn
        {"type": "OTHER", "methodArn": "arn:aws:execute-api:us-east-1:1:a/s/GET/"},
        {"version": "1.0", "methodArn": "arn:aws:execute-api:us-east-1:1:a/s/GET/"},
        {},
    ],
)
def test_an_event_that_is_not_an_authorizer_event_is_a_value_error(broken: Any) -> None:
    with pytest.raises(ValueError, match="not an API Gateway Lambda authorizer event"):
        authorize(broken)


def test_an_event_that_is_not_a_dict_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        authorize("Bearer x")  # type: ignore[arg-type]


def test_a_configuration_error_is_not_a_refusal(lc: LocalCognito) -> None:
    with pytest.raises(ConfigError):  # nothing configured: the function's fault, a 500
        authorize(event("rest_token", f"Bearer {lc.mint('access')}"))


# -- options -----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_check_and_audience_reach_the_verifier(lc: LocalCognito, kind: str) -> None:
    token = f"Bearer {lc.mint('access', **{'custom:tenant': 'acme'})}"

    def tenant(claims: Dict[str, Any]) -> None:
        if claims.get("custom:tenant") != "other":
            raise InvalidClaimsError("another tenant's token", claim="custom:tenant")

    def scope_rule(claims: Dict[str, Any]) -> None:
        raise InvalidClaimsError("needs the admin scope", claim="scope")

    assert decide(kind, token, config=lc.config, check=tenant) == refusal_for(kind, UNAUTHORIZED)
    assert decide(kind, token, config=lc.config, check=scope_rule) == refusal_for(kind, DENIED)
    if kind != "http_v2_request":  # the Deny names the caller although the check did not
        denied = authorize(event(kind, token), config=lc.config, check=scope_rule)
        assert denied["principalId"] == denied["context"]["sub"] != "unknown"
    assert decide(kind, token, config=lc.config, audience="https://api.example.com") == (
        refusal_for(kind, UNAUTHORIZED)  # the token is bound to no resource
    )


def test_a_list_of_configs_is_accepted(make_lc: Callable[..., LocalCognito]) -> None:
    first, second = make_lc(), make_lc(user_pool_id="us-east-1_OtherPool1")
    configs = [first.config, second.config]
    for lc in (first, second):
        assert decide("rest_request", f"Bearer {lc.mint('access')}", config=configs) == ALLOWED


# -- COGNITO_JWKS: no network path to Cognito ------------------------------------------------


def _jwks_of(lc: LocalCognito) -> str:
    with urllib.request.urlopen(lc.jwks_url, timeout=5) as response:
        return str(response.read().decode("utf-8"))


def _env_for(lc: LocalCognito, monkeypatch: pytest.MonkeyPatch, jwks_url: str) -> None:
    monkeypatch.setenv("COGNITO_USER_POOL_ID", lc.user_pool_id)
    monkeypatch.setenv("COGNITO_CLIENT_ID", lc.client_id)
    monkeypatch.setenv("COGNITO_ISSUER", lc.issuer)
    monkeypatch.setenv("COGNITO_JWKS_URL", jwks_url)
    cognito_helper.configure(None)  # re-read the COGNITO_* variables


@pytest.mark.parametrize("kind", KINDS)
def test_cognito_jwks_verifies_with_no_request_for_keys(
    lc: LocalCognito, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    jwks = _jwks_of(lc)
    with ScriptedServer() as server:
        server.routes["/jwks.json"] = respond(200, json.loads(jwks))
        _env_for(lc, monkeypatch, server.url + "/jwks.json")
        monkeypatch.setenv("COGNITO_JWKS", jwks)
        outcomes: List[str] = []
        for _ in range(3):
            outcomes.append(decide(kind, f"Bearer {lc.mint('access')}"))
            outcomes.append(decide(kind, f"Bearer {lc.mint('access', scope='openid')}", scopes="x"))
        assert outcomes == [ALLOWED, refusal_for(kind, DENIED)] * 3
        assert server.count("/jwks.json") == 0


def test_without_cognito_jwks_the_same_setup_fetches_the_keys(
    lc: LocalCognito, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The control for the test above: its JWKS server does count fetches."""
    jwks = json.loads(_jwks_of(lc))
    with ScriptedServer() as server:
        server.routes["/jwks.json"] = respond(200, jwks)
        _env_for(lc, monkeypatch, server.url + "/jwks.json")
        assert decide("rest_token", f"Bearer {lc.mint('access')}") == ALLOWED
        assert server.count("/jwks.json") == 1


def test_cognito_jwks_works_with_cognito_unreachable(
    lc: LocalCognito, monkeypatch: pytest.MonkeyPatch
) -> None:
    jwks = _jwks_of(lc)
    _env_for(lc, monkeypatch, f"http://127.0.0.1:{closed_port()}/jwks.json")
    monkeypatch.setenv("COGNITO_JWKS", jwks)
    for kind in KINDS:
        assert decide(kind, f"Bearer {lc.mint('access')}") == ALLOWED
    monkeypatch.delenv("COGNITO_JWKS")
    cognito_helper.forget_jwks_caches()
    with pytest.raises(CognitoConnectionError):  # the control: without it, no keys
        authorize(event("rest_token", f"Bearer {lc.mint('access')}"))


def test_preloaded_keys_outlive_a_failed_refresh(
    lc: LocalCognito, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """After the TTL a refresh is tried; with Cognito out of reach the preloaded keys stay."""
    _env_for(lc, monkeypatch, f"http://127.0.0.1:{closed_port()}/jwks.json")
    monkeypatch.setenv("COGNITO_JWKS", _jwks_of(lc))
    cognito_helper.jwks_cache(cognito_helper.get_config().jwks_url).ttl = 0  # the hour is up
    for kind in KINDS:
        assert decide(kind, f"Bearer {lc.mint('access')}") == ALLOWED
    assert "JWKS refresh failed; keeping the keys already held" in caplog.text


# -- the README ---------------------------------------------------------------------------------


@pytest.fixture
def lambda_root_logger() -> Iterator[logging.Handler]:
    """Logging as Lambda's Python runtime sets it up: a handler on the root logger, whose level
    stays WARNING; the ``cognito_helper`` logger's level is restored afterwards."""

    class Kept(logging.Handler):
        def __init__(self) -> None:
            super().__init__()
            self.lines: List[str] = []

        def emit(self, record: logging.LogRecord) -> None:
            self.lines.append(record.getMessage())

    root, ours = logging.getLogger(), logging.getLogger("cognito_helper")
    handler, levels = Kept(), (root.level, ours.level)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        ours.setLevel(levels[1])


def test_the_readme_snippets(
    lc: LocalCognito, monkeypatch: pytest.MonkeyPatch, lambda_root_logger: Any
) -> None:
    # "### API Gateway Lambda authorizers": the handler, the keys kept for the function's life
    handler_block, keep_keys_block = snippets_for(test_the_readme_snippets)
    _env_for(lc, monkeypatch, f"http://127.0.0.1:{closed_port()}/jwks.json")  # no way out
    monkeypatch.setenv("COGNITO_JWKS", _jwks_of(lc))
    keep_keys_block.run()
    handler = handler_block.run()["handler"]
    with pytest.raises(Exception, match=r"^Unauthorized$"):  # the reason reaches the log
        handler(event("rest_token", f"Bearer {_expired(lc)}"), None)
    assert any("unauthorized (401): the token expired" in line for line in lambda_root_logger.lines)
    cache = cognito_helper.jwks_cache(cognito_helper.get_config().jwks_url)
    assert cache.ttl == float("inf")

    reader = f"Bearer {lc.mint('access', scope='orders/read')}"
    answer = handler(event("rest_request", reader), None)
    assert answer["policyDocument"]["Statement"][0]["Effect"] == "Allow"
    other = f"Bearer {lc.mint('access', scope='openid')}"
    assert (
        handler(event("rest_token", other), None)["policyDocument"]["Statement"][0]["Effect"]
        == "Deny"
    )
    assert handler(event("http_v2_request", reader), None)["isAuthorized"] is True
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        handler(event("rest_token", None), None)


# -- what is logged, repeated headers, nothing configured ----------------------------------------


def test_the_log_keeps_the_detail_the_client_never_sees(
    lc: LocalCognito, caplog: pytest.LogCaptureFixture
) -> None:
    def blocked(claims: Dict[str, Any]) -> None:
        exc = InvalidClaimsError("tenant 'acme-internal-7' is blocked", claim="custom:tenant")
        exc.public = "this tenant is blocked"
        raise exc

    caplog.set_level("INFO", logger="cognito_helper")
    assert decide_once(event("rest_token", lc.mint("access")), config=lc.config, check=blocked) == (
        UNAUTHORIZED
    )
    assert "acme-internal-7" in caplog.text  # the server's log has the detail


@pytest.mark.parametrize("first", [True, False], ids=["basic-first", "bearer-first"])
def test_a_bearer_header_beside_another_scheme_is_refused(lc: LocalCognito, first: bool) -> None:
    good, basic = f"Bearer {lc.mint('access')}", "Basic dXNlcjpwdw=="
    values = [basic, good] if first else [good, basic]
    repeated = event("rest_request", good)
    repeated["multiValueHeaders"] = {"Authorization": values}  # the header sent twice
    assert decide_once(repeated, config=lc.config) == UNAUTHORIZED
    joined = event("http_v2_request", ",".join(values))  # HTTP APIs join repeats with ","
    assert decide_once(joined, config=lc.config)[0] == REFUSED


@pytest.mark.parametrize("kind", KINDS)
def test_nothing_configured_is_the_same_error_with_or_without_a_token(
    lc: LocalCognito, kind: str
) -> None:
    for credentials in [None, "Basic dXNlcjpwdw==", f"Bearer {lc.mint('access')}"]:
        with pytest.raises(ConfigError):
            authorize(event(kind, credentials))
