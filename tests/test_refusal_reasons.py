"""Why a token was refused: ``TokenVerificationError.reason``, one of ``REASONS``, the same for
Cognito tokens and an ALB's, for a new token and for one the memo remembers.

Each case is a hostile token with the options under which it is refused. A case whose token
can pass (it is validly signed and well typed) has ``first`` options under which it does: the
remembered run verifies it with those first, so the refusal comes from a memo hit.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from cognito_helper import (
    REASONS,
    AlbVerifier,
    CognitoVerifier,
    InvalidClaimsError,
    TokenVerificationError,
    clear_verification_memo,
    verification_memo_info,
)
from cognito_helper.sessions import RevocationList
from cognito_helper.testing import LocalALB
from cognito_helper.verification import alb as alb_module

from .conftest import Issuer
from .tokens import b64json

ROOT = Path(__file__).resolve().parents[1]
ARN_PREFIX = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app"
OTHER_ARN = f"{ARN_PREFIX}/other-alb/0123456789abcdef"
NO_SUCH_KID = "00000000-0000-4000-8000-000000000000"


def now() -> int:
    """The clock when a case's token is made (the module is imported well before: a case
    calls it in the function that builds its token)."""
    return int(time.time())


@dataclass
class Case:
    """A hostile token (built from the fixture), the reason it is refused for, the options that
    refuse it and (when it can pass) the options under which it passes first."""

    reason: str
    name: str
    token: Callable[[Any], str]
    then: Dict[str, Any] = field(default_factory=dict)
    first: Optional[Dict[str, Any]] = None

    def __str__(self) -> str:
        return f"{self.reason}:{self.name}"


# -- Cognito tokens -----------------------------------------------------------------------------


def _resigned_header(issuer: Issuer, **header: Any) -> str:
    return issuer.token("id", header=header)


def _tampered(issuer: Issuer) -> str:
    head, body, signature = issuer.token("id").split(".")
    return f"{head}.{body}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"


def _refusing_check(claims: Dict[str, Any]) -> bool:
    return claims.get("sub") == "nobody"


def _raising_check(claims: Dict[str, Any]) -> None:
    raise InvalidClaimsError("wrong tenant", claim="custom:tenant")  # no reason of its own


def _signed_out() -> RevocationList:
    """A revocation list holding the sign-in of the "revoked" case's token."""
    revocations = RevocationList()
    revocations.add("signed-out-sign-in", now() + 3600)
    return revocations


COGNITO = [
    Case("malformed", "not-a-jws", lambda i: "not a token"),
    Case("malformed", "alg-hs256", lambda i: _resigned_header(i, alg="HS256")),
    Case("malformed", "no-kid", lambda i: _resigned_header(i, kid=None)),
    Case("unknown_key", "kid-not-in-jwks", lambda i: i.token("id", key=i.spare[0])),
    Case("signature", "tampered", _tampered),
    Case("claim", "sub-a-number", lambda i: i.token("id", sub=5)),
    Case("claim", "no-exp", lambda i: i.token("id", exp=None)),
    Case("token_use", "refresh", lambda i: i.key.token(dict(i.claims("id"), token_use="refresh"))),
    Case(
        "expired",
        "exp-passed",
        lambda i: i.token("id", exp=now() - 30, iat=now() - 100, auth_time=now() - 100),
        first={"leeway": 60},
    ),
    Case(
        "not_yet_valid",
        "nbf-ahead",
        lambda i: i.token("id", nbf=now() + 600),
        first={"leeway": 900},
    ),
    Case(
        "issued_in_future",
        "iat-ahead",
        lambda i: i.token("id", iat=now() + 1200, exp=now() + 4000),
        first={"leeway": 1200},
    ),
    Case(
        "issuer",
        "another-issuer",
        lambda i: i.token("id"),
        then={"config": "other-issuer"},
        first={},
    ),
    Case("client", "another-client", lambda i: i.token("id"), {"config": "other-client"}, {}),
    Case("token_use", "id-for-access", lambda i: i.token("id"), {"token_use": "access"}, {}),
    Case(
        "audience",
        "bound-to-no-resource",
        lambda i: i.token("access"),
        {"token_use": "access", "audience": "https://orders.example.com"},
        {"token_use": "access"},
    ),
    Case("nonce", "another-nonce", lambda i: i.token("id", nonce="n-1"), {"nonce": "n-2"}, {}),
    Case(
        "at_hash",
        "another-access-token",
        lambda i: i.token("id", at_hash="AAAAAAAAAAAAAAAAAAAAAA"),
        {"access_token": "a.b.c"},
        {},
    ),
    Case("scope", "scope-not-granted", lambda i: i.token("access"), {"scopes": "admin"}, {}),
    Case(
        "group",
        "not-in-the-group",
        lambda i: i.token("id", **{"cognito:groups": ["staff"]}),
        {"groups": "admins"},
        {},
    ),
    Case("check", "check-returns-false", lambda i: i.token("id"), {"check": _refusing_check}, {}),
    Case("check", "check-raises", lambda i: i.token("id"), {"check": _raising_check}, {}),
    Case(
        "revoked",
        "signed-out",
        lambda i: i.token("id", origin_jti="signed-out-sign-in"),
        {"revocations": "signed-out"},
        {},
    ),
    Case(
        "issuer",
        "no-config-for-the-issuer",
        lambda i: i.token("id", iss="https://issuer.example.com/pool"),
        {"config": "several"},
    ),
    Case(
        "client",
        "no-config-for-the-client",
        lambda i: i.token("id", aud="unknownclient"),
        {"config": "several"},
    ),
]

