"""Which check fails first: the documented order, pinned by a table of tokens with two faults.

Order (see ``cognito_helper.jwt_helper``): input and header, key, signature, then every core
claim's type, then the comparisons (``exp``, ``nbf``, ``iat``, ``iss``, ``token_use``, the
client), then what the call asked for (``nonce``, ``at_hash``, groups, scopes). The memo-hit
path runs the same comparisons in the same order, so a remembered token fails as a new one.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Dict, Optional, Type

import pytest

from cognito_helper import (
    CognitoError,
    InvalidClaimsError,
    InvalidSignatureError,
    MalformedTokenError,
    TokenExpiredError,
    UnknownKeyError,
    clear_verification_memo,
    decode_verify_jwt,
    set_verification_memo_size,
    verification_memo_info,
)

from .conftest import Issuer
from .tokens import b64, b64json

HOUR = 3600


def _resigned_garbage(token: str) -> str:
    head, payload, signature = token.split(".")
    flipped = "A" if signature[0] != "A" else "B"
    return f"{head}.{payload}.{flipped}{signature[1:]}"


def _alg_none(issuer: Issuer, **claims: Any) -> str:
    header = {"alg": "none", "kid": "no-such-kid"}
    return f"{b64json(header)}.{b64json(issuer.claims('id', **claims))}.{b64(b'x')}"


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Issuer], str]
    expected: Type[CognitoError]
    claim: Optional[str] = None
    options: Dict[str, Any] = field(default_factory=dict)


PAST = {"exp": int(time.time()) - HOUR, "iat": int(time.time()) - 2 * HOUR}

CASES = [
    Case("malformed header beats unknown kid", lambda i: _alg_none(i), MalformedTokenError),
    Case(
        "unknown kid beats expired",
        lambda i: i.token("id", key=i.spare[0], **PAST),
        UnknownKeyError,
    ),
    Case(
        "bad signature beats expired",
        lambda i: _resigned_garbage(i.token("id", **PAST)),
        InvalidSignatureError,
    ),
    Case(
        "bad signature beats a wrong token_use",
        lambda i: _resigned_garbage(i.token("id")),
        InvalidSignatureError,
        options={"token_use": "access"},
    ),
    Case(
        "a mistyped claim beats expired",
        lambda i: i.token("id", iss=5, **PAST),
        InvalidClaimsError,
        "iss",
    ),
    Case(
        "a missing sub beats expired",
        lambda i: i.token("id", sub=None, **PAST),
        InvalidClaimsError,
        "sub",
    ),
    Case(
        "an impossible token_use beats expired",
        lambda i: i.token("refresh", **PAST),
        InvalidClaimsError,
        "token_use",
    ),
    Case(
        "expired beats a foreign iss",
        lambda i: i.token("id", iss="https://elsewhere.example.com/pool", **PAST),
        TokenExpiredError,
    ),
    Case(
        "nbf in the future beats a foreign iss",
        lambda i: i.token("id", nbf=int(time.time()) + HOUR, iss="https://elsewhere.example"),
        InvalidClaimsError,
        "nbf",
    ),
    Case(
        "iat in the future beats a foreign iss",
        lambda i: i.token("id", iat=int(time.time()) + HOUR, iss="https://elsewhere.example"),
        InvalidClaimsError,
        "iat",
    ),
    Case(
        "a foreign iss beats a wrong token_use",
        lambda i: i.token("id", iss="https://elsewhere.example"),
        InvalidClaimsError,
        "iss",
        {"token_use": "access"},
    ),
    Case(
        "a wrong token_use beats another client",
        lambda i: i.token("id", aud="another-client"),
        InvalidClaimsError,
        "token_use",
        {"token_use": "access"},
    ),
    Case(
        "another client beats a nonce mismatch",
        lambda i: i.token("id", aud="another-client", nonce="n-1"),
        InvalidClaimsError,
        "aud",
        {"nonce": "n-2"},
    ),
    Case(
        "a nonce mismatch beats an at_hash mismatch",
        lambda i: i.token("id", nonce="n-1", at_hash="AAAAAAAAAAAAAAAAAAAAAA"),
        InvalidClaimsError,
        "nonce",
        {"nonce": "n-2", "access_token": "a.b.c"},
    ),
    Case(
        "an at_hash mismatch beats missing groups",
        lambda i: i.token("id", at_hash="AAAAAAAAAAAAAAAAAAAAAA"),
        InvalidClaimsError,
        "at_hash",
        {"access_token": "a.b.c", "groups": "admins"},
    ),
    Case(
        "missing groups beat missing scopes",
        lambda i: i.token("access", scope="openid"),
        InvalidClaimsError,
        "cognito:groups",
        {"groups": "admins", "scopes": "orders/read"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_the_earlier_check_wins(issuer: Issuer, case: Case) -> None:
    token = case.make(issuer)
    with pytest.raises(case.expected) as info:
        decode_verify_jwt(token, config=issuer.config, **case.options)
    assert type(info.value) is case.expected
    if case.claim is not None:
        assert getattr(info.value, "claim", None) == case.claim


# -- the memo-hit path: a token that passed, checked again under a later clock and options ----


@dataclass(frozen=True)
class Later:
    name: str
    clock: float  # seconds after now
    config: Dict[str, Any]
    options: Dict[str, Any]
    expected: Type[CognitoError]
    claim: Optional[str]


LATER = [
    Later(
        "expired beats a foreign iss",
        2 * HOUR,
        {"issuer": "https://x.example/p"},
        {},
        TokenExpiredError,
        None,
    ),
    Later(
        "a foreign iss beats a wrong token_use",
        0,
        {"issuer": "https://x.example/p"},
        {"token_use": "access"},
        InvalidClaimsError,
        "iss",
    ),
    Later(
        "a wrong token_use beats another client",
        0,
        {"client_id": "other"},
        {"token_use": "access"},
        InvalidClaimsError,
        "token_use",
    ),
    Later(
        "another client beats a nonce mismatch",
        0,
        {"client_id": "other"},
        {"nonce": "n-2"},
        InvalidClaimsError,
        "aud",
    ),
    Later(
        "a nonce mismatch beats missing groups",
        0,
        {},
        {"nonce": "n-2", "groups": "x"},
        InvalidClaimsError,
        "nonce",
    ),
]


def _error(token: str, config: Any, options: Dict[str, Any]) -> CognitoError:
    with pytest.raises(CognitoError) as info:
        decode_verify_jwt(token, config=config, **options)
    return info.value


@pytest.mark.parametrize("case", LATER, ids=[c.name for c in LATER])
def test_a_remembered_token_fails_first_where_a_new_one_does(
    issuer: Issuer, case: Later, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = issuer.token("id", nonce="n-1")
    decode_verify_jwt(token, config=issuer.config)  # remembered
    later = time.time() + case.clock
    monkeypatch.setattr("cognito_helper.verification.cognito.time.time", lambda: later)
    config = replace(issuer.config, **case.config)
    hits = verification_memo_info().hits
    warm = _error(token, config, case.options)
    assert verification_memo_info().hits == hits + 1  # answered by the memo
    clear_verification_memo()
    set_verification_memo_size(0)
    try:
        cold = _error(token, config, case.options)
    finally:
        set_verification_memo_size(4096)
    for error in (warm, cold):
        assert type(error) is case.expected
        assert getattr(error, "claim", None) == case.claim
    assert str(warm) == str(cold)
