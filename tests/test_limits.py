"""The limits and defaults, each at its boundary: token size, RSA key size, JWKS body size, TTL,
cool-down and timeout; what ``null`` time claims mean; and the small contracts around them
(``forget_jwks_caches(url)``, ``Tokens`` equality and ``repr``, arguments refused before any
request)."""

from __future__ import annotations

import importlib
import json
from typing import Any, Callable, Dict, Iterator, Optional

import pytest

from cognito_helper import (
    CognitoConfig,
    CognitoConnectionError,
    InvalidClaimsError,
    JwksCache,
    MalformedTokenError,
    Tokens,
    UnknownKeyError,
    decode_unverified,
    decode_verify_jwt,
    forget_jwks_caches,
    get_user_info,
    jwks_cache,
    revoke_token,
)
from cognito_helper.jwt_helper import MAX_TOKEN_CHARS
from cognito_helper.settings.config import DEFAULT_TIMEOUT
from cognito_helper.verification.jwks import DEFAULT_TTL, MAX_JWKS_BYTES
from cognito_helper.verification.keys import DEFAULT_COOLDOWN

from .conftest import Issuer
from .helpers import verify
from .servers import ScriptedServer, respond
from .tokens import CLIENT, POOL, KeyPair, b64

jwks_module = importlib.import_module("cognito_helper.verification.jwks")
keys_module = importlib.import_module("cognito_helper.verification.keys")  # the penalty box

SIXTY_FOUR_KIB = 64 * 1024  # the documented limits, written out: not read from the code
ONE_MIB = 1 << 20


def jwks_url(issuer: Issuer) -> str:
    url = issuer.config.jwks_url
    assert isinstance(url, str)
    return url


class Clock:
    """A monotonic clock the test moves by hand, for the JWKS cache's TTL and cool-down."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(jwks_module, "time", fake)
    monkeypatch.setattr(keys_module, "time", fake)
    return fake


# -- token size ---------------------------------------------------------------------------


def token_of_length(issuer: Issuer, length: int) -> str:
    """A validly signed ID token of exactly ``length`` characters (padded with a claim)."""
    signature_chars = len(b64(issuer.key.sign_raw(b"x")))
    for header_pad in range(3):
        head_obj = {"kid": issuer.key.kid, "alg": "RS256", "x": "h" * header_pad}
        head = b64(json.dumps(head_obj).encode())
        room = length - len(head) - signature_chars - 2  # for the payload segment
        base = len(json.dumps(issuer.claims("id", pad="")).encode())
        for pad in range(max(0, (room * 3) // 4 - base - 3), (room * 3) // 4 - base + 3):
            if (4 * (base + pad) + 2) // 3 == room:  # unpadded base64 length of the payload
                body = b64(json.dumps(issuer.claims("id", pad="p" * pad)).encode())
                token = issuer.key.signed(head, body)
                assert len(token) == length
                return token
    raise AssertionError(f"no token of {length} characters")


def test_the_token_size_limit_is_64_kib() -> None:
    assert MAX_TOKEN_CHARS == SIXTY_FOUR_KIB


def test_a_token_of_exactly_64_kib_is_verified(issuer: Issuer) -> None:
    token = token_of_length(issuer, SIXTY_FOUR_KIB)
    claims = verify(issuer, token)  # every stage ran: key, signature, claims
    assert claims["token_use"] == "id"
    assert len(claims["pad"]) > 40_000
    assert verify(issuer, token) == claims  # and again, from the memo


def test_a_token_one_character_over_64_kib_is_refused_for_its_size(issuer: Issuer) -> None:
    token = token_of_length(issuer, SIXTY_FOUR_KIB + 1)
    with pytest.raises(MalformedTokenError, match=f"longer than {SIXTY_FOUR_KIB} characters"):
        verify(issuer, token)
    assert issuer.fetches == 0  # refused before any key was looked up


def test_decode_unverified_has_the_same_size_limit(issuer: Issuer) -> None:
    header, claims = decode_unverified(token_of_length(issuer, SIXTY_FOUR_KIB))
    assert header["alg"] == "RS256" and claims["token_use"] == "id"
    with pytest.raises(MalformedTokenError, match="longer than"):
        decode_unverified(token_of_length(issuer, SIXTY_FOUR_KIB + 1))


# -- RSA key size -------------------------------------------------------------------------


def test_a_2047_bit_rsa_key_in_the_jwks_is_unusable(issuer: Issuer) -> None:
    short = KeyPair(kid="short-key", bits=2047)
    assert short.private.key_size == 2047
    issuer.jwks = [issuer.key.jwk(), short.jwk()]
    with pytest.raises(UnknownKeyError, match="2047 bits") as info:
        verify(issuer, issuer.token("id", key=short))
    assert "short-key" in str(info.value)


def test_a_2048_bit_rsa_key_in_the_jwks_is_usable(issuer: Issuer) -> None:
    assert issuer.key.private.key_size == 2048
    issuer.jwks = [issuer.key.jwk()]
    assert verify(issuer, issuer.token("id"))["token_use"] == "id"


# -- JWKS body size -----------------------------------------------------------------------


def jwks_body_of(issuer: Issuer, size: int) -> bytes:
    """The issuer's JWKS as JSON of exactly ``size`` bytes (padded with an unknown member)."""
    empty = json.dumps({"keys": [issuer.key.jwk()], "padding": ""}).encode()
    body = json.dumps({"keys": [issuer.key.jwk()], "padding": "x" * (size - len(empty))})
    assert len(body.encode()) == size
    return body.encode()