_PER_CALL = ("nonce", "access_token")


def _cognito_verify(issuer: Issuer, token: str, options: Dict[str, Any]) -> Dict[str, Any]:
    """``CognitoVerifier`` built from ``options`` (``config`` named), then ``verify``."""
    options = dict(options)
    configs: Dict[Optional[str], Any] = {
        None: issuer.config,
        "other-issuer": replace(issuer.config, issuer="https://issuer.example.com/pool"),
        "other-client": replace(issuer.config, client_id="anotherclient"),
        "several": [replace(issuer.config, client_id="webclient"), issuer.config],
    }
    config = configs[options.pop("config", None)]
    if options.get("revocations") == "signed-out":
        options["revocations"] = _signed_out()
    per_call = {name: options.pop(name) for name in _PER_CALL if name in options}
    options.setdefault("token_use", None)
    verifier = CognitoVerifier(config, **options)
    return verifier.verify(token, **per_call)


@pytest.fixture(autouse=True)
def fresh_memos() -> Iterator[None]:
    clear_verification_memo()
    alb_module.memo.clear()
    yield
    clear_verification_memo()
    alb_module.memo.clear()


def _refused(verify: Callable[[], Any]) -> TokenVerificationError:
    with pytest.raises(TokenVerificationError) as info:
        verify()
    assert info.value.reason in REASONS
    return info.value


@pytest.mark.parametrize("case", COGNITO, ids=str)
def test_a_cognito_token_is_refused_for_its_reason(issuer: Issuer, case: Case) -> None:
    token = case.token(issuer)
    refusal = _refused(lambda: _cognito_verify(issuer, token, case.then))
    assert refusal.reason == case.reason


@pytest.mark.parametrize("case", [c for c in COGNITO if c.first is not None], ids=str)
def test_a_remembered_cognito_token_is_refused_for_the_same_reason(
    issuer: Issuer, case: Case
) -> None:
    token = case.token(issuer)
    assert case.first is not None
    _cognito_verify(issuer, token, case.first)  # it passes, and is remembered
    hits = verification_memo_info().hits
    refusal = _refused(lambda: _cognito_verify(issuer, token, case.then))
    assert verification_memo_info().hits == hits + 1  # refused on a memo hit
    assert refusal.reason == case.reason
    assert refusal.claims is not None and refusal.claims["sub"]


# -- ALB data tokens ----------------------------------------------------------------------------


def _alb_mint(**changes: Any) -> Callable[[LocalALB], str]:
    return lambda alb: alb.mint(**changes)


def _short_signature(alb: LocalALB) -> str:
    head, body, _ = alb.mint().split(".")
    return f"{head}.{body}.{b64json('x')}"


