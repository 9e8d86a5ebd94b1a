"""Issue 21, LocalCognito: what the sessions core relies on, checked against Cognito's docs over
loopback HTTP.

The docs (cognito-facts.md, "Signed-in web apps"; the revocation endpoint page; the
RefreshTokenRotationType reference):

* ``/oauth2/revoke`` on a refresh token revokes it "and all subsequent access and identity
  tokens from the same refresh token": with rotation, every refresh token and access token of
  the sign-in, for calls to Cognito (userInfo) — offline verification cannot see it;
* with rotation on, the refresh token that was rotated away stays valid for
  ``RetryGracePeriodSeconds`` (0-60) and then dies: a refresh with it is ``invalid_grant``;
  with a grace period of 0 "a successful request immediately invalidates the submitted
  refresh token".
"""

from __future__ import annotations

from typing import Tuple

import pytest

from cognito_helper import (
    InvalidGrantError,
    TokenExchangeError,
    Tokens,
    decode_verify_jwt,
    get_cognito_tokens,
    get_user_info,
    revoke_token,
)
from cognito_helper.testing import LocalCognito

from .helpers import MakeLocalCognito, sign_in


def signed_in_and_rotated(lc: LocalCognito) -> Tuple[Tokens, Tokens]:
    """A sign-in's first tokens, and the tokens of one refresh that rotated the refresh token."""
    got = sign_in(lc)
    first = get_cognito_tokens(got.code, config=lc.config, code_verifier=got.code_verifier)
    second = get_cognito_tokens(refresh_token=first.refresh_token, config=lc.config)
    assert first.refresh_token and second.refresh_token
    assert second.refresh_token != first.refresh_token
    return first, second


def assert_refused_by_user_info(lc: LocalCognito, access_token: str) -> None:
    with pytest.raises(TokenExchangeError) as info:
        get_user_info(access_token, config=lc.config)
    assert (info.value.error, info.value.status_code) == ("invalid_token", 401)


def test_revoking_the_first_refresh_token_revokes_its_descendants(
    make_lc: MakeLocalCognito,
) -> None:
    lc = make_lc(refresh_token_rotation=True, rotation_grace_period=30)
    first, second = signed_in_and_rotated(lc)
    assert get_user_info(second.access_token, config=lc.config)["username"]
    assert first.refresh_token is not None and second.refresh_token is not None
    revoke_token(first.refresh_token, config=lc.config)
    # the access tokens of the whole chain, for calls to Cognito
    assert_refused_by_user_info(lc, first.access_token)
    assert_refused_by_user_info(lc, second.access_token)
    # the rotated refresh token too, although it was issued after the revoked one
    with pytest.raises(InvalidGrantError):
        get_cognito_tokens(refresh_token=second.refresh_token, config=lc.config)
    # offline verification cannot see any of it: the access token verifies until its exp
    assert decode_verify_jwt(second.access_token, config=lc.config, token_use="access")


def test_revoking_the_latest_refresh_token_revokes_the_whole_sign_in(
    make_lc: MakeLocalCognito,
) -> None:
    lc = make_lc(refresh_token_rotation=True, rotation_grace_period=30)
    first, second = signed_in_and_rotated(lc)
    assert second.refresh_token is not None and first.refresh_token is not None
    revoke_token(second.refresh_token, config=lc.config)
    assert_refused_by_user_info(lc, first.access_token)
    assert_refused_by_user_info(lc, second.access_token)
    with pytest.raises(InvalidGrantError):  # still within its grace period, but revoked
        get_cognito_tokens(refresh_token=first.refresh_token, config=lc.config)


def test_a_rotated_away_token_works_within_the_grace_period_and_not_after(
    make_lc: MakeLocalCognito,
) -> None:
    lc = make_lc(refresh_token_rotation=True, rotation_grace_period=30)
    first, _ = signed_in_and_rotated(lc)
    lc.advance_clock(29)
    assert get_cognito_tokens(refresh_token=first.refresh_token, config=lc.config).access_token
    lc.advance_clock(2)  # 31 s after the rotation: past the grace period
    with pytest.raises(InvalidGrantError):
        get_cognito_tokens(refresh_token=first.refresh_token, config=lc.config)


def test_with_no_grace_period_a_rotated_away_token_is_dead_at_once(
    make_lc: MakeLocalCognito,
) -> None:
    lc = make_lc(refresh_token_rotation=True, rotation_grace_period=0)
    first, second = signed_in_and_rotated(lc)
    with pytest.raises(InvalidGrantError):
        get_cognito_tokens(refresh_token=first.refresh_token, config=lc.config)
    # the one it was rotated to still works, and the sign-in is not revoked by the refusal
    assert get_cognito_tokens(refresh_token=second.refresh_token, config=lc.config).access_token
    assert get_user_info(second.access_token, config=lc.config)["username"]
