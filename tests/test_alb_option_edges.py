"""Edges of ``verify_alb_jwt``'s options that issue 19's mutation pass found untested (see
``.ci/mutation.md``): the ends of the leeway's range, ``[0, 1e9)`` seconds, as ``decode_verify_jwt``
has it, for an ``int`` and a ``float`` alike.

Tokens and the key endpoint come from a LocalALB on loopback; nothing is mocked.
"""

from __future__ import annotations

import time
from typing import Any, Iterator

import pytest

from cognito_helper import TokenExpiredError
from cognito_helper.testing import LocalALB
from cognito_helper.verification.alb import verify_alb_jwt

ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/my-alb/50dc6c495c0c9188"


@pytest.fixture
def alb() -> Iterator[LocalALB]:
    with LocalALB(alb_arn=ARN) as running:
        yield running


@pytest.mark.parametrize("leeway", [0, 0.0, 0.5, 999_999_999, 999_999_999.5])
def test_a_leeway_from_zero_to_just_under_1e9_seconds_is_accepted(
    alb: LocalALB, leeway: Any
) -> None:
    claims = verify_alb_jwt(alb.mint(), **alb.verify_options, leeway=leeway)
    assert claims["iss"] == alb.issuer


@pytest.mark.parametrize("leeway", [1e9, 10**9, 1e9 + 1, -0.5])
def test_a_leeway_of_1e9_seconds_or_more_or_below_zero_is_a_value_error(
    alb: LocalALB, leeway: Any
) -> None:
    with pytest.raises(ValueError, match="leeway"):
        verify_alb_jwt(alb.mint(), **alb.verify_options, leeway=leeway)
    assert alb.key_requests == 0  # refused before any key is fetched


def test_a_zero_leeway_gives_no_grace_to_a_token_a_second_past_its_exp(alb: LocalALB) -> None:
    past = int(time.time()) - 1
    expired = alb.mint(claims={"exp": past}, header={"exp": past})
    for leeway in (0, 0.0):
        with pytest.raises(TokenExpiredError):
            verify_alb_jwt(expired, **alb.verify_options, leeway=leeway)
