"""decode_verify_jwt's newer options: audience= (resource-bound access tokens), check= (the
app's own rule, run last), and the claims a rejection carries for logging who was refused."""

from __future__ import annotations

from typing import Any, Dict, List

import pytest

from cognito_helper import (
    InvalidClaimsError,
    InvalidSignatureError,
    MalformedTokenError,
    TokenExpiredError,
    TokenVerificationError,
    verification_memo_info,
)

from .conftest import Issuer
from .helpers import verify

API = "https://api.example.com"


# -- audience -----------------------------------------------------------------------------


@pytest.mark.parametrize("aud", [API, [API], ["https://other.example", API]])
def test_an_access_token_bound_to_the_audience_passes(issuer: Issuer, aud: Any) -> None:
    token = issuer.token("access", aud=aud)
    assert verify(issuer, token, audience=API)["aud"] == aud
    assert verify(issuer, token, audience=[API, "https://x.example"])["aud"] == aud


@pytest.mark.parametrize(
    ("aud", "says"),
    [
        (None, "bound to no resource"),
        ("https://other.example", "none of"),
        ([], "bound to no resource"),
        ([5], "bound to no resource"),
        (5, "bound to no resource"),
    ],
)
def test_an_access_token_not_bound_to_the_audience_is_refused_as_aud(
    issuer: Issuer, aud: Any, says: str
) -> None:
    token = issuer.token("access", aud=aud)
    with pytest.raises(InvalidClaimsError, match=says) as info:
        verify(issuer, token, audience=API)
    assert info.value.claim == "aud"


def test_an_id_token_is_refused_as_aud_when_an_audience_is_asked(issuer: Issuer) -> None:
    with pytest.raises(InvalidClaimsError, match="applies to access tokens") as info:
        verify(issuer, issuer.token("id"), audience=API)
    assert info.value.claim == "aud"


def test_the_audience_is_checked_on_a_memo_hit_too(issuer: Issuer) -> None:
    token = issuer.token("access", aud=API)
    verify(issuer, token)
    hits = verification_memo_info().hits
    with pytest.raises(InvalidClaimsError):
        verify(issuer, token, audience="https://other.example")
    assert verification_memo_info().hits == hits + 1


@pytest.mark.parametrize("audience", ["", [], [""], [5], 5])
def test_an_invalid_audience_option_is_a_value_error(issuer: Issuer, audience: Any) -> None:
    with pytest.raises(ValueError, match="audience"):
        verify(issuer, issuer.token("access", aud=API), audience=audience)


# -- check --------------------------------------------------------------------------------


def test_check_is_called_last_with_the_callers_copy_on_every_call(issuer: Issuer) -> None:
    seen: List[Dict[str, Any]] = []

    def check(claims: Dict[str, Any]) -> None:
        seen.append(claims)
        claims["mutated"] = True  # the caller's copy: nothing else sees it

    token = issuer.token("id")
    first = verify(issuer, token, check=check)
    second = verify(issuer, token, check=check)  # a memo hit
    assert len(seen) == 2
    assert seen[0] is first and seen[1] is second
    assert "mutated" not in verify(issuer, token)


def test_a_verification_error_raised_by_check_propagates_as_it_is(issuer: Issuer) -> None:
    refusal = InvalidClaimsError("wrong tenant", claim="custom:tenant")

    def check(claims: Dict[str, Any]) -> None:
        raise refusal

    for _ in range(2):  # full path, then memo hit
        with pytest.raises(InvalidClaimsError) as info:
            verify(issuer, issuer.token("id"), check=check)
        assert info.value is refusal


def test_any_other_exception_from_check_propagates_unchanged(issuer: Issuer) -> None:
    class AppBug(Exception):
        pass

    def check(claims: Dict[str, Any]) -> None:
        raise AppBug("the app's own bug, not a 401")

    with pytest.raises(AppBug):
        verify(issuer, issuer.token("id"), check=check)


def test_check_is_not_called_for_a_token_that_fails_earlier(issuer: Issuer) -> None:
    calls: List[Any] = []
    with pytest.raises(TokenExpiredError):
        verify(issuer, issuer.token("id", exp=1_000_000, iat=999_000), check=calls.append)
    with pytest.raises(InvalidClaimsError):
        verify(issuer, issuer.token("id"), token_use="access", check=calls.append)
    assert calls == []


def test_a_check_that_is_not_callable_is_a_value_error(issuer: Issuer) -> None:
    with pytest.raises(ValueError, match="check"):
        verify(issuer, issuer.token("id"), check="tenant")  # type: ignore[arg-type]


# -- what a rejection carries -------------------------------------------------------------


def test_a_rejection_after_the_signature_carries_the_claims(issuer: Issuer) -> None:
    token = issuer.token("id", exp=1_000_000, iat=999_000, auth_time=999_000)
    with pytest.raises(TokenExpiredError) as info:
        verify(issuer, token)
    claims = info.value.claims
    assert claims is not None and claims["exp"] == 1_000_000 and claims["sub"]
    assert "sub" not in str(info.value) and claims["sub"] not in repr(info.value)
    assert token not in str(info.value) and token not in repr(info.value)


def test_a_rejection_on_a_memo_hit_carries_a_copy_of_the_claims(issuer: Issuer) -> None:
    token = issuer.token("id", **{"cognito:groups": ["a", "b"]})
    verify(issuer, token)
    with pytest.raises(InvalidClaimsError) as info:
        verify(issuer, token, groups="admins")  # a memo hit, then refused
    claims = info.value.claims
    assert claims is not None and claims["cognito:groups"] == ["a", "b"]
    claims["cognito:groups"].append("admins")  # the caller's copy only
    assert verify(issuer, token)["cognito:groups"] == ["a", "b"]


def test_a_mistyped_claim_carries_the_claims(issuer: Issuer) -> None:
    with pytest.raises(InvalidClaimsError) as info:
        verify(issuer, issuer.token("id", sub=5))
    assert info.value.claims is not None and info.value.claims["sub"] == 5


@pytest.mark.parametrize("kind", ["malformed", "bad-signature"])
def test_a_rejection_before_the_signature_carries_no_claims(issuer: Issuer, kind: str) -> None:
    token = issuer.token("id")
    if kind == "malformed":
        token = token + ".x"
        expected: Any = MalformedTokenError
    else:
        head, payload, signature = token.split(".")
        token = f"{head}.{payload}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
        expected = InvalidSignatureError
    with pytest.raises(expected) as info:
        verify(issuer, token)
    assert isinstance(info.value, TokenVerificationError)
    assert info.value.claims is None