def test_the_jwks_size_limit_is_one_mib() -> None:
    assert MAX_JWKS_BYTES == ONE_MIB


@pytest.mark.parametrize("size", [ONE_MIB - 1, ONE_MIB], ids=["1MiB-1", "1MiB"])
def test_a_jwks_body_up_to_one_mib_is_accepted(issuer: Issuer, size: int) -> None:
    issuer.server.routes[issuer.jwks_path] = respond(200, jwks_body_of(issuer, size))
    assert verify(issuer, issuer.token("id"))["token_use"] == "id"


def test_a_jwks_body_one_byte_over_one_mib_is_refused(issuer: Issuer) -> None:
    issuer.server.routes[issuer.jwks_path] = respond(200, jwks_body_of(issuer, ONE_MIB + 1))
    with pytest.raises(CognitoConnectionError, match=f"larger than {ONE_MIB} bytes"):
        verify(issuer, issuer.token("id"))


# -- forget_jwks_caches -------------------------------------------------------------------


def test_forget_jwks_caches_with_a_url_drops_only_that_urls_cache(issuer: Issuer) -> None:
    other_url = "http://127.0.0.1:9/other/.well-known/jwks.json"
    other = jwks_cache(other_url)
    verify(issuer, issuer.token("id"))
    mine = jwks_cache(jwks_url(issuer))
    assert issuer.fetches == 1
    forget_jwks_caches(other_url)
    assert jwks_cache(jwks_url(issuer)) is mine
    assert jwks_cache(other_url) is not other
    verify(issuer, issuer.token("id"))
    assert issuer.fetches == 1  # its keys were kept
    forget_jwks_caches(jwks_url(issuer))
    assert jwks_cache(jwks_url(issuer)) is not mine
    verify(issuer, issuer.token("id"))
    assert issuer.fetches == 2


def test_forget_jwks_caches_with_an_unknown_url_changes_nothing(issuer: Issuer) -> None:
    verify(issuer, issuer.token("id"))
    mine = jwks_cache(jwks_url(issuer))
    forget_jwks_caches("http://127.0.0.1:9/never/used")
    assert jwks_cache(jwks_url(issuer)) is mine


# -- defaults -----------------------------------------------------------------------------


def test_the_documented_defaults() -> None:
    assert DEFAULT_TTL == 3600
    assert DEFAULT_COOLDOWN == 10
    assert DEFAULT_TIMEOUT == 10


