"""The verifier objects: ``CognitoVerifier`` and ``AlbVerifier`` (options checked once, when
built), the module functions as doors onto them, and the public functions the framework
guards use instead of another module's private names."""

from __future__ import annotations

import ast
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

import cognito_helper
from cognito_helper import (
    AlbVerifier,
    CognitoConfig,
    CognitoVerifier,
    ConfigError,
    InvalidClaimsError,
    TokenExpiredError,
    clear_verification_memo,
    configure,
    decode_verify_jwt,
    verification_memo_info,
    verify_alb_jwt,
)
from cognito_helper.core.headers import header_values
from cognito_helper.testing import LocalALB
from cognito_helper.verification.claims import check_held
from cognito_helper.verification.cognito import may_fetch

from .conftest import Issuer

PACKAGE = Path(cognito_helper.__file__).resolve().parent


@pytest.fixture(autouse=True)
def fresh_memo() -> Iterator[None]:
    clear_verification_memo()
    yield
    clear_verification_memo()


# -- CognitoVerifier ----------------------------------------------------------------------------


def test_a_cognito_verifier_returns_the_claims_as_the_callers_own(issuer: Issuer) -> None:
    verifier = CognitoVerifier(issuer.config, token_use="access", scopes="openid admin")
    token = issuer.token("access")
    claims = verifier.verify(token)
    assert claims["token_use"] == "access"
    claims["scope"] = "changed"
    assert verifier.verify(token)["scope"] == "openid email profile"
    assert verification_memo_info().hits == 1


def test_token_use_must_be_given() -> None:
    with pytest.raises(TypeError, match="token_use"):
        CognitoVerifier()  # type: ignore[call-arg]
    assert CognitoVerifier(token_use=None).token_use is None


async def _async_check(claims: Dict[str, Any]) -> None:
    return None


@pytest.mark.parametrize(
    "options",
    [
        {"token_use": "refresh"},
        {"token_use": "access", "leeway": -1},
        {"token_use": "access", "leeway": True},
        {"token_use": "access", "scopes": ""},
        {"token_use": "access", "groups": ["a b"]},
        {"token_use": "access", "audience": 5},
        {"token_use": "access", "check": "tenant"},
        {"token_use": "access", "check": _async_check},
        {"token_use": "access", "config": []},
        {"token_use": "access", "config": [5]},
        {"token_use": "access", "config": "us-east-1_AbC123"},
    ],
)
def test_an_invalid_option_fails_when_the_verifier_is_built(options: Dict[str, Any]) -> None:
    config = options.pop("config", None)
    with pytest.raises(ValueError):
        CognitoVerifier(config, **options)


def test_the_verifier_keeps_its_options_as_checked(issuer: Issuer) -> None:
    configs = [issuer.config]
    verifier = CognitoVerifier(
        configs, token_use="id", scopes="a b", groups=["staff"], audience="https://x", leeway=5
    )
    configs.clear()
    assert verifier.config == (issuer.config,)
    assert (verifier.scopes, verifier.groups) == (("a", "b"), ("staff",))
    assert verifier.audience == ("https://x",)
    assert (verifier.token_use, verifier.leeway, verifier.check) == ("id", 5, None)


def test_no_config_is_the_configure_default_read_on_every_call(issuer: Issuer) -> None:
    verifier = CognitoVerifier(token_use="id")
    token = issuer.token("id")
    with pytest.raises(ConfigError):
        verifier.verify(token)
    configure(issuer.config)
    assert verifier.verify(token)["token_use"] == "id"


def test_nonce_and_access_token_are_given_per_call(issuer: Issuer) -> None:
    verifier = CognitoVerifier(issuer.config, token_use="id")
    token = issuer.token("id", nonce="n-1")
    assert verifier.verify(token, nonce="n-1")["nonce"] == "n-1"
    with pytest.raises(InvalidClaimsError) as info:
        verifier.verify(token, nonce="n-2")
    assert info.value.reason == "nonce"
    with pytest.raises(ValueError, match="nonce"):
        verifier.verify(token, nonce=5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="access_token"):
        verifier.verify(token, access_token=b"a.b.c")  # type: ignore[arg-type]


