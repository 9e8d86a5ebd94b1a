"""Edges of the RFC 6750 mapping that issue 19's mutation pass found untested (see
``.ci/mutation.md``; the BEFORE pass's survivors in bearer.py): the header size limit at exactly
64 KiB, and what a 400 for ``Bearer`` with no token or with two says.

Through ``verify_bearer``, as ``test_bearer.py`` does, against the scriptable JWKS issuer on
loopback (``conftest.Issuer``).
"""

from __future__ import annotations

import pytest

from cognito_helper.integrations.bearer import BearerRefusal, Refusal, verify_bearer

from .conftest import Issuer

SIXTY_FOUR_KIB = 64 * 1024  # the documented limit, written out: not read from the code


def refused(authorization: str, issuer: Issuer) -> Refusal:
    with pytest.raises(BearerRefusal) as info:
        verify_bearer(authorization, config=issuer.config)
    return info.value.refusal


def test_an_authorization_header_of_exactly_64_kib_is_read_and_one_character_more_is_400(
    issuer: Issuer,
) -> None:
    token = issuer.token("access")
    # Spaces between the scheme and the token are allowed, so any length can be made.
    exactly = "Bearer" + " " * (SIXTY_FOUR_KIB - len("Bearer") - len(token)) + token
    assert len(exactly) == SIXTY_FOUR_KIB
    assert verify_bearer(exactly, config=issuer.config)["token_use"] == "access"
    answer = refused(exactly.replace("Bearer", "Bearer ", 1), issuer)
    assert answer.status == 400
    assert answer.body == {
        "error": "invalid_request",
        "error_description": "the Authorization header is too long",
    }


@pytest.mark.parametrize(
    ("header", "what"),
    [("Bearer", "no token"), ("Bearer   ", "no token"), ("Bearer a b", "more than one token")],
)
def test_a_400_for_a_bearer_header_says_whether_it_holds_no_token_or_several(
    issuer: Issuer, header: str, what: str
) -> None:
    answer = refused(header, issuer)
    assert answer.status == 400
    assert answer.body["error_description"] == f"the Bearer header holds {what}"
