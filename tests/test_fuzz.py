"""Property-based fuzzing of decode_verify_jwt with Hypothesis.

Mutations of valid tokens and arbitrary strings never raise anything but a
``TokenVerificationError`` subclass, and never verify unless the token is unchanged. Signed
arbitrary claim sets verify only when they satisfy every documented claim rule.

A few thousand examples run in the normal test run; set ``COGNITO_HELPER_FUZZ_EXAMPLES`` (e.g.
``50000``) to run that many examples for each property instead.
"""

from __future__ import annotations

import base64
import json
import math
import os
import time
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from cognito_helper import (
    CognitoConfig,
    MalformedTokenError,
    TokenVerificationError,
    decode_unverified,
    decode_verify_jwt,
)

from .servers import ScriptedServer, respond
from .tokens import CLIENT, POOL, KeyPair, b64, claims_for

pytestmark = pytest.mark.slow  # Hypothesis: hundreds of generated examples per property

_OVERRIDE = int(os.environ.get("COGNITO_HELPER_FUZZ_EXAMPLES", "0") or 0)


def examples(normal: int) -> int:
    return _OVERRIDE or normal


def fuzz(normal: int) -> settings:
    """``normal`` examples (or the environment's count), no deadline (the first example
    fetches the JWKS), and the module's fixtures are shared by all examples on purpose."""
    return settings(
        max_examples=examples(normal),
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# What a mutation may put into a token: its own alphabet, its separator, and the characters
# that other encodings, sloppy copying or an attacker bring along.
CHARS = B64URL + ".=+/ \t\n\r\x00\u00e9\uff10\u200b%"


class Pool:
    """A user pool on loopback whose key never changes during the module."""

    def __init__(self, server: ScriptedServer, key: KeyPair) -> None:
        self.key = key
        self.issuer = f"{server.url}/{POOL}"
        server.routes["/jwks.json"] = respond(200, {"keys": [key.jwk()]})
        self.config = CognitoConfig(
            user_pool_id=POOL,
            client_id=CLIENT,
            issuer=self.issuer,
            jwks_url=server.url + "/jwks.json",
            timeout=5,
        )
        # Valid for a day: the module's tokens do not expire while it runs.
        self.tokens = [
            key.token(claims_for("id", self.issuer, ttl=86400, nonce="n-1")),
            key.token(claims_for("access", self.issuer, ttl=86400)),
        ]

    def sign(self, header: Any, payload: Any) -> str:
        return self.key.signed(b64(_json(header)), b64(_json(payload)))


def _json(value: Any) -> bytes:
    return value if isinstance(value, bytes) else json.dumps(value).encode()


@pytest.fixture(scope="module")
def pool(key_pairs: List[KeyPair]) -> Iterator[Pool]:
    with ScriptedServer() as server:
        yield Pool(server, key_pairs[0])


def _unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def outcome(token: Any, config: CognitoConfig, **options: Any) -> Optional[Dict[str, Any]]:
    """The claims if the token verifies, ``None`` if it is rejected; anything else escapes."""
    try:
        return decode_verify_jwt(token, config=config, **options)
    except TokenVerificationError:
        return None


# -- mutations of a valid token -----------------------------------------------------------

Mutation = Callable[[str], str]


@st.composite
def char_edits(draw: st.DrawFn) -> Mutation:
    kind = draw(st.sampled_from(["replace", "insert", "delete", "truncate", "delete-range"]))
    where = draw(st.integers(min_value=0, max_value=2000))
    char = draw(st.sampled_from(CHARS))
    span = draw(st.integers(min_value=1, max_value=40))

    def apply(token: str) -> str:
        i = where % (len(token) + 1)
        if kind == "replace":
            i = min(i, len(token) - 1)
            return token[:i] + char + token[i + 1 :]
        if kind == "insert":
            return token[:i] + char + token[i:]
        if kind == "delete":
            return token[:i] + token[i + 1 :]
        if kind == "truncate":
            return token[:i]
        return token[:i] + token[i + span :]

    return apply


@st.composite
def segment_edits(draw: st.DrawFn) -> Mutation:
    kind = draw(st.sampled_from(["swap", "duplicate", "drop", "empty", "append", "reverse"]))
    a = draw(st.integers(min_value=0, max_value=2))
    b = draw(st.integers(min_value=0, max_value=2))

    def apply(token: str) -> str:
        parts = token.split(".")
        if kind == "swap":
            parts[a], parts[b] = parts[b], parts[a]
        elif kind == "duplicate":
            parts.insert(a, parts[a])
        elif kind == "drop":
            del parts[a]
        elif kind == "empty":
            parts[a] = ""
        elif kind == "append":
            parts.append(parts[a])
        else:
            parts[a] = parts[a][::-1]
        return ".".join(parts)

    return apply


@st.composite
def bit_flips(draw: st.DrawFn) -> Mutation:
    """Flip bits in the decoded bytes of one segment and re-encode it properly."""
    segment = draw(st.integers(min_value=0, max_value=2))
    flips = draw(
        st.lists(
            st.tuples(st.integers(min_value=0, max_value=4096), st.integers(1, 255)),
            min_size=1,
            max_size=4,
        )
    )

    def apply(token: str) -> str:
        parts = token.split(".")
        raw = bytearray(_unb64(parts[segment]))
        for position, mask in flips if raw else ():
            raw[position % len(raw)] ^= mask
        parts[segment] = b64(bytes(raw))
        return ".".join(parts)

    return apply


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
HEADER_NAMES = st.sampled_from(["alg", "kid", "typ", "crit", "jku", "x5u", "jwk", "x5c", "cty"])
CLAIM_NAMES = st.sampled_from(
    [
        *("exp", "iat", "nbf", "iss", "token_use", "aud", "client_id", "sub", "nonce"),
        *("scope", "cognito:groups", "auth_time", "at_hash", "username", "x"),
    ]
)


@st.composite
def json_edits(draw: st.DrawFn) -> Mutation:
    """Change, add or remove a header member or a claim, keeping the original signature."""
    segment = draw(st.sampled_from([0, 1]))
    name = draw(HEADER_NAMES if segment == 0 else CLAIM_NAMES)
    remove = draw(st.booleans())
    value = draw(JSON_VALUES)

    def apply(token: str) -> str:
        parts = token.split(".")
        obj = json.loads(_unb64(parts[segment]))
        if remove:
            obj.pop(name, None)
        else:
            obj[name] = value
        parts[segment] = b64(json.dumps(obj).encode())
        return ".".join(parts)

    return apply


MUTATIONS = st.lists(
    st.one_of(char_edits(), segment_edits(), bit_flips(), json_edits()), min_size=1, max_size=3
)


def mutate(token: str, mutations: List[Mutation]) -> str:
    for change in mutations:
        try:
            token = change(token)
        except (ValueError, IndexError, TypeError, AttributeError):
            pass  # a mutation that does not apply to what earlier ones left
    return token


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# The last character of an RS256-2048 signature carries 2 bits; the other 4 must be zero.
# Setting them spells the same signature bytes differently: still a changed token.
NONCANONICAL: List[Mutation] = [
    lambda t: t[:-1] + ALPHABET[ALPHABET.index(t[-1]) | 0b1111],
    lambda t: t[:-1] + ALPHABET[ALPHABET.index(t[-1]) ^ 0b0001],
]


@fuzz(1500)
@example(which=0, mutations=[NONCANONICAL[0]])
@example(which=1, mutations=[NONCANONICAL[1]])
@given(which=st.integers(0, 1), mutations=MUTATIONS)
def test_mutated_token_raises_only_verification_errors_and_never_verifies(
    pool: Pool, which: int, mutations: List[Mutation]
) -> None:
    original = pool.tokens[which]
    assert outcome(original, pool.config) is not None  # and now it may be remembered
    token = mutate(original, mutations)
    if outcome(token, pool.config) is not None:
        assert token == original, "a changed token verified"
    try:
        decode_unverified(token)
    except MalformedTokenError:
        pass


@fuzz(500)
@given(segment=st.integers(0, 2), donor=st.integers(0, 1), other_claims=st.booleans())
def test_spliced_segments_of_valid_tokens_never_verify(
    pool: Pool, segment: int, donor: int, other_claims: bool
) -> None:
    target = pool.tokens[1 - donor].split(".")
    source = (
        pool.key.token(claims_for("id", pool.issuer, ttl=86400, aud="x"))
        if other_claims
        else pool.tokens[donor]
    ).split(".")
    target[segment] = source[segment]
    token = ".".join(target)
    assume(token not in pool.tokens)
    assert outcome(token, pool.config) is None


# -- arbitrary input ----------------------------------------------------------------------

JWT_SHAPED = st.from_regex(r"\A[A-Za-z0-9_-]{0,80}\.[A-Za-z0-9_-]{0,200}\.[A-Za-z0-9_-]{0,400}\Z")


@fuzz(1500)
@given(
    value=st.one_of(
        st.text(max_size=300),
        JWT_SHAPED,
        st.binary(max_size=300).map(lambda b: b.decode("latin-1")),
        st.lists(st.text(alphabet=CHARS, max_size=60), min_size=1, max_size=6).map(".".join),
        st.none(),
        st.integers(),
        st.binary(max_size=50),
    )
)
def test_arbitrary_input_raises_only_verification_errors(pool: Pool, value: Any) -> None:
    assert outcome(value, pool.config) is None
    try:
        decode_unverified(value)
    except MalformedTokenError:
        pass


def _b64_of(data: bytes) -> str:
    return b64(data)


@fuzz(700)
@given(
    header=st.one_of(
        st.dictionaries(HEADER_NAMES, JSON_VALUES, max_size=5).map(
            lambda h: {"alg": "RS256", "kid": "kid-0", **h}
        ),
        JSON_VALUES,
        st.binary(max_size=60),
    ),
    payload=st.one_of(
        st.dictionaries(CLAIM_NAMES, JSON_VALUES, max_size=8),
        JSON_VALUES,
        st.binary(max_size=60),
    ),
)
def test_arbitrary_unsigned_json_never_verifies(pool: Pool, header: Any, payload: Any) -> None:
    signature = pool.tokens[0].split(".")[2]  # a real signature, of another message
    token = f"{_b64_of(_json(header))}.{_b64_of(_json(payload))}.{signature}"
    assume(token not in pool.tokens)
    assert outcome(token, pool.config) is None


# -- signed arbitrary claims: the claim rules, restated -------------------------------------


def _number(value: Any) -> bool:
    return type(value) is int or (type(value) is float and math.isfinite(value))


def claim_rules_hold(claims: Dict[str, Any], pool: Pool, options: Dict[str, Any]) -> None:
    now, leeway = time.time(), options.get("leeway", 0)
    assert _number(claims.get("exp")) and now < claims["exp"] + leeway
    assert _number(claims.get("iat")) and claims["iat"] <= now + leeway + 300
    assert "nbf" not in claims or (_number(claims["nbf"]) and claims["nbf"] <= now + leeway)
    assert claims.get("iss") == pool.issuer
    use = claims.get("token_use")
    assert use in ("id", "access") and options.get("token_use") in (None, use)
    assert claims.get("aud" if use == "id" else "client_id") == CLIENT
    assert type(claims.get("sub")) is str
    if "nonce" in options:
        assert use == "id" and claims.get("nonce") == options["nonce"]
    if "groups" in options:
        groups = claims.get("cognito:groups")
        assert isinstance(groups, list) and set(options["groups"]) & set(groups)
    if "scopes" in options:
        scope = claims.get("scope")
        assert type(scope) is str and set(options["scopes"]) & set(scope.split())


def _near(now: int) -> st.SearchStrategy[Any]:
    """Values that sit on and around the time boundaries, plus a few of the wrong type."""
    return st.one_of(
        st.integers(min_value=-400, max_value=400).map(lambda d: now + d),
        st.floats(min_value=-400, max_value=400).map(lambda d: now + d),
        st.sampled_from([str(now + 60), True, None, [now + 60], float("inf"), 10**30]),
    )


@st.composite
def signed_claim_sets(draw: st.DrawFn) -> Dict[str, Any]:
    now = int(time.time())
    issuer = draw(st.sampled_from(["{pool}", "{pool}/", "https://evil.example.com", None]))
    claims: Dict[str, Any] = {
        "sub": draw(st.one_of(st.just("u-1"), JSON_VALUES)),
        "iss": issuer,
        "token_use": draw(st.sampled_from(["id", "access", "refresh", "ID", None, 1])),
        "exp": draw(_near(now)),
        "iat": draw(_near(now)),
    }
    for name, strategy in (
        ("nbf", _near(now)),
        ("aud", st.sampled_from([CLIENT, "other", [CLIENT], None])),
        ("client_id", st.sampled_from([CLIENT, "other", None, 5])),
        ("nonce", st.sampled_from(["n-1", "n-2", None, 1])),
        ("cognito:groups", st.sampled_from([["admin"], ["staff"], "admin", None, [1]])),
        ("scope", st.sampled_from(["openid orders/read", "orders/readonly", ["orders/read"]])),
        ("auth_time", st.sampled_from([now, "now", None])),
    ):
        if draw(st.booleans()):
            claims[name] = draw(strategy)
    return {k: v for k, v in claims.items() if v is not None or draw(st.booleans())}


OPTIONS = st.fixed_dictionaries(
    {},
    optional={
        "token_use": st.sampled_from(["id", "access"]),
        "nonce": st.sampled_from(["n-1", "n-2"]),
        "groups": st.sampled_from([["admin"], ["staff", "root"]]),
        "scopes": st.sampled_from([["orders/read"], "openid"]),
        "leeway": st.sampled_from([0, 1, 30, 299.5]),
    },
)


@fuzz(400)
@given(claims=signed_claim_sets(), options=OPTIONS)
def test_signed_claims_verify_only_when_every_claim_rule_holds(
    pool: Pool, claims: Dict[str, Any], options: Dict[str, Any]
) -> None:
    if claims.get("iss") in ("{pool}", "{pool}/"):
        claims["iss"] = claims["iss"].format(pool=pool.issuer)
    if isinstance(options.get("scopes"), str):
        options = dict(options, scopes=[options["scopes"]])
    token = pool.sign({"kid": pool.key.kid, "alg": "RS256"}, claims)
    verified = outcome(token, pool.config, **options)
    if verified is not None:
        assert verified == json.loads(json.dumps(claims))
        claim_rules_hold(verified, pool, options)
