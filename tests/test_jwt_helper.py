"""decode_verify_jwt: every stage of verification, in order, against a loopback JWKS."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any, Dict

import pytest

from cognito_helper import (
    CognitoConfig,
    ConfigError,
    InvalidClaimsError,
    InvalidSignatureError,
    MalformedTokenError,
    TokenExpiredError,
    TokenVerificationError,
    UnknownKeyError,
    configure,
    decode_unverified,
    decode_verify_jwt,
)

from .conftest import Issuer
from .helpers import at_hash, verify
from .servers import respond
from .tokens import CLIENT, POOL, KeyPair, b64, b64json


def resign(issuer: Issuer, header: Dict[str, Any], claims: Dict[str, Any]) -> str:
    signing_input = f"{b64json(header)}.{b64json(claims)}"
    return f"{signing_input}.{b64(issuer.key.sign_raw(signing_input.encode()))}"


# -- what passes --------------------------------------------------------------------------


def test_valid_id_token_returns_its_claims(issuer: Issuer) -> None:
    claims = issuer.claims("id")
    token = issuer.key.token(claims)
    assert verify(issuer, token) == claims


def test_valid_access_token_returns_its_claims(issuer: Issuer) -> None:
    claims = issuer.claims("access")
    assert verify(issuer, issuer.key.token(claims), token_use="access") == claims


def test_configured_default_is_used_without_config_argument(issuer: Issuer) -> None:
    configure(issuer.config)
    assert decode_verify_jwt(issuer.token("id"))["aud"] == CLIENT


def test_nothing_configured_is_a_config_error(issuer: Issuer) -> None:
    with pytest.raises(ConfigError, match="configure"):
        decode_verify_jwt(issuer.token("id"))


def test_returned_claims_are_the_callers_own(issuer: Issuer) -> None:
    token = issuer.token("id", **{"cognito:groups": ["admin"]})
    first = verify(issuer, token)
    first["cognito:groups"].append("root")
    first["sub"] = "someone-else"
    second = verify(issuer, token)
    assert second["cognito:groups"] == ["admin"]
    assert second["sub"] != "someone-else"


# -- stage 1: input -----------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, 42, b"a.b.c", ["a", "b", "c"], {"token": "x"}])
def test_non_string_input_is_malformed(issuer: Issuer, value: Any) -> None:
    with pytest.raises(MalformedTokenError, match="str"):
        verify(issuer, value)


def test_oversized_input_is_refused_before_decoding(issuer: Issuer) -> None:
    token = "a" * (64 * 1024) + "." + "b" + "." + "c"
    with pytest.raises(MalformedTokenError, match="longer than"):
        verify(issuer, token)
    assert issuer.fetches == 0


@pytest.mark.parametrize(
    "token",
    [
        "",
        "abc",
        "a.b",
        "a.b.c.d",
        "a.b.c.d.e",
        "a..c",
        ".b.c",
        "a.b.",
        "a.b.c=",
        "a+b.c.d",
        "a/b.c.d",
        "a.b.c\n",
        " a.b.c",
        "é.b.c",
    ],
)
def test_wrong_shape_is_malformed(issuer: Issuer, token: str) -> None:
    with pytest.raises(MalformedTokenError):
        verify(issuer, token)


@pytest.mark.parametrize(
    "header_segment",
    [
        b64(b"not json"),
        b64(b"[1,2]"),
        b64(b"null"),
        b64(b"42"),
        b64(b"\xff\xfe{"),
        b64(b'{"alg":"RS256","alg":"none"}'),
        "A",
    ],
)
def test_header_that_is_not_a_json_object_is_malformed(issuer: Issuer, header_segment: str) -> None:
    token = issuer.token("id")
    _, payload, sig = token.split(".")
    with pytest.raises(MalformedTokenError, match="header"):
        verify(issuer, f"{header_segment}.{payload}.{sig}")


@pytest.mark.parametrize("payload", [b"not json", b"[]", b'"str"', b"\xff", b"[" * 40000])
def test_payload_that_is_not_a_json_object_is_malformed(issuer: Issuer, payload: bytes) -> None:
    head = b64json({"kid": issuer.key.kid, "alg": "RS256"})
    with pytest.raises(MalformedTokenError, match="payload"):
        verify(issuer, f"{head}.{b64(payload)}.{b64(b'sig')}")


# -- stage 2: header ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "alg",
    [
        "none",
        "None",
        "NONE",
        "HS256",
        "RS384",
        "RS512",
        "PS256",
        "ES256",
        "EdDSA",
        "",
        None,
        256,
        ["RS256"],
    ],
)
def test_any_alg_but_rs256_is_rejected(issuer: Issuer, alg: Any) -> None:
    token = issuer.token("id", header={"alg": alg} if alg is not None else {"alg": None})
    with pytest.raises(MalformedTokenError, match="alg"):
        verify(issuer, token)
    assert issuer.fetches == 0


def test_hs256_token_keyed_with_the_public_jwk_is_rejected(issuer: Issuer) -> None:
    import hmac

    head = b64json({"kid": issuer.key.kid, "alg": "HS256"})
    body = b64json(issuer.claims("id"))
    mac = hmac.new(json.dumps(issuer.jwks[0]).encode(), f"{head}.{body}".encode(), hashlib.sha256)
    with pytest.raises(MalformedTokenError, match="alg"):
        verify(issuer, f"{head}.{body}.{b64(mac.digest())}")


def test_crit_header_is_rejected(issuer: Issuer) -> None:
    with pytest.raises(MalformedTokenError, match="crit"):
        verify(issuer, issuer.token("id", header={"crit": ["exp"]}))


@pytest.mark.parametrize("kid", [None, "", 7, ["kid-0"], {"k": 1}])
def test_kid_must_be_a_non_empty_string(issuer: Issuer, kid: Any) -> None:
    header = {"kid": kid} if kid is not None else {"kid": None}
    with pytest.raises(MalformedTokenError, match="kid"):
        verify(issuer, issuer.token("id", header=header))


@pytest.mark.parametrize("name", ["jku", "x5u"])
def test_key_url_headers_are_never_fetched(issuer: Issuer, name: str) -> None:
    issuer.server.routes["/attacker-jwks"] = respond(200, {"keys": [issuer.spare[0].jwk()]})
    token = issuer.token(
        "id",
        key=issuer.spare[0],
        header={"kid": issuer.spare[0].kid, name: issuer.server.url + "/attacker-jwks"},
    )
    with pytest.raises(UnknownKeyError):
        verify(issuer, token)
    assert issuer.server.count("/attacker-jwks") == 0


def test_embedded_jwk_header_is_ignored(issuer: Issuer) -> None:
    attacker = issuer.spare[0]
    token = issuer.token("id", key=attacker, header={"kid": attacker.kid, "jwk": attacker.jwk()})
    with pytest.raises(UnknownKeyError):
        verify(issuer, token)


def test_embedded_jwk_with_a_known_kid_does_not_replace_the_key(issuer: Issuer) -> None:
    attacker = issuer.spare[0]
    token = issuer.token(
        "id", key=attacker, header={"kid": issuer.key.kid, "jwk": attacker.jwk(kid=issuer.key.kid)}
    )
    with pytest.raises(InvalidSignatureError):
        verify(issuer, token)


# -- stage 3: key -------------------------------------------------------------------------


def test_unknown_kid_is_unknown_key_error(issuer: Issuer) -> None:
    with pytest.raises(UnknownKeyError, match="no key with kid"):
        verify(issuer, issuer.token("id", header={"kid": "../../etc/passwd"}))


@pytest.mark.parametrize(
    ("extra", "reason"),
    [({"use": "enc"}, "use"), ({"alg": "RS512"}, "alg"), ({"kty": "EC"}, "kty")],
)
def test_jwk_that_is_not_an_rs256_signing_key_is_refused(
    issuer: Issuer, extra: Dict[str, Any], reason: str
) -> None:
    other = issuer.spare[0]
    issuer.jwks = [issuer.key.jwk(), other.jwk(**extra)]
    with pytest.raises(UnknownKeyError, match=reason):
        verify(issuer, issuer.token("id", key=other))


def test_small_rsa_key_in_jwks_is_refused(issuer: Issuer) -> None:
    weak = KeyPair(kid="weak", bits=1024)
    issuer.jwks = [issuer.key.jwk(), weak.jwk()]
    with pytest.raises(UnknownKeyError, match="bits"):
        verify(issuer, issuer.token("id", key=weak))


# -- stage 4: signature -------------------------------------------------------------------


def test_token_signed_by_another_key_with_the_right_kid_fails_signature(issuer: Issuer) -> None:
    token = issuer.token("id", key=issuer.spare[0], header={"kid": issuer.key.kid})
    with pytest.raises(InvalidSignatureError):
        verify(issuer, token)


def test_changed_payload_fails_signature(issuer: Issuer) -> None:
    head, _, sig = issuer.token("id").split(".")
    forged = b64json(issuer.claims("id", **{"cognito:groups": ["admin"]}))
    with pytest.raises(InvalidSignatureError):
        verify(issuer, f"{head}.{forged}.{sig}")


@pytest.mark.parametrize("mangle", ["truncate", "flip", "empty-ish", "double"])
def test_damaged_signature_fails(issuer: Issuer, mangle: str) -> None:
    head, body, sig = issuer.token("id").split(".")
    raw = base64.urlsafe_b64decode(sig + "==")
    damaged = {
        "truncate": raw[:-1],
        "flip": raw[:-1] + bytes([raw[-1] ^ 1]),
        "empty-ish": b"\x00",
        "double": raw + raw,
    }[mangle]
    with pytest.raises(InvalidSignatureError):
        verify(issuer, f"{head}.{body}.{b64(damaged)}")


def test_valid_signature_over_a_different_header_fails(issuer: Issuer) -> None:
    _, body, sig = issuer.token("id").split(".")
    other_head = b64json({"kid": issuer.key.kid, "alg": "RS256", "typ": "JWT"})
    with pytest.raises(InvalidSignatureError):
        verify(issuer, f"{other_head}.{body}.{sig}")


# -- stage 5: claims ----------------------------------------------------------------------


def test_expired_token_is_rejected(issuer: Issuer) -> None:
    with pytest.raises(TokenExpiredError, match="expired"):
        verify(issuer, issuer.token("id", exp=int(time.time()) - 5))


def test_leeway_accepts_a_recently_expired_token(issuer: Issuer) -> None:
    token = issuer.token("id", exp=int(time.time()) - 5)
    assert verify(issuer, token, leeway=60)["token_use"] == "id"


def test_token_at_its_exp_second_is_expired(
    issuer: Issuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    exp = int(time.time()) + 100
    token = issuer.token("id", exp=exp)
    monkeypatch.setattr("cognito_helper.verification.cognito.time.time", lambda: float(exp))
    with pytest.raises(TokenExpiredError):
        verify(issuer, token)


@pytest.mark.parametrize(
    ("claim", "value"),
    [
        ("exp", "9999999999"),
        ("exp", True),
        ("exp", None),
        ("exp", [1]),
        ("iat", "0"),
        ("iat", None),
        ("nbf", "0"),
        ("auth_time", "x"),
        ("iss", None),
        ("iss", 1),
        ("token_use", None),
        ("token_use", ["id"]),
        ("aud", None),
        ("aud", [CLIENT]),
        ("sub", None),
        ("sub", 5),
    ],
)
def test_missing_or_mistyped_claim_is_rejected(issuer: Issuer, claim: str, value: Any) -> None:
    claims = issuer.claims("id")
    if value is None:
        claims.pop(claim, None)
    else:
        claims[claim] = value
    with pytest.raises(InvalidClaimsError) as info:
        verify(issuer, issuer.key.token(claims))
    assert info.value.claim == claim


def test_access_token_without_client_id_is_rejected(issuer: Issuer) -> None:
    with pytest.raises(InvalidClaimsError, match="client_id"):
        verify(issuer, issuer.token("access", client_id=None))


def test_future_nbf_is_rejected(issuer: Issuer) -> None:
    with pytest.raises(InvalidClaimsError, match="not valid yet"):
        verify(issuer, issuer.token("id", nbf=int(time.time()) + 120))


def test_implausibly_future_iat_is_rejected(issuer: Issuer) -> None:
    with pytest.raises(InvalidClaimsError, match="iat"):
        verify(issuer, issuer.token("id", iat=int(time.time()) + 3600))


def test_slightly_future_iat_is_tolerated_as_clock_skew(issuer: Issuer) -> None:
    assert verify(issuer, issuer.token("id", iat=int(time.time()) + 30))["token_use"] == "id"


@pytest.mark.parametrize(
    "iss",
    [
        "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_OtherPool",
        f"https://cognito-idp.us-east-1.amazonaws.com/{POOL}",
        f"https://issuer-cognito-idp.us-east-1.amazonaws.com/{POOL}",
        "https://evil.example.com",
    ],
)
def test_foreign_issuer_is_rejected(issuer: Issuer, iss: str) -> None:
    with pytest.raises(InvalidClaimsError, match="iss"):
        verify(issuer, issuer.token("id", iss=iss))


def test_any_of_several_configured_issuers_is_accepted(issuer: Issuer) -> None:
    updated = f"https://issuer-cognito-idp.us-east-1.amazonaws.com/{POOL}"
    config = CognitoConfig(
        user_pool_id=POOL,
        client_id=CLIENT,
        jwks_url=issuer.config.jwks_url,
        issuer=[issuer.issuer, updated],
    )
    token = issuer.token("id", iss=updated)
    assert decode_verify_jwt(token, config=config)["iss"] == updated


@pytest.mark.parametrize("asked", ["id", "access"])
def test_token_use_swap_is_rejected(issuer: Issuer, asked: str) -> None:
    other = "access" if asked == "id" else "id"
    with pytest.raises(InvalidClaimsError, match="token_use"):
        verify(issuer, issuer.token(other), token_use=asked)


@pytest.mark.parametrize("use", ["refresh", "ID", "", "id "])
def test_unknown_token_use_is_rejected_even_when_any_is_accepted(issuer: Issuer, use: str) -> None:
    with pytest.raises(InvalidClaimsError, match="token_use"):
        verify(issuer, issuer.key.token(dict(issuer.claims("id"), token_use=use)))


def test_id_token_for_another_client_is_rejected(issuer: Issuer) -> None:
    with pytest.raises(InvalidClaimsError, match="aud"):
        verify(issuer, issuer.token("id", aud="anotherclient"))


def test_access_token_for_another_client_is_rejected(issuer: Issuer) -> None:
    with pytest.raises(InvalidClaimsError, match="client_id"):
        verify(issuer, issuer.token("access", client_id="anotherclient"))


def test_access_token_aud_does_not_stand_in_for_client_id(issuer: Issuer) -> None:
    with pytest.raises(InvalidClaimsError, match="client_id"):
        verify(issuer, issuer.token("access", client_id="anotherclient", aud=CLIENT))


def test_invalid_option_values_raise_value_error(issuer: Issuer) -> None:
    token = issuer.token("id")
    for kwargs in (
        {"token_use": "refresh"},
        {"leeway": -1},
        {"leeway": True},
        {"groups": []},
        {"scopes": [1]},
        {"nonce": 5},
    ):
        with pytest.raises(ValueError):
            verify(issuer, token, **kwargs)


# -- nonce, at_hash, groups, scopes --------------------------------------------------------


def test_matching_nonce_passes(issuer: Issuer) -> None:
    assert verify(issuer, issuer.token("id", nonce="n-123"), nonce="n-123")["nonce"] == "n-123"


@pytest.mark.parametrize("found", ["n-124", None, 5])
def test_wrong_or_missing_nonce_is_rejected(issuer: Issuer, found: Any) -> None:
    with pytest.raises(InvalidClaimsError, match="nonce"):
        verify(issuer, issuer.token("id", nonce=found), nonce="n-123")


def test_nonce_cannot_be_checked_on_an_access_token(issuer: Issuer) -> None:
    with pytest.raises(InvalidClaimsError, match="nonce"):
        verify(issuer, issuer.token("access"), nonce="n-123")


def test_matching_at_hash_passes(issuer: Issuer) -> None:
    access = issuer.token("access")
    token = issuer.token("id", at_hash=at_hash(access))
    assert verify(issuer, token, access_token=access)["at_hash"] == at_hash(access)


def test_at_hash_of_another_access_token_is_rejected(issuer: Issuer) -> None:
    token = issuer.token("id", at_hash=at_hash(issuer.token("access")))
    with pytest.raises(InvalidClaimsError, match="at_hash"):
        verify(issuer, token, access_token=issuer.token("access"))


def test_a_matched_at_hash_pair_admits_no_other_access_token(issuer: Issuer) -> None:
    """The verifier remembers (at_hash, access token) pairs that matched: the same ID token
    with any other access token, however close, is still refused, before and after the
    remembered pairs are cleared for room."""
    access = issuer.token("access")
    token = issuer.token("id", at_hash=at_hash(access))
    assert verify(issuer, token, access_token=access)["at_hash"] == at_hash(access)
    others = [access[:-1] + ("A" if access[-1] != "A" else "B"), access + "x", access[1:]]
    for round_ in range(2):
        for other in others:
            with pytest.raises(InvalidClaimsError, match="at_hash"):
                verify(issuer, token, access_token=other)
        assert verify(issuer, token, access_token=access)["at_hash"] == at_hash(access)
        for n in range(300):  # more pairs than are remembered: the table starts again
            extra = f"{access}{n}"
            verify(issuer, issuer.token("id", at_hash=at_hash(extra)), access_token=extra)


def test_id_token_with_at_hash_verifies_without_access_token(issuer: Issuer) -> None:
    token = issuer.token("id", at_hash=at_hash("whatever"))
    assert verify(issuer, token)["token_use"] == "id"


def test_group_membership_passes_for_any_listed_group(issuer: Issuer) -> None:
    token = issuer.token("id", **{"cognito:groups": ["staff", "admin"]})
    assert verify(issuer, token, groups=["root", "admin"])["cognito:groups"] == ["staff", "admin"]


def test_single_group_string_is_one_group_not_letters(issuer: Issuer) -> None:
    token = issuer.token("id", **{"cognito:groups": ["a", "d", "m", "i", "n"]})
    with pytest.raises(InvalidClaimsError, match="groups"):
        verify(issuer, token, groups="admin")


@pytest.mark.parametrize("held", [["staff"], None, "admin", [1]])
def test_missing_group_membership_is_rejected(issuer: Issuer, held: Any) -> None:
    token = issuer.token("id", **{"cognito:groups": held})
    with pytest.raises(InvalidClaimsError, match="groups"):
        verify(issuer, token, groups=["admin"])


def test_scope_passes_for_any_listed_scope(issuer: Issuer) -> None:
    token = issuer.token("access", scope="openid orders/read")
    assert verify(issuer, token, scopes=["orders/read", "orders/write"])["scope"]


def test_scope_prefix_does_not_count(issuer: Issuer) -> None:
    token = issuer.token("access", scope="openid orders/readonly")
    with pytest.raises(InvalidClaimsError, match="scope"):
        verify(issuer, token, scopes="orders/read")


def test_scopes_required_of_an_id_token_are_rejected(issuer: Issuer) -> None:
    with pytest.raises(InvalidClaimsError, match="scope"):
        verify(issuer, issuer.token("id"), scopes=["openid"])


# -- messages -----------------------------------------------------------------------------


def test_no_error_message_contains_the_token(issuer: Issuer) -> None:
    tokens = [
        issuer.token("id", exp=1),
        issuer.token("id", aud="x"),
        issuer.token("id", header={"kid": "nope"}),
        issuer.token("id", key=issuer.spare[0], header={"kid": issuer.key.kid}),
        issuer.token("id", header={"alg": "none"}),
    ]
    for token in tokens:
        with pytest.raises(TokenVerificationError) as info:
            verify(issuer, token)
        for part in token.split("."):
            assert part not in str(info.value)
            assert part not in repr(info.value)


def test_decode_unverified_returns_header_and_claims_without_checking(issuer: Issuer) -> None:
    token = issuer.token("id", exp=1, aud="someone-else")
    header, claims = decode_unverified(token)
    assert header["kid"] == issuer.key.kid
    assert claims["aud"] == "someone-else"
    assert issuer.fetches == 0


@pytest.mark.parametrize("option", ["groups", "scopes"])
def test_non_iterable_groups_or_scopes_raise_value_error(issuer: Issuer, option: str) -> None:
    with pytest.raises(ValueError, match=option):
        verify(issuer, issuer.token("id"), **{option: 5})


# -- review findings: attacker-chosen text and numbers give typed errors ------------------


def signed_payload(issuer: Issuer, payload: bytes) -> str:
    """A token whose payload segment is exactly ``payload``, validly signed by the pool."""
    signing_input = f"{b64json({'kid': issuer.key.kid, 'alg': 'RS256'})}.{b64(payload)}"
    return f"{signing_input}.{b64(issuer.key.sign_raw(signing_input.encode()))}"


@pytest.mark.parametrize(
    "text",
    ["NaN", "Infinity", "-Infinity", "1e400", "-1e400"],
)
def test_a_signed_payload_with_a_non_finite_number_is_malformed(issuer: Issuer, text: str) -> None:
    body = json.dumps(issuer.claims("id")).encode()
    body = body[:-1] + b', "custom": ' + text.encode() + b"}"
    with pytest.raises(MalformedTokenError, match="payload"):
        verify(issuer, signed_payload(issuer, body))


@pytest.mark.parametrize(
    "encode",
    [
        lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
        lambda text: text.encode("utf-16"),
        lambda text: text.encode("utf-16-le"),
        lambda text: text.encode("utf-32"),
        lambda text: text.encode("utf-32-be"),
    ],
    ids=["utf-8-bom", "utf-16", "utf-16-le", "utf-32", "utf-32-be"],
)
def test_a_signed_payload_that_is_not_plain_utf8_is_malformed(issuer: Issuer, encode: Any) -> None:
    body = encode(json.dumps(issuer.claims("id")))
    with pytest.raises(MalformedTokenError, match="payload"):
        verify(issuer, signed_payload(issuer, body))


def test_header_and_payload_follow_one_json_rule(issuer: Issuer) -> None:
    """What the header parser refuses, the payload parser refuses (duplicates aside)."""
    claims = json.dumps(issuer.claims("id"))
    for bad in (b"\xef\xbb\xbf" + claims.encode(), claims[:-1].encode() + b', "x": NaN}'):
        with pytest.raises(MalformedTokenError, match="header"):
            verify(issuer, f"{b64(bad)}.{b64json(issuer.claims('id'))}.{b64(b'sig')}")
        with pytest.raises(MalformedTokenError, match="payload"):
            verify(issuer, signed_payload(issuer, bad))


def test_a_signed_payload_with_white_space_around_it_verifies(issuer: Issuer) -> None:
    body = b" \n" + json.dumps(issuer.claims("id")).encode() + b"\t "
    assert verify(issuer, signed_payload(issuer, body))["token_use"] == "id"


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf", "auth_time"])
@pytest.mark.parametrize(
    "value",
    [10**400, -(10**400), 2**63, -1, 253402300800],
    ids=["1e400", "-1e400", "2**63", "-1", "year-10000"],
)
def test_a_time_claim_outside_the_sane_range_is_an_invalid_claim(
    issuer: Issuer, claim: str, value: int
) -> None:
    token = issuer.token("id", **{claim: value})
    with pytest.raises(InvalidClaimsError) as info:
        verify(issuer, token, leeway=0.5)
    assert info.value.claim == claim


@pytest.mark.parametrize("claim", ["nbf", "auth_time"])
def test_a_null_optional_time_claim_is_an_invalid_claim(issuer: Issuer, claim: str) -> None:
    claims = issuer.claims("id")
    claims[claim] = None
    with pytest.raises(InvalidClaimsError) as info:
        verify(issuer, issuer.key.token(claims))
    assert info.value.claim == claim


def test_the_largest_sane_time_is_accepted(issuer: Issuer) -> None:
    assert verify(issuer, issuer.token("id", exp=253402300799), leeway=0.5)["exp"] == 253402300799


def test_a_nonce_argument_with_a_lone_surrogate_is_compared_not_crashed_on(
    issuer: Issuer,
) -> None:
    token = issuer.token("id", nonce="n-0123456789")
    with pytest.raises(InvalidClaimsError) as info:
        verify(issuer, token, nonce="\ud800")
    assert info.value.claim == "nonce"


def test_a_signed_nonce_with_a_lone_surrogate_is_an_invalid_claim(issuer: Issuer) -> None:
    token = issuer.token("id", nonce="\ud800")
    with pytest.raises(InvalidClaimsError) as info:
        verify(issuer, token, nonce="n-0123456789")
    assert info.value.claim == "nonce"
    assert verify(issuer, token, nonce="\ud800")["nonce"] == "\ud800"  # equal is equal


def test_a_signed_at_hash_with_a_lone_surrogate_is_an_invalid_claim(issuer: Issuer) -> None:
    token = issuer.token("id", at_hash="\udfff")
    with pytest.raises(InvalidClaimsError) as info:
        verify(issuer, token, access_token="a.b.c")
    assert info.value.claim == "at_hash"


def test_an_access_token_argument_that_is_not_ascii_fails_the_at_hash_check(
    issuer: Issuer,
) -> None:
    access = "acc\u00e9ss.tok.en"
    digest = hashlib.sha256(access.encode("ascii", "replace")).digest()
    token = issuer.token("id", at_hash=b64(digest[:16]))  # what "replace" would have matched
    with pytest.raises(InvalidClaimsError, match="at_hash"):
        verify(issuer, token, access_token="acc\u00e8ss.tok.en")


@pytest.mark.parametrize(
    ("wrap", "says"),
    [
        ("Bearer {}", "remove that prefix"),
        ("bearer {}", "remove that prefix"),
        ('"{}"', "remove the quotes"),
        ("'{}'", "remove the quotes"),
        ('"{}"\n', "remove the quotes"),
        (" {}\n", "white space"),
    ],
)
def test_a_wrapped_token_gets_a_message_naming_the_wrapping(
    issuer: Issuer, wrap: str, says: str
) -> None:
    token = issuer.token("id")
    with pytest.raises(MalformedTokenError, match=says) as info:
        verify(issuer, wrap.format(token))
    assert token not in str(info.value)


def test_a_foreign_iss_is_refused_when_several_issuers_are_trusted(issuer: Issuer) -> None:
    """With a list of issuers (e.g. the ORIGINAL and UPDATED forms), one not listed is refused,
    on a new token and on a remembered one checked against a narrower config."""
    from dataclasses import replace

    two = replace(issuer.config, issuer=[issuer.issuer, "https://updated.example/pool"])
    foreign = issuer.token("id", iss="https://elsewhere.example/pool")
    with pytest.raises(InvalidClaimsError) as info:
        decode_verify_jwt(foreign, config=two)
    assert info.value.claim == "iss"
    token = issuer.token("id")
    assert decode_verify_jwt(token, config=two)["iss"] == issuer.issuer  # now remembered
    others = replace(issuer.config, issuer=["https://a.example/p", "https://b.example/p"])
    with pytest.raises(InvalidClaimsError) as info:
        decode_verify_jwt(token, config=others)  # a memo hit: compared with this config
    assert info.value.claim == "iss"