ALB = [
    Case("malformed", "not-a-jws", lambda alb: "a.b.c"),
    Case("malformed", "alg-rs256", _alb_mint(header={"alg": "RS256"})),
    Case("malformed", "kid-not-a-uuid", _alb_mint(header={"kid": "../keys"})),
    Case("unknown_key", "kid-not-published", _alb_mint(header={"kid": NO_SUCH_KID})),
    Case("signature", "another-key", _alb_mint(key=ec.generate_private_key(ec.SECP256R1()))),
    Case("signature", "not-64-bytes", _short_signature),
    Case("claim", "sub-a-number", _alb_mint(claims={"sub": 5})),
    Case("claim", "header-exp-a-string", _alb_mint(header={"exp": "soon"})),
    Case("signer", "no-signer", _alb_mint(header={"signer": None})),
    Case(
        "expired",
        "exp-passed",
        lambda alb: alb.mint(claims={"exp": now() - 30}, header={"exp": now() - 30}),
        first={"leeway": 60},
    ),
    Case(
        "not_yet_valid",
        "nbf-ahead",
        lambda alb: alb.mint(claims={"nbf": now() + 600}),
        first={"leeway": 900},
    ),
    Case(
        "issued_in_future",
        "iat-ahead",
        lambda alb: alb.mint(claims={"iat": now() + 1200}),
        first={"leeway": 1200},
    ),
    Case(
        "issuer",
        "payload-iss",
        _alb_mint(claims={"iss": "https://issuer.example.com/pool"}),
        first={"issuer": None},
    ),
    Case(
        "issuer",
        "header-iss",
        _alb_mint(header={"iss": "https://issuer.example.com/pool"}),
        first={"issuer": None},
    ),
    Case(
        "client",
        "header-client",
        _alb_mint(header={"client": "another"}),
        first={"client_id": None},
    ),
    Case(
        "signer",
        "another-load-balancer",
        _alb_mint(header={"signer": OTHER_ARN}),
        first={"alb_arn": "both"},
    ),
]


@pytest.fixture(scope="module")
def alb() -> Iterator[LocalALB]:
    with LocalALB() as site:
        yield site


def _alb_verifier(alb: LocalALB, changes: Dict[str, Any]) -> AlbVerifier:
    options = dict(alb.verify_options, **changes)
    if options["alb_arn"] == "both":
        options["alb_arn"] = [alb.alb_arn, OTHER_ARN]
    return AlbVerifier(**options)


@pytest.mark.parametrize("case", ALB, ids=str)
def test_an_alb_token_is_refused_for_its_reason(alb: LocalALB, case: Case) -> None:
    token = case.token(alb)
    refusal = _refused(lambda: _alb_verifier(alb, case.then).verify(token))
    assert refusal.reason == case.reason


@pytest.mark.parametrize("case", [c for c in ALB if c.first is not None], ids=str)
def test_a_remembered_alb_token_is_refused_for_the_same_reason(alb: LocalALB, case: Case) -> None:
    token = case.token(alb)
    assert case.first is not None
    _alb_verifier(alb, case.first).verify(token)  # it passes, and is remembered
    hits = alb_module.memo.info().hits
    refusal = _refused(lambda: _alb_verifier(alb, case.then).verify(token))
    assert alb_module.memo.info().hits == hits + 1
    assert refusal.reason == case.reason
    assert refusal.claims is not None and refusal.claims["sub"]


@pytest.mark.parametrize("path", ["new", "remembered"])
def test_an_identity_header_of_another_user_is_a_claim_refusal(alb: LocalALB, path: str) -> None:
    headers = alb.headers("alice")
    verifier = _alb_verifier(alb, {})
    if path == "remembered":
        verifier.verify_request(headers)
    headers["x-amzn-oidc-identity"] = alb.headers("bob")["x-amzn-oidc-identity"]
    refusal = _refused(lambda: verifier.verify_request(headers))
    assert (refusal.reason, getattr(refusal, "claim", None)) == ("claim", "sub")


# -- the set ------------------------------------------------------------------------------------


def test_the_tables_cover_every_documented_reason_on_both_profiles() -> None:
    assert {c.reason for c in COGNITO + ALB} == REASONS
    shared = {"malformed", "unknown_key", "signature", "expired", "not_yet_valid"}
    shared |= {"issued_in_future", "claim", "issuer", "client"}
    assert shared <= {c.reason for c in COGNITO} & {c.reason for c in ALB}


def test_the_docs_document_exactly_the_reasons() -> None:
    readme = (ROOT / "docs" / "verifying.md").read_text(encoding="utf-8")
    rows: List[str] = re.findall(r'^\| `"([a-z_]+)"` \|', readme, flags=re.MULTILINE)
    assert set(rows) == REASONS and len(rows) == len(REASONS)


def test_a_reason_outside_the_set_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="reason"):
        InvalidClaimsError("x", claim="x", reason="because")
    assert InvalidClaimsError("x", claim="x", reason="scope").reason == "scope"
