"""What a refused token learns: ``exc.client_message``, the text a guard sends to the client.

A token naming an untrusted issuer, or a trusted pool with an untrusted app
client, is refused before any key is fetched; what the client may read names no trusted pool
id, region, issuer URL or app-client id, while ``str(exc)`` keeps them for the server's log.
The same for one config, where the checks run after the signature.

A malformed token's message never shows Python internals (a codec's complaint,
a JSON decoder's position, an exception's class name), only a sentence naming what was wrong.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any, Callable, Dict, Iterator, List

import pytest

from cognito_helper import (
    CognitoConfig,
    InvalidClaimsError,
    MalformedTokenError,
    TokenVerificationError,
    UnknownKeyError,
    decode_unverified,
    decode_verify_jwt,
    verify_alb_jwt,
)
from cognito_helper.testing import LocalCognito
from cognito_helper.testing.alb import DEFAULT_ALB_ARN

from .tokens import b64, b64json

# Two trusted pools in regions no other pool of these tests uses, and an internal M2M client.
POOL_A = "eu-west-3_TrustedPoolA"
POOL_B = "ap-south-2_TrustedPoolB"
WEB = "webclient00000000000000001"
M2M = "internalm2mclient000000002"
STAFF = "staffclient000000000000003"


@pytest.fixture
def pools(make_lc: Callable[..., LocalCognito]) -> Dict[str, Any]:
    """Trusted pool A (the web client and an internal M2M client), trusted pool B (staff)
    and an untrusted pool C; ``trusted`` lists the three configs, ``secret`` every string of
    the trust configuration a refused token must not learn."""
    a = make_lc(user_pool_id=POOL_A, client_id=WEB)
    b = make_lc(user_pool_id=POOL_B, client_id=STAFF)
    c = make_lc()
    a.add_client(M2M)
    trusted = [a.config, replace(a.config, client_id=M2M), b.config]
    return {"a": a, "b": b, "c": c, "trusted": trusted, "secret": _secrets(trusted)}


def _secrets(configs: List[CognitoConfig]) -> List[str]:
    found = set()
    for cfg in configs:
        assert isinstance(cfg.client_id, str)
        found.update({cfg.user_pool_id, cfg.user_pool_id.split("_")[1], cfg.client_id})
        found.update({cfg.region or "", cfg.jwks_url or "", *cfg.issuers})
        found.update(issuer.split("//")[1].split("/")[0] for issuer in cfg.issuers)  # host:port
    found.discard("")
    return sorted(found)


def _shows_none(text: str, secrets: List[str]) -> None:
    shown = [secret for secret in secrets if secret in text]
    assert shown == [], f"the client may read {shown} in {text!r}"


def _mint(lc: LocalCognito, token_use: str, client: str, **claims: Any) -> str:
    audience = "aud" if token_use == "id" else "client_id"
    return lc.mint(token_use, **{audience: client}, **claims)


def _refusal(token: str, config: Any, **options: Any) -> TokenVerificationError:
    with pytest.raises(TokenVerificationError) as info:
        decode_verify_jwt(token, config=config, **options)
    return info.value


# -- S4: several configs ----------------------------------------------------------------


@pytest.mark.parametrize("token_use", ["id", "access"])
def test_a_token_of_an_untrusted_pool_learns_no_trusted_issuer(
    pools: Dict[str, Any], token_use: str
) -> None:
    p = pools
    token = _mint(p["c"], token_use, p["c"].client_id)
    exc = _refusal(token, p["trusted"])
    assert isinstance(exc, InvalidClaimsError) and exc.claim == "iss"
    _shows_none(exc.client_message, p["secret"])
    assert "issuer" in exc.client_message and "not trusted" in exc.client_message
    # The server's log still says which issuer came and which are trusted.
    assert p["c"].issuer in str(exc)
    assert p["a"].issuer in str(exc) and p["b"].issuer in str(exc)
    assert [p[name].jwks_requests for name in "abc"] == [0, 0, 0]


@pytest.mark.parametrize("token_use", ["id", "access"])
def test_a_token_naming_a_trusted_pool_with_another_client_learns_no_client_id(
    pools: Dict[str, Any], token_use: str
) -> None:
    p = pools
    token = _mint(p["a"], token_use, "attackerclient0000000000")
    exc = _refusal(token, p["trusted"])
    assert isinstance(exc, InvalidClaimsError)
    assert exc.claim == ("aud" if token_use == "id" else "client_id")
    _shows_none(exc.client_message, p["secret"])
    assert "app client" in exc.client_message and "not trusted" in exc.client_message
    assert "attackerclient0000000000" in str(exc)
    assert WEB in str(exc) and M2M in str(exc)  # the operator sees the pool's trusted clients
    assert p["a"].jwks_requests == 0


def test_a_remembered_token_no_longer_trusted_learns_nothing_either(
    pools: Dict[str, Any],
) -> None:
    p = pools
    token = _mint(p["a"], "access", M2M)
    decode_verify_jwt(token, config=p["trusted"])  # now in the verification memo
    exc = _refusal(token, [p["trusted"][0], p["trusted"][2]])  # M2M no longer trusted
    assert isinstance(exc, InvalidClaimsError) and exc.claim == "client_id"
    _shows_none(exc.client_message, p["secret"])
    assert M2M in str(exc)


def test_a_token_with_a_wrong_type_of_iss_learns_nothing(pools: Dict[str, Any]) -> None:
    p = pools
    token = p["a"].mint("access", iss=["x"])
    exc = _refusal(token, p["trusted"])
    _shows_none(exc.client_message, p["secret"])


# -- S4: one config ---------------------------------------------------------------------


@pytest.mark.parametrize("token_use", ["id", "access"])
def test_one_config_a_signed_token_of_another_issuer_learns_no_issuer(
    pools: Dict[str, Any], token_use: str
) -> None:
    p = pools
    config, other = p["trusted"][0], p["c"].issuer
    token = _mint(p["a"], token_use, WEB, iss=other)  # signed by pool A's key
    for path in ("full", "memo"):
        if path == "memo":  # accepted once by a config that trusts it, so remembered
            decode_verify_jwt(token, config=replace(config, issuer=[config.issuer, other]))
        exc = _refusal(token, config)
        assert isinstance(exc, InvalidClaimsError) and exc.claim == "iss"
        _shows_none(exc.client_message, _secrets([config]))
        assert "issuer" in exc.client_message and "not trusted" in exc.client_message
        assert config.issuer in str(exc) and other in str(exc)


@pytest.mark.parametrize("token_use", ["id", "access"])
def test_one_config_a_signed_token_of_another_client_learns_no_client_id(
    pools: Dict[str, Any], token_use: str
) -> None:
    p = pools
    exc = _refusal(_mint(p["a"], token_use, M2M), p["trusted"][0])
    assert isinstance(exc, InvalidClaimsError)
    _shows_none(exc.client_message, _secrets([p["trusted"][0]]))
    assert "app client" in exc.client_message and "not trusted" in exc.client_message
    assert WEB in str(exc) and M2M in str(exc)


def test_an_access_token_bound_elsewhere_learns_no_configured_audience(
    pools: Dict[str, Any],
) -> None:
    p = pools
    token = p["a"].mint("access", aud="https://other.example.com")
    exc = _refusal(token, p["trusted"][0], audience="https://internal-orders.example.com")
    assert isinstance(exc, InvalidClaimsError) and exc.claim == "aud"
    assert "internal-orders" not in exc.client_message
    assert "internal-orders" in str(exc)


def test_a_refusal_without_configuration_in_its_message_sends_the_message(
    pools: Dict[str, Any],
) -> None:
    p = pools
    exc = _refusal(_mint(p["a"], "id", WEB), p["trusted"][0], token_use="access")
    assert exc.public is None and exc.client_message == str(exc)


# -- S4: through a guard ----------------------------------------------------------------


@pytest.fixture
def flask_guard(pools: Dict[str, Any]) -> Iterator[Any]:
    pytest.importorskip("flask")
    from flask import Flask

    from cognito_helper.flask import require_token

    app = Flask(__name__)

    @app.get("/orders")
    @require_token(config=pools["trusted"])
    def orders() -> Dict[str, Any]:
        return {"ok": True}

    yield app.test_client()


@pytest.mark.parametrize("forged", ["untrusted-pool", "trusted-pool-other-client"])
def test_a_several_config_flask_guard_answers_without_the_trust_configuration(
    pools: Dict[str, Any], flask_guard: Any, forged: str
) -> None:
    # The guards send exc.client_message as error_description and in WWW-Authenticate.
    p = pools
    if forged == "untrusted-pool":
        token = _mint(p["c"], "access", p["c"].client_id)
    else:
        token = _mint(p["a"], "access", "attackerclient0000000000")
    answer = flask_guard.get("/orders", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 401
    assert answer.get_json()["error"] == "invalid_token"
    _shows_none(answer.get_data(as_text=True), p["secret"])
    _shows_none(answer.headers["WWW-Authenticate"], p["secret"])
    assert "not trusted" in answer.get_json()["error_description"]


# -- T6: no Python internals in a malformed token's message ------------------------------

INTERNALS = re.compile(
    r"codec|byte 0x|position \d|Expecting|line \d+ column|char \d|Traceback|Error\b|"
    r"JSONDecode|UnicodeDecode|binascii|NoneType|\bdict\b|\blist\b|\bint\b|\bfloat\b|"
    r"\bstr\b|\bbool\b|set_int_max_str_digits|Exceeds the limit|0x[0-9a-f]{2}",
)
CLAIMS = {"sub": "x", "token_use": "access", "exp": 4_000_000_000, "iat": 1}
HEADER = {"alg": "RS256", "kid": "k"}
DEEP = b"[" * 9000 + b"]" * 9000  # nested beyond what the JSON decoder's recursion allows


# (what is malformed, the token's header segment, its payload segment, what the message names)
MALFORMED = {
    "header-bad-utf8": (b64(b'{"alg": "RS256", "kid": "\xb7"}'), b64json(CLAIMS), "header"),
    "payload-bad-utf8": (b64json(HEADER), b64(b'{"sub": "\xff\xfe"}'), "payload"),
    "header-utf16": (b64(json.dumps(HEADER).encode("utf-16")), b64json(CLAIMS), "header"),
    "payload-truncated-utf8": (b64json(HEADER), b64(b'{"sub": "\xc3"}'), "payload"),
    "header-invalid-json": (b64(b'{"alg": '), b64json(CLAIMS), "header"),
    "payload-invalid-json": (b64json(HEADER), b64(b"{'sub': 'x'}"), "payload"),
    "payload-trailing-data": (b64json(HEADER), b64(b'{"sub": "x"} {}'), "payload"),
    "payload-empty-json": (b64json(HEADER), b64(b" "), "payload"),
    "header-array": (b64(b"[1, 2]"), b64json(CLAIMS), "header"),
    "payload-null": (b64json(HEADER), b64(b"null"), "payload"),
    "payload-string": (b64json(HEADER), b64(b'"{}"'), "payload"),
    "payload-number": (b64json(HEADER), b64(b"1.5"), "payload"),
    "payload-true": (b64json(HEADER), b64(b"true"), "payload"),
    "header-nan": (b64(b'{"alg": NaN}'), b64json(CLAIMS), "header"),
    "payload-huge-int": (b64json(HEADER), b64(b'{"exp": ' + b"9" * 5000 + b"}"), "payload"),
    "header-huge-int": (b64(b'{"kid": ' + b"9" * 5000 + b"}"), b64json(CLAIMS), "header"),
    "payload-deep": (b64json(HEADER), b64(b'{"a": ' + DEEP + b"}"), "payload"),
    "header-duplicate": (b64(b'{"alg": "RS256", "alg": "none"}'), b64json(CLAIMS), "header"),
    "header-bad-base64-length": ("eyJhbGciOiJSUzI1NiJ9a", b64json(CLAIMS), "header"),
    "payload-non-canonical-base64": (b64json(HEADER), "eyJzdWIiOiJ4In1", "payload"),
}


def _check_neutral(exc: BaseException, names: str) -> None:
    for text in (str(exc), getattr(exc, "client_message", str(exc))):
        assert not INTERNALS.search(text), f"Python internals in {text!r}"
        assert names in text


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_token_is_refused_in_a_neutral_sentence(
    pools: Dict[str, Any], case: str
) -> None:
    head, payload, names = MALFORMED[case]
    token = f"{head}.{payload}.{b64(b'signature')}"
    for config in (pools["trusted"][0], pools["trusted"]):
        with pytest.raises(MalformedTokenError) as info:
            decode_verify_jwt(token, config=config)
        _check_neutral(info.value, names)
    with pytest.raises(MalformedTokenError) as info:
        decode_unverified(token)
    _check_neutral(info.value, names)


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_alb_header_is_refused_in_a_neutral_sentence(case: str) -> None:
    head, payload, names = MALFORMED[case]
    with pytest.raises(MalformedTokenError) as info:
        verify_alb_jwt(f"{head}.{payload}.{b64(b'signature')}", alb_arn=DEFAULT_ALB_ARN)
    _check_neutral(info.value, names)


def test_a_kid_of_unusable_key_material_is_refused_in_a_neutral_sentence(issuer: Any) -> None:
    issuer.jwks.append({"kty": "RSA", "kid": "broken", "n": "AA", "e": "AQAB"})
    token = issuer.token("id", header={"kid": "broken"})
    with pytest.raises(UnknownKeyError) as info:
        decode_verify_jwt(token, config=issuer.config)
    assert "broken" in str(info.value) and "key material" in str(info.value)
    assert not INTERNALS.search(str(info.value)), str(info.value)
