"""What a refused ALB data token learns: ``exc.client_message``, the text a guard may send.

Issue 19, S4, for the ALB verifier: a token naming another load balancer (``signer``), another
app client (``client``) or another issuer (``iss``, in the header or the payload) is refused,
before any key is fetched where the header says so, and what the client may read names none of
the configuration (the trusted ARNs with their account id and region, the app-client ids, the
issuer, the key URL), while ``str(exc)`` keeps what was expected and what came for the
server's log. The same for a token the verifier remembers, whose comparisons run again on
every call. Every refusal of the ALB hostile table (tests/test_alb_verify.py) is checked too.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Iterator, List

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from cognito_helper import InvalidClaimsError, TokenVerificationError
from cognito_helper.testing import LocalALB
from cognito_helper.verification import alb as alb_module
from cognito_helper.verification.alb import (
    verify_alb_jwt,
    verify_alb_request,
)

from .helpers import Case
from .servers import ScriptedServer
from .test_alb_verify import CASES, Ctx

# The trusted load balancer, in an account and a region no other ALB of these tests uses.
ACCOUNT = "210987654321"
REGION = "eu-north-1"
TRUSTED_ARN = (
    f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}:loadbalancer/app/orders-alb/0123456789abcdef"
)
FORGED_ARN = (
    "arn:aws:elasticloadbalancing:ap-east-1:999999999999:loadbalancer/app/forged/fedcba9876543210"
)
CLIENT = "trustedalbclient0000000001"
ISSUER = f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_TrustedPool"


@pytest.fixture
def alb() -> Iterator[LocalALB]:
    with LocalALB(alb_arn=TRUSTED_ARN, client_id=CLIENT, issuer=ISSUER) as local:
        yield local


def _configuration(alb: LocalALB) -> List[str]:
    """Every string of the trust configuration a refused token must not learn."""
    options = alb.verify_options
    url = alb.url
    return [
        options["alb_arn"],
        options["alb_arn"].split(":")[4],  # the account id
        options["alb_arn"].split(":")[3],  # the region
        options["alb_arn"].split("/", 1)[1],  # the load balancer's name and id
        options["client_id"],
        options["issuer"],
        options["issuer"].rsplit("/", 1)[1],  # the pool id
        options["key_url"],
        url,
        url.split("//")[1],  # host:port of the key endpoint
    ]


def _shows_none(text: str, configuration: List[str]) -> None:
    shown = [value for value in configuration if value in text]
    assert shown == [], f"the client may read {shown} in {text!r}"


# (the refused token's changes: header, payload; the claim refused; what the client reads;
#  what the server's log must name: the configured value)
FORGED: Dict[str, Any] = {
    "another-signer": ({"signer": FORGED_ARN}, {}, "signer", "signer", TRUSTED_ARN),
    "no-signer": ({"signer": None}, {}, "signer", None, "signer"),
    "another-client": ({"client": "attackerclient00000000001"}, {}, "client", "app client", CLIENT),
    "no-client": ({"client": None}, {}, "client", "app client", CLIENT),
    "header-iss-of-another-pool": (
        {"iss": ISSUER.replace("TrustedPool", "OtherPool")},
        {},
        "iss",
        "issuer",
        ISSUER,
    ),
    "payload-iss-of-another-pool": (
        {},
        {"iss": ISSUER.replace("TrustedPool", "OtherPool")},
        "iss",
        "issuer",
        ISSUER,
    ),
    "payload-iss-missing": ({}, {"iss": None}, "iss", "issuer", ISSUER),
}


def _refusal(call: Callable[[], Any]) -> TokenVerificationError:
    with pytest.raises(TokenVerificationError) as info:
        call()
    return info.value


# A token without a signer is never accepted, so never remembered.
PATHS = [(case, path) for case in FORGED for path in ("new", "remembered")]
PATHS.remove(("no-signer", "remembered"))


@pytest.mark.parametrize(("case", "path"), PATHS, ids=[f"{c}-{p}" for c, p in PATHS])
def test_a_forged_alb_token_learns_no_trust_configuration(
    alb: LocalALB, case: str, path: str
) -> None:
    header, claims, claim, noun, logged = FORGED[case]
    token = alb.mint("alice", header=header, claims=claims)
    options = alb.verify_options
    if path == "remembered":  # accepted once by options that trust it, so remembered
        permissive = dict(options, alb_arn=[TRUSTED_ARN, FORGED_ARN], client_id=None, issuer=None)
        verify_alb_jwt(token, **permissive)
    hits = alb_module.memo.info().hits
    exc = _refusal(lambda: verify_alb_jwt(token, **options))
    assert alb_module.memo.info().hits == hits + (path == "remembered")
    assert isinstance(exc, InvalidClaimsError) and exc.claim == claim
    _shows_none(exc.client_message, _configuration(alb))
    if noun is not None:
        assert f"{noun} is not trusted" in exc.client_message
    assert logged in str(exc)  # the server's log still names what was expected
    if path == "new" and (claim != "iss" or "header" in case):
        assert alb.key_requests == 0  # refused before any key was fetched


def test_the_server_log_names_what_came_as_well_as_what_was_expected(alb: LocalALB) -> None:
    other = dict(alb.verify_options, alb_arn=[TRUSTED_ARN, FORGED_ARN.replace("forged", "other")])
    exc = _refusal(lambda: verify_alb_jwt(alb.mint(header={"signer": FORGED_ARN}), **other))
    assert FORGED_ARN in str(exc) and TRUSTED_ARN in str(exc)
    assert FORGED_ARN.replace("forged", "other") in str(exc)
    exc = _refusal(
        lambda: verify_alb_jwt(alb.mint(header={"client": "someoneelse"}), **alb.verify_options)
    )
    assert "someoneelse" in str(exc) and CLIENT in str(exc)


def test_a_forged_request_through_verify_alb_request_learns_nothing_either(
    alb: LocalALB,
) -> None:
    for header in ({"signer": FORGED_ARN}, {"client": "x"}, {"iss": "https://elsewhere"}):
        headers = alb.headers(header=header)
        exc = _refusal(lambda: verify_alb_request(headers, **alb.verify_options))
        _shows_none(exc.client_message, _configuration(alb))
        assert "not trusted" in exc.client_message


# -- every refusal of the hostile table --------------------------------------------------------


@pytest.fixture
def ctx(monkeypatch: pytest.MonkeyPatch) -> Iterator[Ctx]:
    now = int(time.time())
    monkeypatch.setattr(time, "time", lambda: float(now))
    with LocalALB() as local, ScriptedServer() as hostile:
        yield Ctx(local, hostile, ec.generate_private_key(ec.SECP256R1()), now)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_no_alb_refusal_sends_the_trust_configuration_to_the_client(ctx: Ctx, case: Case) -> None:
    options = {**ctx.options, **case.options}
    token = case.make_token(ctx)
    exc = _refusal(lambda: verify_alb_jwt(token, **options))
    _shows_none(exc.client_message, _configuration(ctx.alb))
