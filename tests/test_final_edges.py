"""Behaviours the final mutation pass over the guards, M2M and ALB code found untested
(``.ci/mutation.md``): a TokenGuard shortcut given ``methods``, a ClientCredentials clock that is
not a function, the bound on the verifiers the ALB doors keep; and the claims a check's refusal
carries through a guard."""

from __future__ import annotations

from typing import Any, Callable, Dict

import pytest

from cognito_helper import ClientCredentials, TokenVerificationError
from cognito_helper.integrations.bearer import BearerRefusal, Guard
from cognito_helper.testing import LocalCognito
from cognito_helper.verification import alb as alb_module

from .alb_support import ARN


def test_a_checks_refusal_without_claims_carries_the_claims_it_was_given(
    lc: LocalCognito,
) -> None:
    def refuse(claims: Dict[str, Any]) -> None:
        raise TokenVerificationError("not this one")

    guard = Guard.of(config=lc.config, check=refuse)
    token = lc.mint("access")
    with pytest.raises(BearerRefusal) as info:
        guard.verify(f"Bearer {token}")
    cause = info.value.cause
    assert isinstance(cause, TokenVerificationError)
    assert cause.claims is not None and cause.claims["token_use"] == "access"


def test_a_token_guard_method_shortcut_takes_no_methods() -> None:
    flask = pytest.importorskip("flask")
    from cognito_helper.flask import TokenGuard

    guard = TokenGuard(flask.Flask(__name__))
    with pytest.raises(TypeError, match=r"use route\(\) to give the methods"):
        guard.get("/orders", methods=["POST"])


def test_a_clock_that_is_not_a_function_is_a_type_error(
    make_lc: Callable[..., LocalCognito],
) -> None:
    lc = make_lc(client_secret="test-secret")
    with pytest.raises(TypeError, match="clock"):
        ClientCredentials(config=lc.config, clock=5.0)  # type: ignore[arg-type]


def test_the_alb_doors_keep_at_most_64_verifiers() -> None:
    sizes = []
    for i in range(65):
        arn = ARN.rsplit("/", 1)[0] + f"/{i:016x}"
        alb_module._verifier(arn, None, None, None, 0, None, 10.0)
        sizes.append(len(alb_module._verifiers))
    assert sizes[63] == 64 and max(sizes) == 64  # the 65th is kept by forgetting the others


def test_a_checks_refusal_through_a_replacement_verifier_carries_the_claims_it_was_given(
    lc: LocalCognito,
) -> None:
    """``Guard.verify(verify=...)`` bypasses the pipeline: the guard itself names the claims."""

    def refuse(claims: Dict[str, Any]) -> None:
        claims.clear()  # the check's own copy: what it changes is not what is reported
        raise TokenVerificationError("not this one")

    def stand_in(token: str, **options: Any) -> Dict[str, Any]:
        options["check"]({"sub": "user-1", "token_use": "access"})
        return {}

    guard = Guard.of(config=lc.config, check=refuse)
    with pytest.raises(BearerRefusal) as info:
        guard.verify("Bearer t", verify=stand_in)
    cause = info.value.cause
    assert isinstance(cause, TokenVerificationError)
    assert cause.claims == {"sub": "user-1", "token_use": "access"}