def test_a_new_jwks_cache_has_the_default_ttl_cooldown_and_timeout() -> None:
    cache = JwksCache("http://127.0.0.1:9/jwks.json")
    assert (cache.ttl, cache.cooldown, cache.timeout) == (3600, 10, 10)
    shared = jwks_cache("http://127.0.0.1:9/shared/jwks.json")
    assert (shared.ttl, shared.cooldown, shared.timeout) == (3600, 10, 10)


def test_a_config_without_a_timeout_has_ten_seconds() -> None:
    assert CognitoConfig(user_pool_id=POOL, client_id=CLIENT).timeout == 10


def test_a_verification_makes_its_cache_with_the_config_timeout(issuer: Issuer) -> None:
    config = CognitoConfig(
        user_pool_id=POOL,
        client_id=CLIENT,
        issuer=issuer.issuer,
        jwks_url=issuer.config.jwks_url,
    )
    decode_verify_jwt(issuer.token("id"), config=config)
    cache = jwks_cache(jwks_url(issuer))
    assert (cache.ttl, cache.cooldown, cache.timeout) == (3600, 10, 10)


def test_keys_are_kept_for_the_default_ttl_and_refetched_after_it(
    issuer: Issuer, clock: Clock
) -> None:
    verify(issuer, issuer.token("id"))
    assert issuer.fetches == 1
    clock.advance(3599.5)
    verify(issuer, issuer.token("id"))
    assert issuer.fetches == 1
    clock.advance(0.5)  # 3600 s after the fetch
    verify(issuer, issuer.token("id"))
    assert issuer.fetches == 2


def test_an_unknown_kid_refetches_again_only_after_the_default_cooldown(
    issuer: Issuer, clock: Clock
) -> None:
    unknown = issuer.token("id", key=issuer.spare[0])  # a kid the JWKS does not list
    verify(issuer, issuer.token("id"))
    with pytest.raises(UnknownKeyError):
        verify(issuer, unknown)
    assert issuer.fetches == 2  # one refetch for the unknown kid
    clock.advance(9.5)
    with pytest.raises(UnknownKeyError):
        verify(issuer, unknown)
    assert issuer.fetches == 2
    clock.advance(0.5)  # 10 s after that refetch
    with pytest.raises(UnknownKeyError):
        verify(issuer, unknown)
    assert issuer.fetches == 3


# -- keys withdrawn at a TTL refresh ------------------------------------------------------


def test_a_ttl_refresh_that_withdraws_a_key_makes_its_tokens_unknown_key_errors(
    issuer: Issuer, clock: Clock
) -> None:
    old = issuer.token("id")
    verify(issuer, old)
    verify(issuer, old)  # memoised too
    issuer.jwks = [issuer.spare[0].jwk()]  # the pool rotates: the old key is withdrawn
    clock.advance(DEFAULT_TTL)
    with pytest.raises(UnknownKeyError, match=issuer.key.kid):
        verify(issuer, old)
    assert issuer.fetches == 2  # the refresh itself showed the key gone: no second refetch
    assert verify(issuer, issuer.token("id", key=issuer.spare[0]))["token_use"] == "id"


# -- null time claims ---------------------------------------------------------------------
# Today's behaviour, read from _claims.typed_core and _number: a claim that is present
# counts, and JSON null is not a number, so "nbf": null and "auth_time": null are refused as
# InvalidClaimsError naming the claim ("the token has no numeric 'nbf' claim"), exactly as a
# string would be; only a claim that is absent is skipped.


@pytest.mark.parametrize("token_use", ["id", "access"])
@pytest.mark.parametrize("claim", ["nbf", "auth_time"])
def test_a_null_nbf_or_auth_time_in_a_signed_token_is_an_invalid_claim(
    issuer: Issuer, claim: str, token_use: str
) -> None:
    claims = issuer.claims(token_use)
    claims[claim] = None  # JSON null, not a missing claim
    token = issuer.key.token(claims)
    with pytest.raises(InvalidClaimsError, match=f"no numeric '{claim}' claim") as info:
        verify(issuer, token)
    assert info.value.claim == claim
    del claims[claim]
    assert verify(issuer, issuer.key.token(claims))["token_use"] == token_use  # absent is fine