def test_decode_verify_jwt_refuses_and_accepts_as_the_verifier_does(issuer: Issuer) -> None:
    expired = issuer.token("access", exp=int(time.time()) - 5)
    for verify in (
        lambda token, **kw: decode_verify_jwt(
            token, config=issuer.config, token_use="access", **kw
        ),
        lambda token, **kw: CognitoVerifier(issuer.config, token_use="access", **kw).verify(token),
    ):
        with pytest.raises(TokenExpiredError) as info:
            verify(expired)
        assert info.value.reason == "expired"
        assert verify(expired, leeway=60)["token_use"] == "access"


# -- AlbVerifier --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def alb() -> Iterator[LocalALB]:
    with LocalALB() as site:
        yield site


def test_an_alb_verifier_verifies_the_data_token_and_the_request(alb: LocalALB) -> None:
    verifier = AlbVerifier(**alb.verify_options)
    assert verifier.verify(alb.mint("carol"))["username"] == "carol"
    assert verifier.verify_request(alb.headers("carol")).claims["username"] == "carol"


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"alb_arn": "arn:aws:ec2:us-east-1:123456789012:instance/i-1"}, ConfigError),
        ({"client_id": ""}, ConfigError),
        ({"issuer": 5}, ConfigError),
        ({"key_url": "https://keys.example.com/"}, ConfigError),
        ({"leeway": -1}, ValueError),
        ({"timeout": 0}, ValueError),
    ],
)
def test_an_alb_verifier_checks_its_options_when_built(
    alb: LocalALB, changes: Dict[str, Any], error: type
) -> None:
    requests = alb.key_requests
    with pytest.raises(error):
        AlbVerifier(**{**alb.verify_options, **changes})
    assert alb.key_requests == requests


def test_every_timeout_has_the_one_rule_and_range(alb: LocalALB) -> None:
    assert AlbVerifier(**alb.verify_options, timeout=300).timeout == 300
    assert CognitoConfig(user_pool_id="us-east-1_AbC123", client_id="c", timeout=300).timeout == 300
    with pytest.raises(ValueError, match="timeout"):
        AlbVerifier(**alb.verify_options, timeout=301)
    with pytest.raises(ValueError, match="timeout"):
        verify_alb_jwt(alb.mint(), **alb.verify_options, timeout=600)
    with pytest.raises(ConfigError, match="timeout"):
        CognitoConfig(user_pool_id="us-east-1_AbC123", client_id="c", timeout=301)


# -- the public functions the guards use --------------------------------------------------------


def test_may_fetch_says_whether_the_key_is_still_to_be_fetched(issuer: Issuer) -> None:
    token = issuer.token("access")
    assert may_fetch(token, issuer.config)
    assert CognitoVerifier(issuer.config, token_use="access").may_fetch(token)
    decode_verify_jwt(token, config=issuer.config)
    assert not may_fetch(token, issuer.config)
    assert not may_fetch(token, [issuer.config, issuer.config])
    assert issuer.fetches == 1  # asking never fetches
    assert not may_fetch("not a token", issuer.config)
    assert not may_fetch(token)  # nothing configured: verification fails before any key


def test_check_held_is_the_rule_of_groups_and_scopes() -> None:
    claims = {"cognito:groups": ["staff"], "scope": "orders/read openid"}
    check_held(claims, groups=frozenset({"staff", "admins"}), scopes=frozenset({"orders/read"}))
    with pytest.raises(InvalidClaimsError) as info:
        check_held(claims, scopes=frozenset({"orders/write"}))
    assert (info.value.claim, info.value.reason) == ("scope", "scope")
    with pytest.raises(InvalidClaimsError) as info:
        check_held({"scope": "x"}, groups=frozenset({"staff"}))
    assert (info.value.claim, info.value.reason) == ("cognito:groups", "group")


def test_header_values_finds_a_header_in_any_case() -> None:
    headers = {"X-Amzn-Oidc-Data": "a", "x-amzn-oidc-data": "b", 5: "c", "Other": "d"}
    assert header_values(headers, "x-amzn-oidc-data") == ["a", "b"]
    assert header_values({}, "authorization") == []


def _private_reaches(path: Path) -> List[str]:
    """``from x import _name`` and ``module._name`` of another module, in ``path``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            found += [f"{node.module}.{a.name}" for a in node.names if _private(a.name)]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            if _private(node.value.id) and _private(node.attr) and node.value.id != "_":
                found.append(f"{node.value.id}.{node.attr}")
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_module_reaches_into_another_modules_private_names() -> None:
    reaches = {
        str(path.relative_to(PACKAGE)): _private_reaches(path)
        for path in sorted(PACKAGE.rglob("*.py"))
    }
    assert {path: found for path, found in reaches.items() if found} == {}