# -- Tokens -------------------------------------------------------------------------------

FIELDS: Dict[str, Any] = {
    "id_token": "id.tok.en",
    "access_token": "acc.tok.en",
    "refresh_token": "re.fresh",
    "expires_in": 3600,
    "token_type": "Bearer",
}
OTHER_VALUES: Dict[str, Any] = {
    "id_token": None,
    "access_token": "acc.tok.en2",
    "refresh_token": None,
    "expires_in": 3599,
    "token_type": "bearer",
}


def test_tokens_with_equal_fields_are_equal() -> None:
    assert Tokens(**FIELDS) == Tokens(**FIELDS)
    assert not (Tokens(**FIELDS) != Tokens(**FIELDS))


@pytest.mark.parametrize("field", list(FIELDS))
def test_tokens_differing_in_one_field_are_unequal(field: str) -> None:
    other = Tokens(**{**FIELDS, field: OTHER_VALUES[field]})
    assert Tokens(**FIELDS) != other
    assert other != Tokens(**FIELDS)


def test_tokens_are_not_equal_to_other_types() -> None:
    tokens = Tokens(**FIELDS)
    assert tokens.__eq__(("id.tok.en", "acc.tok.en", "re.fresh")) is NotImplemented
    assert tokens.__eq__(object()) is NotImplemented
    assert tokens != ("id.tok.en", "acc.tok.en", "re.fresh")  # though it unpacks to that
    assert tokens != FIELDS
    assert tokens != None  # noqa: E711 - the operator is what is tested


def test_tokens_are_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(Tokens(**FIELDS))
    with pytest.raises(TypeError):
        {Tokens(**FIELDS)}


@pytest.mark.parametrize(
    ("tokens", "text"),
    [
        (
            Tokens("id.tok.en", "acc.tok.en", "re.fresh", 3600),
            "Tokens(id_token='***', access_token='***', refresh_token='***', expires_in=3600, "
            "token_type='Bearer')",
        ),
        (
            Tokens(None, "acc.tok.en", None, 300, "bearer"),
            "Tokens(id_token=None, access_token='***', refresh_token=None, expires_in=300, "
            "token_type='bearer')",
        ),
    ],
)
def test_tokens_repr_is_exact(tokens: Tokens, text: str) -> None:
    assert repr(tokens) == text


# -- arguments refused before any request -------------------------------------------------


@pytest.fixture
def counting_server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as srv:
        srv.routes["/oauth2/revoke"] = respond(200, b"")
        srv.routes["/oauth2/userInfo"] = respond(200, {"sub": "s"})
        yield srv


def hosted_ui(server: ScriptedServer) -> CognitoConfig:
    return CognitoConfig(user_pool_id=POOL, client_id=CLIENT, domain=server.url, timeout=2.0)


@pytest.mark.parametrize(
    ("call", "name", "good", "path", "answer"),
    [
        (revoke_token, "refresh_token", "a-refresh-token", "/oauth2/revoke", None),
        (get_user_info, "access_token", "acc.tok.en", "/oauth2/userInfo", {"sub": "s"}),
    ],
    ids=["revoke_token", "get_user_info"],
)
@pytest.mark.parametrize("value", ["", None], ids=["empty", "None"])
def test_a_call_without_a_token_is_a_value_error_before_any_request(
    counting_server: ScriptedServer,
    call: Callable[..., Any],
    name: str,
    good: str,
    path: str,
    answer: Any,
    value: Optional[str],
) -> None:
    with pytest.raises(ValueError, match=name):
        call(value, config=hosted_ui(counting_server))
    assert counting_server.requests == [] and counting_server.connections == 0
    assert call(good, config=hosted_ui(counting_server)) == answer  # the server works
    assert counting_server.count(path) == 1
