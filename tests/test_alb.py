"""Application Load Balancer identity headers: ``verify_alb_jwt``, ``verify_alb_request``, the
ALB key cache and ``LocalALB``.

The hostile table comes first: each case is a token with the exact error it must raise, run
against a real loopback key endpoint (a :class:`LocalALB`) with the clock pinned, while a watched
"hostile" server waits for a request that must never come. Cases of the categories checked
before the key (``algorithm``, ``structure``, ``header`` and the signature's ``shape``) must not
reach the key endpoint at all. ``tests/test_alb_differential.py`` runs the same table through
aws-jwt-verify.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Union

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from cognito_helper import (
    CognitoConnectionError,
    ConfigError,
    InvalidClaimsError,
    InvalidSignatureError,
    MalformedTokenError,
    TokenExpiredError,
    UnknownKeyError,
)
from cognito_helper.core.encoding import b64url_decode_padded
from cognito_helper.testing import LocalALB, LocalCognito
from cognito_helper.verification.alb import (
    AlbIdentity,
    AlbKeyCache,
    alb_key_cache,
    alb_key_url,
    forget_alb_key_caches,
    verify_alb_jwt,
    verify_alb_request,
)
from cognito_helper.verification.alb_keys import (
    ALB_KID,
    DEFAULT_FETCH_BURST,
    DEFAULT_FETCH_RATE,
    MAX_FAILED_KIDS,
)

from .helpers import (
    USER,
    Case,
    compact_form_cases,
    expiry_cases,
    refused_as_the_case_says,
    run_in_threads,
    segments,
    tampered_signature_cases,
    with_signature,
)
from .servers import ScriptedServer, closed_port, hold, redirect, respond
from .tokens import b64, x5c_entry

ARN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/my-alb/50dc6c495c0c9188"
OTHER_ARN = ARN.replace("my-alb/50dc6c495c0c9188", "other-alb/0123456789abcdef")
NO_SUCH_KID = "00000000-0000-4000-8000-000000000000"  # a UUID no LocalALB publishes


@pytest.fixture(autouse=True)
def fresh_alb_caches() -> Iterator[None]:
    forget_alb_key_caches()
    yield
    forget_alb_key_caches()


# -- an independent ES256 signer: cryptography only -------------------------------------------


def padded(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode()


def es256(key: ec.EllipticCurvePrivateKey, signing_input: bytes) -> bytes:
    """The JOSE form of an ES256 signature: r || s, 32 bytes each."""
    r, s = decode_dss_signature(key.sign(signing_input, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


# -- the context every case builds its token in -----------------------------------------------

_DROP = object()  # header(alg=_DROP) removes alg


@dataclass
class Ctx:
    alb: LocalALB
    hostile: ScriptedServer
    attacker: ec.EllipticCurvePrivateKey  # a P-256 key the ALB never published
    now: int

    @property
    def kid(self) -> str:
        return self.alb.kid

    @property
    def options(self) -> Dict[str, Any]:
        return self.alb.verify_options

    def header(self, **changes: Any) -> Dict[str, Any]:
        head: Dict[str, Any] = {
            "typ": "JWT",
            "kid": self.kid,
            "alg": "ES256",
            "iss": self.alb.issuer,
            "client": self.alb.client_id,
            "signer": self.alb.alb_arn,
            "exp": self.now + 120,
        }
        head.update(changes)
        return {k: v for k, v in head.items() if v is not _DROP}

    def claims(self, **changes: Any) -> Dict[str, Any]:
        claims: Dict[str, Any] = {
            "sub": "5f3b2c1a-1111-2222-3333-444455556666",
            "email_verified": "true",
            "email": "alice@example.com",
            "username": "alice",
            "exp": self.now + 120,
            "iss": self.alb.issuer,
        }
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not _DROP}

    def raw(
        self,
        header: Union[bytes, Dict[str, Any]],
        payload: Union[bytes, Dict[str, Any]],
        *,
        key: Optional[ec.EllipticCurvePrivateKey] = None,
        signature: Optional[bytes] = None,
        pad: bool = True,
    ) -> str:
        """Exactly these bytes, padded like the ALB's (or not), ES256-signed by ``key``."""
        head = header if isinstance(header, bytes) else json.dumps(header).encode()
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        enc = padded if pad else b64
        signing_input = f"{enc(head)}.{enc(body)}"
        if signature is None:
            signature = es256(key or self.alb.private_key, signing_input.encode())
        return f"{signing_input}.{enc(signature)}"

    def signed(
        self,
        *,
        header: Optional[Dict[str, Any]] = None,
        key: Optional[ec.EllipticCurvePrivateKey] = None,
        **claims: Any,
    ) -> str:
        return self.raw(self.header(**(header or {})), self.claims(**claims), key=key)


def _hs256(ctx: Ctx, secret: bytes) -> str:
    head = padded(json.dumps(ctx.header(alg="HS256")).encode())
    body = padded(json.dumps(ctx.claims()).encode())
    mac = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{padded(mac)}"


def _public_pem(ctx: Ctx) -> bytes:
    return ctx.alb.public_pem()


_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_P384 = ec.generate_private_key(ec.SECP384R1())


def _rs256(ctx: Ctx) -> str:
    head = padded(json.dumps(ctx.header(alg="RS256")).encode())
    body = padded(json.dumps(ctx.claims()).encode())
    sig = _RSA.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{head}.{body}.{padded(sig)}"


def _es384(ctx: Ctx) -> str:
    head = padded(json.dumps(ctx.header(alg="ES384")).encode())
    body = padded(json.dumps(ctx.claims()).encode())
    r, s = decode_dss_signature(_P384.sign(f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA384())))
    return f"{head}.{body}.{padded(r.to_bytes(48, 'big') + s.to_bytes(48, 'big'))}"


def _eddsa(ctx: Ctx) -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    head = padded(json.dumps(ctx.header(alg="EdDSA")).encode())
    body = padded(json.dumps(ctx.claims()).encode())
    return f"{head}.{body}.{padded(key.sign(f'{head}.{body}'.encode()))}"


def _alg(ctx: Ctx, alg: Any, signature: Optional[bytes] = None) -> str:
    """A token whose header says ``alg``, with a valid ES256 signature unless one is given."""
    return ctx.raw(ctx.header(alg=alg), ctx.claims(), signature=signature)


ALGORITHM = [
    Case(
        "alg-none-empty-signature", "algorithm", lambda c: _alg(c, "none", b""), MalformedTokenError
    ),
    Case(
        "alg-none-valid-es256-signature",
        "algorithm",
        lambda c: _alg(c, "none"),
        MalformedTokenError,
    ),
    Case("alg-None", "algorithm", lambda c: _alg(c, "None", bytes(64)), MalformedTokenError),
    Case(
        "alg-HS256-keyed-with-the-public-pem",
        "algorithm",
        lambda c: _hs256(c, _public_pem(c)),
        MalformedTokenError,
    ),
    Case(
        "alg-HS256-keyed-with-the-kid",
        "algorithm",
        lambda c: _hs256(c, c.kid.encode()),
        MalformedTokenError,
    ),
    Case("alg-RS256", "algorithm", _rs256, MalformedTokenError),
    Case("alg-ES384", "algorithm", _es384, MalformedTokenError),
    Case("alg-EdDSA", "algorithm", _eddsa, MalformedTokenError),
    Case("alg-missing", "algorithm", lambda c: _alg(c, _DROP), MalformedTokenError),
    Case("alg-lower-case-es256", "algorithm", lambda c: _alg(c, "es256"), MalformedTokenError),
    Case("alg-as-a-list", "algorithm", lambda c: _alg(c, ["ES256"]), MalformedTokenError),
    Case("alg-with-trailing-space", "algorithm", lambda c: _alg(c, "ES256 "), MalformedTokenError),
]


def _kid(ctx: Ctx, kid: Any) -> str:
    return ctx.signed(header={"kid": kid})


def _compared(
    name: str, label: str, value: Callable[[Ctx], Any], prefix: Optional[str] = None
) -> Case:
    """A header whose ``name`` (compared with the call's options) is ``value``: refused,
    with an InvalidClaimsError, before any key is fetched."""
    return Case(
        f"{prefix or name}-{label}",
        "header",
        lambda c: c.signed(header={name: value(c)}),
        InvalidClaimsError,
    )


HEADER = [
    Case(
        "kid-path-traversal",
        "header",
        lambda c: _kid(c, "../../../etc/passwd"),
        MalformedTokenError,
    ),
    Case("kid-dot-dot", "header", lambda c: _kid(c, ".."), MalformedTokenError),
    Case(
        "kid-percent-encoded-slash",
        "header",
        lambda c: _kid(c, "..%2F..%2Fkeys"),
        MalformedTokenError,
    ),
    Case("kid-percent-2f-only", "header", lambda c: _kid(c, "%2F"), MalformedTokenError),
    Case(
        "kid-with-a-slash",
        "header",
        lambda c: _kid(c, c.kid[:8] + "/" + c.kid[9:]),
        MalformedTokenError,
    ),
    Case("kid-with-white-space", "header", lambda c: _kid(c, c.kid + " "), MalformedTokenError),
    Case("kid-with-a-newline", "header", lambda c: _kid(c, c.kid + "\n"), MalformedTokenError),
    Case("kid-with-a-query", "header", lambda c: _kid(c, c.kid + "?x=1"), MalformedTokenError),
    Case("kid-with-a-fragment", "header", lambda c: _kid(c, c.kid + "#x"), MalformedTokenError),
    Case(
        "kid-is-a-url-to-the-watched-server",
        "header",
        lambda c: _kid(c, c.hostile.url + "/key.pem"),
        MalformedTokenError,
    ),
    Case("kid-with-nul-byte", "header", lambda c: _kid(c, c.kid + "\x00"), MalformedTokenError),
    Case("kid-non-ascii", "header", lambda c: _kid(c, c.kid[:-1] + "\u0430"), MalformedTokenError),
    Case("kid-too-long", "header", lambda c: _kid(c, "a" * 129), MalformedTokenError),
    Case(
        "kid-url-safe-not-a-uuid",
        "header",
        lambda c: _kid(c, "attacker_key-1"),
        MalformedTokenError,
    ),
    Case(
        "kid-uuid-without-dashes",
        "header",
        lambda c: _kid(c, uuid.uuid4().hex),
        MalformedTokenError,
    ),
    Case("kid-uuid-in-braces", "header", lambda c: _kid(c, "{" + c.kid + "}"), MalformedTokenError),
    Case("kid-empty", "header", lambda c: _kid(c, ""), MalformedTokenError),
    Case("kid-missing", "header", lambda c: _kid(c, _DROP), MalformedTokenError),
    Case("kid-number", "header", lambda c: _kid(c, 7), MalformedTokenError),
    Case("kid-list", "header", lambda c: _kid(c, [c.kid]), MalformedTokenError),
    Case(
        "crit-header", "header", lambda c: c.signed(header={"crit": ["exp"]}), MalformedTokenError
    ),
    *[
        _compared("signer", label, value)
        for label, value in [
            ("of-another-load-balancer", lambda c: OTHER_ARN),
            ("of-another-account", lambda c: c.alb.alb_arn.replace("123456789012", "2" * 12)),
            ("in-another-region", lambda c: c.alb.alb_arn.replace("us-east-1", "eu-west-1")),
            ("with-trailing-slash", lambda c: c.alb.alb_arn + "/"),
            ("in-another-case", lambda c: c.alb.alb_arn.upper()),
            ("missing", lambda c: _DROP),
            ("as-a-list", lambda c: [c.alb.alb_arn]),
        ]
    ],
    _compared("client", "of-another-app", lambda c: "otherclient"),
    _compared("client", "missing", lambda c: _DROP),
    _compared("client", "as-a-list", lambda c: [c.alb.client_id]),
    _compared("iss", "of-another-pool", lambda c: c.alb.issuer + "x", "header-iss"),
    _compared("iss", "missing", lambda c: _DROP, "header-iss"),
]


def _stripped(token: str, index: int) -> str:
    """The token with segment ``index``'s padding removed (its bytes unchanged)."""
    parts = segments(token)
    parts[index] = parts[index].rstrip("=")
    return ".".join(parts)


def _needs_padding(ctx: Ctx, pad: int) -> str:
    """A validly signed token whose header segment needs exactly ``pad`` '=' characters."""
    for extra in range(8):
        header = ctx.header(x="y" * extra)
        segment = padded(json.dumps(header).encode())
        if len(segment) - len(segment.rstrip("=")) == pad:
            return ctx.raw(header, ctx.claims())
    raise AssertionError("no header length gives that padding")


def _repadded(token: str, index: int, padding_text: str) -> str:
    parts = segments(token)
    parts[index] = parts[index].rstrip("=") + padding_text
    return ".".join(parts)


def _equals_inside(ctx: Ctx) -> str:
    parts = segments(ctx.signed())
    middle = len(parts[1]) // 2
    parts[1] = parts[1][:middle] + "=" + parts[1][middle:]
    return ".".join(parts)


def _noncanonical_header(ctx: Ctx) -> str:
    """The header segment with the unused low bits of its last character set."""
    token = _needs_padding(ctx, 1)  # 3 characters in the last group: 2 unused bits
    head, body, sig = segments(token)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    core = head.rstrip("=")
    core = core[:-1] + alphabet[alphabet.index(core[-1]) | 0b11]
    return f"{core}=.{body}.{sig}"


STRUCTURE = [
    *compact_form_cases(),
    Case("padding-in-the-middle-of-a-segment", "structure", _equals_inside, MalformedTokenError),
    Case(
        "padding-of-two-where-one-is-needed",
        "structure",
        lambda c: _repadded(_needs_padding(c, 1), 0, "=="),
        MalformedTokenError,
    ),
    Case(
        "padding-of-one-where-two-are-needed",
        "structure",
        lambda c: _repadded(_needs_padding(c, 2), 0, "="),
        MalformedTokenError,
    ),
    Case(
        "padding-where-none-is-needed",
        "structure",
        lambda c: _repadded(_needs_padding(c, 0), 0, "=="),
        MalformedTokenError,
    ),
    Case(
        "padding-of-three",
        "structure",
        lambda c: _repadded(_needs_padding(c, 2), 0, "==="),
        MalformedTokenError,
    ),
    Case(
        "padding-at-the-start-of-a-segment",
        "structure",
        lambda c: "=" + c.signed(),
        MalformedTokenError,
    ),
    Case(
        "padding-after-the-last-segment",
        "structure",
        lambda c: _repadded(c.signed(), 2, "===="),
        MalformedTokenError,
    ),
    Case(
        "padding-as-a-whole-segment",
        "structure",
        lambda c: "{0}.====.{2}".format(*segments(c.signed())),
        MalformedTokenError,
    ),
    Case("non-canonical-base64url", "structure", _noncanonical_header, MalformedTokenError),
    Case("bearer-prefix", "structure", lambda c: "Bearer " + c.signed(), MalformedTokenError),
    Case(
        "header-duplicate-alg",
        "structure",
        lambda c: c.raw(json.dumps(c.header()).encode()[:-1] + b', "alg": "none"}', c.claims()),
        MalformedTokenError,
    ),
    Case(
        "header-duplicate-signer",
        "structure",
        lambda c: c.raw(
            json.dumps(c.header(signer=OTHER_ARN)).encode()[:-1]
            + b', "signer": "'
            + c.alb.alb_arn.encode()
            + b'"}',
            c.claims(),
        ),
        MalformedTokenError,
    ),
]


#: n, the order of P-256's group: r and s must lie in [1, n - 1].
P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def _with_signature(ctx: Ctx, change: Callable[[bytes], bytes]) -> str:
    return with_signature(ctx, change, padded)


def _der(ctx: Ctx) -> str:
    """The same valid signature, DER-encoded (as cryptography returns it)."""
    token = ctx.signed()
    head, body, _ = segments(token)
    der = ctx.alb.private_key.sign(f"{head}.{body}".encode(), ec.ECDSA(hashes.SHA256()))
    return f"{head}.{body}.{padded(der)}"


SIGNATURE = [
    *tampered_signature_cases(padded),
    Case("der-encoded-signature", "shape", _der, InvalidSignatureError),
    Case(
        "signature-63-bytes",
        "shape",
        lambda c: _with_signature(c, lambda s: s[:-1]),
        InvalidSignatureError,
    ),
    Case(
        "signature-65-bytes",
        "shape",
        lambda c: _with_signature(c, lambda s: s + b"\0"),
        InvalidSignatureError,
    ),
    Case(
        "signature-empty-bytes",
        "shape",
        lambda c: _with_signature(c, lambda s: b"\0"),
        InvalidSignatureError,
    ),
    Case(
        "signature-r-is-the-group-order",
        "signature",
        lambda c: _with_signature(c, lambda s: P256_ORDER.to_bytes(32, "big") + s[32:]),
        InvalidSignatureError,
    ),
    Case(
        "signature-s-is-the-group-order",
        "signature",
        lambda c: _with_signature(c, lambda s: s[:32] + P256_ORDER.to_bytes(32, "big")),
        InvalidSignatureError,
    ),
    Case(
        "signature-r-and-s-swapped",
        "signature",
        lambda c: _with_signature(c, lambda s: s[32:] + s[:32]),
        InvalidSignatureError,
    ),
    Case(
        "payload-re-encoded-without-padding",
        "signature",
        lambda c: _unpadded_payload(c),
        InvalidSignatureError,
    ),
    Case(
        "header-re-encoded-without-padding",
        "signature",
        lambda c: _stripped(_needs_padding(c, 2), 0),
        InvalidSignatureError,
    ),
    Case(
        "signed-by-another-p256-key",
        "signature",
        lambda c: c.signed(key=c.attacker),
        InvalidSignatureError,
    ),
    Case(
        "jwk-header-with-the-attackers-key",
        "signature",
        lambda c: c.signed(key=c.attacker, header={"jwk": {"kty": "EC", "crv": "P-256"}}),
        InvalidSignatureError,
    ),
    Case(
        "jku-to-the-watched-server",
        "signature",
        lambda c: c.signed(key=c.attacker, header={"jku": c.hostile.url + "/key.pem"}),
        InvalidSignatureError,
    ),
    Case(
        "x5u-to-the-watched-server",
        "signature",
        lambda c: c.signed(key=c.attacker, header={"x5u": c.hostile.url + "/cert.pem"}),
        InvalidSignatureError,
    ),
    Case(
        "x5c-self-signed-certificate",
        "signature",
        lambda c: c.signed(
            key=c.attacker, header={"x5c": [x5c_entry(c.attacker, "public-keys.auth.elb")]}
        ),
        InvalidSignatureError,
    ),
]


def _unpadded_payload(ctx: Ctx) -> str:
    """A validly signed token whose payload segment is then re-encoded without its padding."""
    for extra in range(8):
        token = ctx.signed(pad="p" * extra)
        if segments(token)[1].endswith("="):
            return _stripped(token, 1)
    raise AssertionError("no payload length needs padding")


KEY = [
    Case(
        "kid-unknown-uuid",
        "key",
        lambda c: c.signed(key=c.attacker, header={"kid": str(uuid.uuid4())}),
        UnknownKeyError,
    ),
    Case(
        "kid-unknown-uuid-in-capitals",
        "key",
        lambda c: c.signed(key=c.attacker, header={"kid": str(uuid.uuid4()).upper()}),
        UnknownKeyError,
    ),
]


CLAIMS = [
    *expiry_cases(),
    Case(
        "header-exp-passed-payload-exp-fine",
        "claims",
        lambda c: c.signed(header={"exp": c.now - 1}),
        TokenExpiredError,
    ),
    Case(
        "header-exp-missing",
        "claims",
        lambda c: c.signed(header={"exp": _DROP}),
        InvalidClaimsError,
    ),
    Case(
        "header-exp-numeric-string",
        "claims",
        lambda c: c.signed(header={"exp": str(c.now + 60)}),
        InvalidClaimsError,
    ),
    Case("exp-missing", "claims", lambda c: c.signed(exp=_DROP), InvalidClaimsError),
    Case(
        "exp-numeric-string", "claims", lambda c: c.signed(exp=str(c.now + 60)), InvalidClaimsError
    ),
    Case("exp-boolean", "claims", lambda c: c.signed(exp=True), InvalidClaimsError),
    Case("exp-null", "claims", lambda c: c.signed(exp=None), InvalidClaimsError),
    Case("exp-huge-integer", "claims", lambda c: c.signed(exp=10**400), InvalidClaimsError),
    Case("nbf-in-the-future", "claims", lambda c: c.signed(nbf=c.now + 60), InvalidClaimsError),
    Case("nbf-string", "claims", lambda c: c.signed(nbf="0"), InvalidClaimsError),
    Case("iat-string", "claims", lambda c: c.signed(iat="0"), InvalidClaimsError),
    Case(
        "payload-iss-of-another-pool",
        "claims",
        lambda c: c.signed(iss=c.alb.issuer + "x"),
        InvalidClaimsError,
    ),
    Case("payload-iss-missing", "claims", lambda c: c.signed(iss=_DROP), InvalidClaimsError),
    Case("payload-iss-number", "claims", lambda c: c.signed(iss=1), InvalidClaimsError),
    Case("sub-number", "claims", lambda c: c.signed(sub=5), InvalidClaimsError),
    Case("aud-number", "claims", lambda c: c.signed(aud=5), InvalidClaimsError),
    Case("scope-list", "claims", lambda c: c.signed(scope=["openid"]), InvalidClaimsError),
]

CASES: List[Case] = [*ALGORITHM, *HEADER, *STRUCTURE, *SIGNATURE, *KEY, *CLAIMS]
BEFORE_THE_KEY = ("algorithm", "header", "structure", "shape")


@pytest.fixture
def ctx(monkeypatch: pytest.MonkeyPatch) -> Iterator[Ctx]:
    now = int(time.time())
    monkeypatch.setattr(time, "time", lambda: float(now))  # minting and checks see one clock
    with LocalALB() as alb, ScriptedServer() as hostile:
        # What an attacker would like fetched. Serving it proves nothing; being asked would.
        attacker = ec.generate_private_key(ec.SECP256R1())
        pem = attacker.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        hostile.routes["/key.pem"] = respond(200, pem, "text/plain")
        hostile.routes["/cert.pem"] = respond(200, b"-----BEGIN CERTIFICATE-----", "text/plain")
        yield Ctx(alb=alb, hostile=hostile, attacker=attacker, now=now)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_alb_token_is_rejected_with_its_error(ctx: Ctx, case: Case) -> None:
    options = {**ctx.options, **case.options}
    refused_as_the_case_says(case, ctx, lambda t: verify_alb_jwt(t, **options), ctx.hostile)
    if case.category in BEFORE_THE_KEY:
        assert ctx.alb.requests_seen == [], "refused only after asking for a key"
    else:  # at most one request, for a kid that is a UUID
        assert len(ctx.alb.requests_seen) <= 1
        assert all(ALB_KID.fullmatch(path[1:]) for _, path in ctx.alb.requests_seen)


def test_the_table_has_distinct_named_cases_in_every_category() -> None:
    names = [case.name for case in CASES]
    assert len(set(names)) == len(names) >= 100
    for category in ("algorithm", "header", "structure", "signature", "claims"):
        assert sum(case.category == category for case in CASES) >= 10, category
    assert sum(case.category == "shape" for case in CASES) >= 4


def test_the_tables_helpers_make_tokens_that_verify_when_left_alone(ctx: Ctx) -> None:
    """Each case fails for its one change: the same helpers without it make good tokens."""
    options = ctx.options
    assert verify_alb_jwt(ctx.signed(), **options)["username"] == "alice"
    for pad in (0, 1, 2):
        assert verify_alb_jwt(_needs_padding(ctx, pad), **options)
    assert verify_alb_jwt(ctx.raw(ctx.header(), ctx.claims(), pad=False), **options)
    assert verify_alb_jwt(ctx.signed(exp=ctx.now + 1), **options)
    assert verify_alb_jwt(ctx.signed(exp=ctx.now - 29), **options, leeway=30)
    assert verify_alb_jwt(ctx.signed(nbf=ctx.now, iat=ctx.now, aud=["a"], scope="x"), **options)
    assert verify_alb_jwt(ctx.signed(header={"kid": ctx.kid, "jku": "ignored"}), **options)
    head, body, sig = segments(ctx.signed())
    assert verify_alb_jwt(f"{head}.{body}.{padded(decode(sig))}", **options)
    assert ctx.alb.key_requests == 1


def test_a_token_with_unpadded_segments_verifies_when_signed_so(ctx: Ctx) -> None:
    """aws-jwt-verify accepts unpadded segments too; the signature covers them as sent."""
    token = ctx.raw(ctx.header(), ctx.claims(), pad=False)
    assert "=" not in token
    assert verify_alb_jwt(token, **ctx.options)["sub"] == ctx.claims()["sub"]


def test_a_real_alb_token_from_local_alb_verifies(ctx: Ctx) -> None:
    token = ctx.alb.mint("bob")
    assert all(len(s) % 4 == 0 for s in token.split("."))
    assert token.endswith("=")  # 64 signature bytes: 86 characters and "=="
    claims = verify_alb_jwt(token, **ctx.options)
    assert claims["username"] == "bob"
    assert claims["exp"] == ctx.now + 120


# -- what the verified result is ----------------------------------------------------------------


def test_the_returned_claims_are_the_callers_own(ctx: Ctx) -> None:
    token = ctx.signed(groups=["a"])
    first = verify_alb_jwt(token, **ctx.options)
    first["groups"].append("admin")
    first["username"] = "mallory"
    again = verify_alb_jwt(token, **ctx.options)
    assert again["groups"] == ["a"] and again["username"] == "alice"


def test_a_refusal_after_the_signature_carries_the_claims(ctx: Ctx) -> None:
    with pytest.raises(TokenExpiredError) as info:
        verify_alb_jwt(ctx.signed(exp=ctx.now - 5), **ctx.options)
    assert info.value.claims is not None and info.value.claims["username"] == "alice"
    assert "alice" not in str(info.value)


def test_a_refusal_before_the_signature_carries_no_claims(ctx: Ctx) -> None:
    with pytest.raises(InvalidSignatureError) as info:
        verify_alb_jwt(ctx.signed(key=ctx.attacker), **ctx.options)
    assert info.value.claims is None


def test_several_load_balancers_and_clients_may_be_trusted(ctx: Ctx) -> None:
    options = dict(ctx.options, alb_arn=[OTHER_ARN, ctx.alb.alb_arn], client_id=["x", "y"])
    token = ctx.signed(header={"client": "y"})
    assert verify_alb_jwt(token, **options)
    with pytest.raises(InvalidClaimsError) as info:
        verify_alb_jwt(ctx.signed(), **options)
    assert info.value.claim == "client"


def test_client_and_issuer_are_checked_only_when_given(ctx: Ctx) -> None:
    token = ctx.signed(header={"client": "other", "iss": "elsewhere"}, iss="elsewhere")
    options = dict(ctx.options, client_id=None, issuer=None)
    assert verify_alb_jwt(token, **options)["iss"] == "elsewhere"


def test_a_payload_without_iss_is_refused_when_an_issuer_is_given(ctx: Ctx) -> None:
    """Issue 19 S8, decided: the refusal is kept. The signed header's ``iss`` matching does not
    stand in for the payload's: aws-jwt-verify's AlbJwtVerifier checks the payload's ``iss``
    alone and refuses a payload without one ("Missing Issuer"; pinned in
    tests/test_alb_differential.py), the ALB writes ``iss`` in the payload, and what a caller
    reads are the payload's claims. Without an ``issuer`` nothing asks for it."""
    token = ctx.signed(iss=_DROP)
    assert json.loads(decode(segments(token)[0]))["iss"] == ctx.options["issuer"]
    with pytest.raises(InvalidClaimsError, match="'iss' must be") as info:
        verify_alb_jwt(token, **ctx.options)
    assert info.value.claim == "iss"
    assert info.value.claims is not None and "iss" not in info.value.claims
    assert "iss" not in verify_alb_jwt(token, **{**ctx.options, "issuer": None})
    with pytest.raises(InvalidClaimsError) as again:  # remembered now: the memo path refuses too
        verify_alb_jwt(token, **ctx.options)
    assert again.value.claim == "iss"


# -- a remembered verification launders nothing --------------------------------------------------


def test_a_verified_token_still_fails_every_check_it_would_fail(ctx: Ctx) -> None:
    token = ctx.signed()
    for _ in range(2):
        assert verify_alb_jwt(token, **ctx.options)
    refusals = [
        ({"alb_arn": OTHER_ARN}, "signer"),
        ({"client_id": "otherclient"}, "client"),
        ({"issuer": "https://elsewhere.example"}, "iss"),
    ]
    for changes, claim in refusals:
        with pytest.raises(InvalidClaimsError) as info:
            verify_alb_jwt(token, **{**ctx.options, **changes})
        assert info.value.claim == claim
    assert verify_alb_jwt(token, **ctx.options)


def test_a_verified_token_expires_on_time(ctx: Ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    token = ctx.signed(exp=ctx.now + 60)
    assert verify_alb_jwt(token, **ctx.options)
    monkeypatch.setattr(time, "time", lambda: float(ctx.now + 60))
    with pytest.raises(TokenExpiredError) as info:
        verify_alb_jwt(token, **ctx.options)
    assert info.value.claims is not None


def test_a_verified_token_is_not_valid_under_another_key_url(ctx: Ctx) -> None:
    token = ctx.signed()
    assert verify_alb_jwt(token, **ctx.options)
    with LocalALB(alb_arn=ctx.alb.alb_arn, issuer=ctx.alb.issuer) as other:
        with pytest.raises(UnknownKeyError):
            verify_alb_jwt(token, **{**ctx.options, "key_url": other.key_url})
        assert other.requests_seen == [("GET", f"/{ctx.kid}")]


def test_a_verified_token_is_checked_in_full_once_its_key_is_forgotten(ctx: Ctx) -> None:
    token = ctx.signed()
    assert verify_alb_jwt(token, **ctx.options)
    forget_alb_key_caches()
    ctx.alb.rotate_key(keep_old=False)  # its kid is no longer published
    with pytest.raises(UnknownKeyError):
        verify_alb_jwt(token, **ctx.options)


def test_a_verified_token_is_answered_from_the_albs_own_memo(ctx: Ctx) -> None:
    from cognito_helper import verification_memo_info
    from cognito_helper.verification import alb as alb_module

    alb_module.memo.clear()
    cognito_before = verification_memo_info()
    token = ctx.signed()
    first = verify_alb_jwt(token, **ctx.options)
    assert verify_alb_jwt(token.encode().decode(), **ctx.options) == first
    assert (alb_module.memo.info().hits, alb_module.memo.info().currsize) == (1, 1)
    assert verification_memo_info() == cognito_before  # decode_verify_jwt's memo: untouched


def test_forgetting_the_key_caches_empties_the_memo(ctx: Ctx) -> None:
    from cognito_helper.verification import alb as alb_module

    assert verify_alb_jwt(ctx.signed(), **ctx.options)
    assert alb_module.memo.info().currsize == 1
    forget_alb_key_caches()
    assert alb_module.memo.info().currsize == 0


def test_a_key_the_cache_drops_takes_its_tokens_out_of_the_memo(ctx: Ctx) -> None:
    from cognito_helper.verification import alb as alb_module

    alb_key_cache(ctx.alb.key_url).max_keys = 1
    old = ctx.signed()
    assert verify_alb_jwt(old, **ctx.options)
    ctx.alb.rotate_key()
    assert verify_alb_jwt(ctx.signed(), **ctx.options)  # the old kid's key is dropped
    assert alb_module.memo.info().currsize == 1
    assert verify_alb_jwt(old, **ctx.options)  # in full: its key is fetched again
    assert ctx.alb.key_requests == 3


def test_the_ecdsa_twin_signature_verifies_to_the_same_claims(ctx: Ctx) -> None:
    """(r, n - s) is a second valid ES256 signature of the same bytes, accepted as aws-jwt-verify
    accepts it (the ALB is not known to sign low-s only), and so is the signature segment
    without its padding: a data token's string is no unique name of a sign-in (SECURITY.md)."""
    token = ctx.signed()
    head, body, sig = segments(token)
    raw = decode(sig)
    twin_s = (P256_ORDER - int.from_bytes(raw[32:], "big")).to_bytes(32, "big")
    twins = [f"{head}.{body}.{padded(raw[:32] + twin_s)}", f"{head}.{body}.{sig.rstrip('=')}"]
    claims = verify_alb_jwt(token, **ctx.options)
    assert sig.endswith("=") and all(verify_alb_jwt(t, **ctx.options) == claims for t in twins)


def test_the_docs_say_the_header_string_is_no_replay_key(ctx: Ctx) -> None:
    """Issue 19 S9: one sign-in's header verifies as several strings, so the docs tell a
    reader to dedupe on what the signature covers, and those keys are the same for every form."""
    token = ctx.signed()
    head, body, sig = segments(token)
    raw = decode(sig)
    twin_s = (P256_ORDER - int.from_bytes(raw[32:], "big")).to_bytes(32, "big")
    forms = {
        token,
        f"{head}.{body}.{padded(raw[:32] + twin_s)}",
        f"{head}.{body}.{sig.rstrip('=')}",
    }
    assert len(forms) == 3
    verified = [verify_alb_jwt(form, **ctx.options) for form in forms]
    assert len({(c["sub"], c["exp"]) for c in verified}) == 1
    assert len({hashlib.sha256(decode(f.split(".")[1])).hexdigest() for f in forms}) == 1
    assert len({f.rsplit(".", 1)[0] for f in forms}) == 1
    for name in ("README.md", "SECURITY.md"):
        section = alb_doc_section(name)
        assert "(r, n - s)" in section and "padding" in section, name
        assert "replay, dedupe" in section, name
        assert "`sub` with `exp`" in section and "hash of the decoded payload" in section, name


def test_an_alb_token_given_to_decode_verify_jwt_is_malformed(ctx: Ctx) -> None:
    from cognito_helper import CognitoConfig, decode_verify_jwt

    token = ctx.signed()
    assert verify_alb_jwt(token, **ctx.options)  # remembered by the ALB's memo
    pool = CognitoConfig(user_pool_id="us-east-1_AbC123", client_id="client1")
    other = CognitoConfig(user_pool_id="us-east-1_XyZ789", client_id="client2")
    for config in (pool, [pool, other]):
        with pytest.raises(MalformedTokenError):
            decode_verify_jwt(token, config=config)


# -- keys: fetched once per kid, floods and failures bounded ------------------------------------


@pytest.fixture
def alb() -> Iterator[LocalALB]:
    with LocalALB(alb_arn=ARN) as alb:
        yield alb


def test_a_kids_key_is_fetched_once_for_many_tokens(alb: LocalALB) -> None:
    for i in range(20):
        verify_alb_jwt(alb.mint(f"user{i}"), **alb.verify_options)
    assert alb.requests_seen == [("GET", f"/{alb.kid}")]


def test_a_rotated_key_is_fetched_once_and_the_old_one_keeps_working(alb: LocalALB) -> None:
    old = alb.mint()
    verify_alb_jwt(old, **alb.verify_options)
    alb.rotate_key()
    new = alb.mint()
    for _ in range(3):
        verify_alb_jwt(new, **alb.verify_options)
        verify_alb_jwt(old, **alb.verify_options)
    assert alb.key_requests == 2
    assert verify_alb_jwt(alb.mint(key="previous"), **alb.verify_options)


@pytest.mark.slow  # threads racing for a first fetch
def test_concurrent_first_use_of_a_kid_makes_one_fetch() -> None:
    alb = LocalALB(alb_arn=ARN)
    pem = alb.public_pem()
    with ScriptedServer() as server:

        def slow_pem(h: Any) -> None:
            time.sleep(0.3)  # long enough for every thread to be waiting for this fetch
            respond(200, pem, "text/plain")(h)

        server.routes[f"/keys/{alb.kid}"] = slow_pem
        options = dict(alb_arn=ARN, key_url=server.url + "/keys/{kid}")
        token = alb.mint()
        assert run_in_threads(16, lambda: verify_alb_jwt(token, **options)) == []
        assert server.count(f"/keys/{alb.kid}") == 1


def test_a_held_key_keeps_verifying_during_the_cooldown(alb: LocalALB) -> None:
    verify_alb_jwt(alb.mint(), **alb.verify_options)
    with pytest.raises(UnknownKeyError):
        verify_alb_jwt(alb.mint(header={"kid": NO_SUCH_KID}), **alb.verify_options)
    assert verify_alb_jwt(alb.mint("bob"), **alb.verify_options)["username"] == "bob"
    assert alb.key_requests == 2


# -- new kids: a failure remembered per kid, fetches within a budget (issue 19 S1) --------------

FORGER = ec.generate_private_key(ec.SECP256R1())  # a P-256 key no ALB published


class Clock:
    """The ALB key cache's monotonic clock, moved by hand: cool-downs and the fetch budget."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(alb: LocalALB) -> Clock:
    """The process-wide key cache of ``alb``'s key URL, on a clock the test moves."""
    fake = Clock()
    alb_key_cache(alb.key_url).clock = fake
    return fake


def _forged(alb: LocalALB, kid: Optional[str] = None) -> str:
    """What anyone can send: the ALB's public signer, a made-up UUID kid, a signature by a key
    the ALB never published."""
    return alb.mint(header={"kid": kid or str(uuid.uuid4())}, key=FORGER)


def test_a_forged_kid_does_not_lock_out_a_genuine_new_kid(alb: LocalALB) -> None:
    """The 404 of a made-up kid refuses that kid alone: the ALB's next kid is fetched."""
    assert verify_alb_jwt(alb.mint(), **alb.verify_options)
    with pytest.raises(UnknownKeyError):
        verify_alb_jwt(_forged(alb), **alb.verify_options)
    alb.rotate_key()
    assert verify_alb_jwt(alb.mint("bob"), **alb.verify_options)["username"] == "bob"
    assert alb.key_requests == 3


def test_a_kid_that_failed_is_not_fetched_again_within_its_cooldown(
    alb: LocalALB, clock: Clock
) -> None:
    cooldown = alb_key_cache(alb.key_url).cooldown
    forged = _forged(alb, NO_SUCH_KID)
    with pytest.raises(UnknownKeyError, match="has no key"):
        verify_alb_jwt(forged, **alb.verify_options)
    for _ in range(5):
        with pytest.raises(UnknownKeyError, match="asked again after"):
            verify_alb_jwt(forged, **alb.verify_options)
    assert alb.requests_seen == [("GET", f"/{NO_SUCH_KID}")]
    clock.advance(cooldown - 0.5)
    with pytest.raises(UnknownKeyError):
        verify_alb_jwt(forged, **alb.verify_options)
    assert alb.key_requests == 1
    assert verify_alb_jwt(alb.mint(), **alb.verify_options)  # another kid: fetched meanwhile
    assert alb.key_requests == 2
    clock.advance(0.5)  # the cool-down is over: the kid is asked for once more
    with pytest.raises(UnknownKeyError):
        verify_alb_jwt(forged, **alb.verify_options)
    assert alb.requests_seen[2:] == [("GET", f"/{NO_SUCH_KID}")]


def test_the_failed_kids_remembered_are_bounded(alb: LocalALB, clock: Clock) -> None:
    """An attacker sends unlimited random kids: the memory of failures keeps the newest."""
    cache = alb_key_cache(alb.key_url)
    cache.max_failed_kids = 4
    kids = [str(uuid.UUID(int=i, version=4)) for i in range(1, 9)]
    for kid in kids:
        with pytest.raises(UnknownKeyError):
            verify_alb_jwt(_forged(alb, kid), **alb.verify_options)
    assert cache.failed_kids == tuple(kids[-4:])
    with pytest.raises(UnknownKeyError):
        verify_alb_jwt(_forged(alb, kids[-1]), **alb.verify_options)
    assert alb.key_requests == 8  # still remembered: no request
    with pytest.raises(UnknownKeyError):
        verify_alb_jwt(_forged(alb, kids[0]), **alb.verify_options)
    assert alb.key_requests == 9  # forgotten for room: asked again (within the budget)
    clock.advance(cache.cooldown)
    with pytest.raises(UnknownKeyError):
        verify_alb_jwt(_forged(alb, NO_SUCH_KID), **alb.verify_options)
    assert cache.failed_kids == (NO_SUCH_KID,)  # the ended cool-downs are dropped first


def test_when_the_fetch_budget_is_spent_a_new_kid_is_a_connection_error(
    alb: LocalALB, clock: Clock
) -> None:
    """Never a 401 for a kid not asked about: a 503 (try later) until the budget refills."""
    cache = alb_key_cache(alb.key_url)
    assert (cache.fetch_burst, cache.fetch_rate) == (DEFAULT_FETCH_BURST, DEFAULT_FETCH_RATE)
    assert verify_alb_jwt(alb.mint(), **alb.verify_options)
    for _ in range(DEFAULT_FETCH_BURST - 1):
        with pytest.raises(UnknownKeyError):
            verify_alb_jwt(_forged(alb), **alb.verify_options)
    alb.rotate_key()
    token = alb.mint("bob")
    for forged_first in (True, False):
        with pytest.raises(CognitoConnectionError, match=r"try again in 1\.0 s"):
            verify_alb_jwt(_forged(alb) if forged_first else token, **alb.verify_options)
    assert verify_alb_jwt(alb.mint(key="previous"), **alb.verify_options)  # a held key verifies
    assert alb.key_requests == DEFAULT_FETCH_BURST
    clock.advance(0.5)
    with pytest.raises(CognitoConnectionError, match=r"try again in 0\.5 s"):
        verify_alb_jwt(token, **alb.verify_options)
    clock.advance(0.5)
    assert verify_alb_jwt(token, **alb.verify_options)["username"] == "bob"
    assert alb.key_requests == DEFAULT_FETCH_BURST + 1


def test_a_steady_forger_does_not_stop_a_genuine_user_across_a_rotation(
    alb: LocalALB, clock: Clock
) -> None:
    """Issue 19's scenario on the cache's clock, at a rate the budget sustains: a forged
    request each second (a new random kid), a genuine user twice a second, 25 s, the ALB
    rotating its key after 5 s. Before: after the first forgery every new kid was a 401 for
    the cool-down, so the rotated kid was refused for as long as the forgeries went on."""
    outcomes: List[str] = []
    for tick in range(50):  # half seconds
        if tick == 10:
            alb.rotate_key()
        if tick % 2 == 0:
            with pytest.raises(UnknownKeyError):
                verify_alb_jwt(_forged(alb), **alb.verify_options)
        outcomes.append(verify_alb_jwt(alb.mint("alice"), **alb.verify_options)["username"])
        clock.advance(0.5)
    assert outcomes == ["alice"] * 50
    assert alb.key_requests == 25 + 2  # each forged kid once, each genuine kid once


def test_a_flood_of_forged_kids_gives_a_genuine_new_kid_503s_never_401s(
    alb: LocalALB, clock: Clock
) -> None:
    """The issue's measured flood (5 forged requests a second, a genuine user at 2 a second,
    25 s, a rotation after 5 s), faster than the budget refills: the genuine user may be told
    to try later while the forgeries take the fetches, never that the kid is unknown, and the
    key requests stay within the budget; once the flood stops the new kid verifies."""
    verdicts: Dict[str, int] = {}
    for step in range(250):  # tenths of a second
        if step == 50:
            alb.rotate_key()
        if step % 2 == 0:
            with pytest.raises((UnknownKeyError, CognitoConnectionError)):
                verify_alb_jwt(_forged(alb), **alb.verify_options)
        if step % 5 == 1:
            try:
                verify_alb_jwt(alb.mint("alice"), **alb.verify_options)
                verdicts["verified"] = verdicts.get("verified", 0) + 1
            except CognitoConnectionError:
                verdicts["try later"] = verdicts.get("try later", 0) + 1
        clock.advance(0.1)
    assert sum(verdicts.values()) == 50  # no 401: UnknownKeyError would have escaped
    assert alb.key_requests <= DEFAULT_FETCH_BURST + 25 * DEFAULT_FETCH_RATE + 1
    clock.advance(1.5 / DEFAULT_FETCH_RATE)
    assert verify_alb_jwt(alb.mint("alice"), **alb.verify_options)


def test_the_budget_cooldown_and_clock_are_options_of_the_key_cache(alb: LocalALB) -> None:
    fake = Clock()
    cache = AlbKeyCache(
        alb.key_url, cooldown=2, fetch_burst=2, fetch_rate=0.5, max_failed_kids=8, clock=fake
    )
    for kid in (NO_SUCH_KID, str(uuid.uuid4())):
        with pytest.raises(UnknownKeyError):
            cache.get_key(kid)
    with pytest.raises(CognitoConnectionError, match=r"try again in 2\.0 s"):
        cache.get_key(alb.kid)
    fake.advance(1.5)
    with pytest.raises(UnknownKeyError):  # remembered: refused without spending the budget
        cache.get_key(NO_SUCH_KID)
    with pytest.raises(CognitoConnectionError, match=r"try again in 0\.5 s"):
        cache.get_key(alb.kid)
    fake.advance(0.5)
    assert cache.get_key(alb.kid).kid == alb.kid
    assert alb.key_requests == cache.fetches == 3


@pytest.mark.parametrize(
    "option",
    [
        {"fetch_burst": 0},
        {"fetch_burst": 1.5},
        {"fetch_burst": True},
        {"fetch_rate": 0},
        {"fetch_rate": -1.0},
        {"fetch_rate": float("nan")},
        {"fetch_rate": float("inf")},
        {"fetch_rate": "1"},
        {"max_failed_kids": 0},
        {"cooldown": -1},
    ],
    ids=str,
)
def test_a_bad_key_cache_option_is_a_value_error(option: Dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        AlbKeyCache("https://keys.example.com/{kid}", **option)


def test_a_key_endpoint_that_fails_cools_down_every_new_kid(key_server: ScriptedServer) -> None:
    """A 5xx or an unreachable endpoint is the endpoint being down, not a kid's absence (no
    kid an attacker chooses makes it fail): fetching stops for every kid for the cool-down."""
    alb = LocalALB(alb_arn=ARN)
    key_url = key_server.url + "/k/{kid}"
    key_server.routes[f"/k/{NO_SUCH_KID}"] = _served(b"busy", 503)
    key_server.routes[f"/k/{alb.kid}"] = _served(alb.public_pem())
    with pytest.raises(CognitoConnectionError, match="HTTP 503"):
        verify_alb_jwt(_forged(alb, NO_SUCH_KID), alb_arn=ARN, key_url=key_url)
    with pytest.raises(CognitoConnectionError, match="failed moments ago"):
        verify_alb_jwt(alb.mint(), alb_arn=ARN, key_url=key_url)
    assert len(key_server.requests) == 1
    alb_key_cache(key_url).penalty_box.release()  # the cool-down is over
    assert verify_alb_jwt(alb.mint(), alb_arn=ARN, key_url=key_url)


def alb_doc_section(name: str) -> str:
    """The "Behind an Application Load Balancer" section of SECURITY.md, or the page of the
    documentation (docs/alb.md) for "README.md", where the README's section moved."""
    if name == "README.md":
        text = (Path(__file__).parents[1] / "docs" / "alb.md").read_text(encoding="utf-8")
        return " ".join(text.split())
    text = (Path(__file__).parents[1] / name).read_text(encoding="utf-8")
    start = text.index("\n## Behind an Application Load Balancer")
    end = text.find("\n## ", start + 1)
    return " ".join(text[start : end if end > 0 else None].split())


def test_the_docs_give_the_fetch_budget_the_key_cache_has() -> None:
    assert (DEFAULT_FETCH_BURST, DEFAULT_FETCH_RATE, MAX_FAILED_KIDS) == (10, 1.0, 1024)
    readme, security = alb_doc_section("README.md"), alb_doc_section("SECURITY.md")
    for section in (readme, security):
        assert "10 at once, then one a second" in section
        assert "never another" in section or "never refuses another" in section
    assert "`fetch_burst` and `fetch_rate`" in readme
    assert "AlbKeyCache(fetch_burst=10, fetch_rate=1.0)" in security
    assert "at most 1,024 failed kids" in security


def test_a_call_out_of_time_before_its_fetch_leaves_other_calls_free_to_fetch(
    alb: LocalALB,
) -> None:
    """No request was made, so nothing says the endpoint fails: no cool-down follows."""
    with pytest.raises(CognitoConnectionError, match="time ran out"):
        verify_alb_jwt(alb.mint(), **alb.verify_options, timeout=1e-9)
    assert alb.key_requests == 0
    assert verify_alb_jwt(alb.mint(), **alb.verify_options)
    assert alb.key_requests == 1


def test_a_kid_that_is_not_a_uuid_is_refused_even_where_a_key_is_served(
    key_server: ScriptedServer,
) -> None:
    """An ALB's kids are UUIDs (aws-jwt-verify refuses any other): no request for another."""
    alb = LocalALB(alb_arn=ARN)
    key_server.routes["/k/my-key_1"] = _served(alb.public_pem())
    token = alb.mint(header={"kid": "my-key_1"})
    with pytest.raises(MalformedTokenError, match="UUID"):
        verify_alb_jwt(token, alb_arn=ARN, key_url=key_server.url + "/k/{kid}")
    cache = alb_key_cache(key_server.url + "/k/{kid}")
    for kid in ("my-key_1", "../k/" + alb.kid, alb.kid + "/x", 7):
        with pytest.raises(UnknownKeyError):
            cache.get_key(kid)  # type: ignore[arg-type]
    assert key_server.requests == []
    key_server.routes[f"/k/{alb.kid.upper()}"] = _served(alb.public_pem())
    upper = alb.mint(header={"kid": alb.kid.upper()})  # a UUID in capitals is still one
    assert verify_alb_jwt(upper, alb_arn=ARN, key_url=key_server.url + "/k/{kid}")


def test_a_kid_withdrawn_by_the_alb_is_unknown() -> None:
    with LocalALB(alb_arn=ARN) as alb:
        token = alb.mint()
        alb.rotate_key(keep_old=False)
        with pytest.raises(UnknownKeyError):
            verify_alb_jwt(token, **alb.verify_options)


def _served(body: Any, status: int = 200, content_type: str = "text/plain") -> Any:
    return respond(status, body, content_type)


@pytest.fixture
def key_server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as server:
        yield server


def _verify_from(server: ScriptedServer, alb: LocalALB, **options: Any) -> Any:
    return verify_alb_jwt(
        alb.mint(), alb_arn=alb.alb_arn, key_url=server.url + "/k/{kid}", **options
    )


def _other_key_pem(key: Any) -> bytes:
    return key.public_key().public_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _private_pem(key: Any) -> bytes:
    return key.private_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@pytest.mark.parametrize("status", [500, 502, 503, 429, 400, 401], ids=lambda s: f"http-{s}")
def test_a_failing_key_endpoint_is_a_connection_error(
    key_server: ScriptedServer, status: int
) -> None:
    alb = LocalALB(alb_arn=ARN)
    key_server.routes[f"/k/{alb.kid}"] = _served(b"busy", status)
    with pytest.raises(CognitoConnectionError):
        _verify_from(key_server, alb)


@pytest.mark.parametrize("status", [403, 404])
def test_a_kid_the_endpoint_does_not_have_is_unknown(
    key_server: ScriptedServer, status: int
) -> None:
    alb = LocalALB(alb_arn=ARN)
    key_server.routes[f"/k/{alb.kid}"] = _served(b"<Error/>", status, "application/xml")
    with pytest.raises(UnknownKeyError):
        _verify_from(key_server, alb)


def test_a_key_endpoint_that_is_down_is_a_connection_error_and_cools_down() -> None:
    alb = LocalALB(alb_arn=ARN)
    key_url = f"http://127.0.0.1:{closed_port()}/{{kid}}"
    with pytest.raises(CognitoConnectionError):
        verify_alb_jwt(alb.mint(), alb_arn=ARN, key_url=key_url)
    with pytest.raises(CognitoConnectionError, match="failed moments ago"):
        verify_alb_jwt(alb.mint(header={"kid": NO_SUCH_KID}), alb_arn=ARN, key_url=key_url)
    assert alb_key_cache(key_url).fetches == 1


def test_a_slow_key_endpoint_is_given_up_on_at_the_timeout(key_server: ScriptedServer) -> None:
    alb = LocalALB(alb_arn=ARN)
    key_server.routes[f"/k/{alb.kid}"] = hold(10)
    with pytest.raises(CognitoConnectionError):
        _verify_from(key_server, alb, timeout=0.2)


def test_a_redirect_from_the_key_endpoint_is_not_followed(key_server: ScriptedServer) -> None:
    alb = LocalALB(alb_arn=ARN)
    key_server.routes[f"/k/{alb.kid}"] = redirect(302, key_server.url + "/elsewhere")
    key_server.routes["/elsewhere"] = _served(alb.public_pem())
    with pytest.raises(CognitoConnectionError):
        _verify_from(key_server, alb)
    assert key_server.count("/elsewhere") == 0


def test_an_oversized_key_answer_is_refused(key_server: ScriptedServer) -> None:
    alb = LocalALB(alb_arn=ARN)
    key_server.routes[f"/k/{alb.kid}"] = _served(alb.public_pem() + b" " * (1 << 20))
    with pytest.raises(CognitoConnectionError):
        _verify_from(key_server, alb)


@pytest.mark.parametrize(
    "body",
    [
        b"<html>captive portal</html>",
        b"",
        b"-----BEGIN PUBLIC KEY-----\nnot base64 at all!\n-----END PUBLIC KEY-----\n",
        b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    ],
    ids=["html", "empty", "not-base64", "not-a-key"],
)
def test_a_key_answer_that_is_no_pem_key_is_a_connection_error(
    key_server: ScriptedServer, body: bytes
) -> None:
    alb = LocalALB(alb_arn=ARN)
    key_server.routes[f"/k/{alb.kid}"] = _served(body)
    with pytest.raises(CognitoConnectionError):
        _verify_from(key_server, alb)


def test_two_pem_blocks_are_refused(key_server: ScriptedServer) -> None:
    alb = LocalALB(alb_arn=ARN)
    key_server.routes[f"/k/{alb.kid}"] = _served(alb.public_pem() + alb.public_pem())
    with pytest.raises(CognitoConnectionError):
        _verify_from(key_server, alb)


@pytest.mark.parametrize(
    "make_pem",
    [
        lambda alb: _other_key_pem(_RSA),
        lambda alb: _other_key_pem(_P384),
        lambda alb: _other_key_pem(ed25519.Ed25519PrivateKey.generate()),
        lambda alb: _private_pem(alb.private_key),
        lambda alb: b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    ],
    ids=["rsa", "p384", "ed25519", "the-private-key", "certificate"],
)
def test_a_key_that_is_not_p256_public_is_unknown(
    key_server: ScriptedServer, make_pem: Callable[[LocalALB], bytes]
) -> None:
    alb = LocalALB(alb_arn=ARN)
    key_server.routes[f"/k/{alb.kid}"] = _served(make_pem(alb))
    with pytest.raises(UnknownKeyError):
        _verify_from(key_server, alb)


def test_a_pem_with_crlf_line_ends_is_read(key_server: ScriptedServer) -> None:
    alb = LocalALB(alb_arn=ARN)
    key_server.routes[f"/k/{alb.kid}"] = _served(alb.public_pem().replace(b"\n", b"\r\n"))
    assert _verify_from(key_server, alb)["username"] == "local-user"


# -- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "arn",
    [
        "",
        "my-alb",
        ARN.replace("elasticloadbalancing", "ec2"),
        ARN.replace("loadbalancer/app/", "loadbalancer/net/"),
        ARN.replace("arn:aws:", "arn:aws-evil:"),
        ARN.replace("us-east-1", "us_east_1"),
        ARN.replace("us-east-1", "mars"),
        ARN.replace("123456789012", "1234"),
        ARN + "\n",
        [],
        [ARN, 5],
        None,
        5,
    ],
)
def test_a_malformed_alb_arn_is_a_config_error(ctx: Ctx, arn: Any) -> None:
    with pytest.raises(ConfigError):
        verify_alb_jwt(ctx.signed(), **{**ctx.options, "alb_arn": arn})
    assert ctx.alb.requests_seen == []


@pytest.mark.parametrize(
    "key_url",
    [
        "https://keys.example.com/",
        "https://keys.example.com/{kid}/{kid}",
        "https://{kid}.example.com/key",
        "https://keys.example.com/{kid}/{other}",
        "https://keys.example.com/{kid.__class__}",
        "http://keys.example.com/{kid}",
        "ftp://keys.example.com/{kid}",
        "https://keys.example.com/{kid}#x",
        "https://user@keys.example.com/{kid}",
        "keys.example.com/{kid}",
        b"https://keys.example.com/{kid}",
    ],
)
def test_a_malformed_key_url_is_a_config_error(ctx: Ctx, key_url: Any) -> None:
    with pytest.raises(ConfigError):
        verify_alb_jwt(ctx.signed(), **{**ctx.options, "key_url": key_url})


@pytest.mark.parametrize(
    ("arn", "region", "expected"),
    [
        (ARN, None, "https://public-keys.auth.elb.us-east-1.amazonaws.com/{kid}"),
        (ARN, "eu-west-1", "https://public-keys.auth.elb.eu-west-1.amazonaws.com/{kid}"),
        (
            ARN.replace("arn:aws:", "arn:aws-us-gov:").replace("us-east-1", "us-gov-west-1"),
            None,
            "https://s3-us-gov-west-1.amazonaws.com/aws-elb-public-keys-prod-us-gov-west-1/{kid}",
        ),
        (
            ARN.replace("arn:aws:", "arn:aws-us-gov:").replace("us-east-1", "us-gov-east-1"),
            None,
            "https://s3-us-gov-east-1.amazonaws.com/aws-elb-public-keys-prod-us-gov-east-1/{kid}",
        ),
    ],
)
def test_the_default_key_url_is_aws_endpoint_for_the_region(
    arn: str, region: Optional[str], expected: str
) -> None:
    from cognito_helper.verification.alb_settings import alb_settings

    assert alb_settings(arn, region, None, None, None).key_url == expected


def test_a_key_url_template_may_name_the_region() -> None:
    assert (
        alb_key_url("https://keys.example.com/{region}/{kid}", None, ["eu-north-1"])
        == "https://keys.example.com/eu-north-1/{kid}"
    )


def test_arns_of_several_regions_need_a_region() -> None:
    west = ARN.replace("us-east-1", "us-west-2")
    with pytest.raises(ConfigError, match="region"):
        verify_alb_jwt("a.b.c", alb_arn=[ARN, west])
    with pytest.raises(MalformedTokenError):  # the configuration is fine: the token is not
        verify_alb_jwt("a.b.c", alb_arn=[ARN, west], region="us-east-1")


def test_the_china_regions_need_a_key_url() -> None:
    china = ARN.replace("arn:aws:", "arn:aws-cn:").replace("us-east-1", "cn-north-1")
    with pytest.raises(ConfigError, match="key_url"):
        verify_alb_jwt("a.b.c", alb_arn=china)
    with pytest.raises(MalformedTokenError):
        verify_alb_jwt("a.b.c", alb_arn=china, key_url="https://keys.example.cn/{kid}")


@pytest.mark.parametrize("region", ["us_east_1", "US-EAST-1", "../x", 5])
def test_a_malformed_region_is_a_config_error(region: Any) -> None:
    with pytest.raises(ConfigError):
        verify_alb_jwt("a.b.c", alb_arn=ARN, region=region)


@pytest.mark.parametrize(
    ("name", "value"), [("client_id", ""), ("client_id", [""]), ("client_id", 5), ("issuer", 5)]
)
def test_a_malformed_client_or_issuer_is_a_config_error(name: str, value: Any) -> None:
    with pytest.raises(ConfigError):
        verify_alb_jwt("a.b.c", alb_arn=ARN, **{name: value})


@pytest.mark.parametrize("leeway", [-1, "5", True, float("nan"), 1e10])
def test_a_bad_leeway_is_a_value_error(leeway: Any) -> None:
    with pytest.raises(ValueError, match="leeway"):
        verify_alb_jwt("a.b.c", alb_arn=ARN, leeway=leeway)


@pytest.mark.parametrize("timeout", [0, -1, "5", True, float("nan"), None])
def test_a_bad_timeout_is_a_value_error(timeout: Any) -> None:
    with pytest.raises(ValueError, match="timeout"):
        verify_alb_jwt("a.b.c", alb_arn=ARN, timeout=timeout)


# -- verify_alb_request -------------------------------------------------------------------------


@pytest.fixture
def site(lc: LocalCognito) -> Iterator[LocalALB]:
    with LocalALB(lc, alb_arn=ARN) as alb:
        yield alb


def test_a_request_from_the_alb_gives_the_user_and_the_access_token(
    lc: LocalCognito, site: LocalALB
) -> None:
    identity = verify_alb_request(site.headers(USER), config=lc.config, **site.verify_options)
    assert isinstance(identity, AlbIdentity)
    assert identity.claims["username"] == USER
    assert identity.access_claims is not None
    assert identity.access_claims["sub"] == identity.claims["sub"]
    assert identity.access_claims["token_use"] == "access"


@pytest.mark.parametrize(
    "spell", [str.upper, str.title, lambda n: n], ids=["upper", "title", "lower"]
)
def test_header_names_are_matched_in_any_case(site: LocalALB, spell: Callable[[str], str]) -> None:
    headers = {spell(name): value for name, value in site.headers(USER).items()}
    assert verify_alb_request(headers, **site.verify_options).claims["username"] == USER


def test_werkzeug_headers_are_accepted(site: LocalALB) -> None:
    from werkzeug.datastructures import Headers

    headers = Headers([*site.headers(USER).items(), ("Host", "app.example.com")])
    assert verify_alb_request(headers, **site.verify_options).access_claims is None


def test_without_a_config_the_access_token_is_not_looked_at(site: LocalALB) -> None:
    headers = site.headers(USER, access_token="not a token at all")
    assert verify_alb_request(headers, **site.verify_options).access_claims is None


@pytest.mark.parametrize("name", ["x-amzn-oidc-data", "x-amzn-oidc-identity"])
def test_a_request_without_the_data_or_identity_header_is_malformed(
    site: LocalALB, name: str
) -> None:
    headers = site.headers(USER)
    del headers[name]
    with pytest.raises(MalformedTokenError, match=name):
        verify_alb_request(headers, **site.verify_options)


def test_a_repeated_data_header_is_malformed(site: LocalALB) -> None:
    headers: Dict[str, Any] = site.headers(USER)
    headers["X-Amzn-Oidc-Data"] = site.mint("local-user")
    with pytest.raises(MalformedTokenError, match="2"):
        verify_alb_request(headers, **site.verify_options)


@pytest.mark.parametrize("value", [b"abc", ["a.b.c"], None, 5])
def test_a_data_header_that_is_not_a_str_is_malformed(site: LocalALB, value: Any) -> None:
    headers: Dict[str, Any] = site.headers(USER)
    headers["x-amzn-oidc-data"] = value
    with pytest.raises(MalformedTokenError):
        verify_alb_request(headers, **site.verify_options)


def test_headers_that_are_not_a_mapping_are_malformed(site: LocalALB) -> None:
    with pytest.raises(MalformedTokenError):
        verify_alb_request(list(site.headers(USER).items()), **site.verify_options)  # type: ignore[arg-type]


def test_an_identity_header_of_another_user_is_refused(site: LocalALB) -> None:
    headers = site.headers(USER)
    headers["x-amzn-oidc-identity"] = site.headers("local-user")["x-amzn-oidc-identity"]
    with pytest.raises(InvalidClaimsError) as info:
        verify_alb_request(headers, **site.verify_options)
    assert info.value.claim == "sub"
    assert info.value.claims is not None and info.value.claims["username"] == USER


def test_data_without_a_sub_is_refused(site: LocalALB) -> None:
    headers = site.headers(USER, claims={"sub": None})
    with pytest.raises(InvalidClaimsError) as info:
        verify_alb_request(headers, **site.verify_options)
    assert info.value.claim == "sub"


def test_an_access_token_of_another_user_is_refused(lc: LocalCognito, site: LocalALB) -> None:
    headers = site.headers(USER)
    headers["x-amzn-oidc-accesstoken"] = site.headers("local-user")["x-amzn-oidc-accesstoken"]
    with pytest.raises(InvalidClaimsError) as info:
        verify_alb_request(headers, config=lc.config, **site.verify_options)
    assert info.value.claim == "sub"


def test_an_id_token_in_place_of_the_access_token_is_refused(
    lc: LocalCognito, site: LocalALB
) -> None:
    sub = site.headers(USER)["x-amzn-oidc-identity"]
    headers = site.headers(USER, access_token=lc.mint("id", sub=sub))
    with pytest.raises(InvalidClaimsError) as info:
        verify_alb_request(headers, config=lc.config, **site.verify_options)
    assert info.value.claim == "token_use"


def test_a_forged_access_token_is_refused(lc: LocalCognito, site: LocalALB) -> None:
    with pytest.raises(MalformedTokenError):
        verify_alb_request(
            site.headers(USER, access_token="a.b.c"), config=lc.config, **site.verify_options
        )


def test_with_a_config_a_missing_access_token_is_malformed(
    lc: LocalCognito, site: LocalALB
) -> None:
    headers = site.headers(USER)
    del headers["x-amzn-oidc-accesstoken"]
    with pytest.raises(MalformedTokenError, match="accesstoken"):
        verify_alb_request(headers, config=lc.config, **site.verify_options)


def test_a_forged_data_header_fails_before_the_identity_is_compared(site: LocalALB) -> None:
    headers = site.headers(USER, key=ec.generate_private_key(ec.SECP256R1()))
    headers["x-amzn-oidc-identity"] = "someone-else"
    with pytest.raises(InvalidSignatureError):
        verify_alb_request(headers, **site.verify_options)


# -- LocalALB -----------------------------------------------------------------------------------


def test_local_alb_mints_padded_segments_and_a_raw_signature(site: LocalALB) -> None:
    token = site.headers(USER)["x-amzn-oidc-data"]
    head, body, sig = token.split(".")
    assert all(len(s) % 4 == 0 for s in (head, body, sig))
    assert len(base64.urlsafe_b64decode(sig)) == 64
    header = json.loads(base64.urlsafe_b64decode(head))
    assert header["alg"] == "ES256" and header["signer"] == ARN
    assert header["kid"] == site.kid and uuid.UUID(header["kid"])
    assert header["exp"] == json.loads(base64.urlsafe_b64decode(body))["exp"]


def test_local_alb_serves_each_published_key_and_nothing_else(site: LocalALB) -> None:
    import requests

    got = requests.get(site.url + f"/{site.kid}", timeout=5)
    assert got.status_code == 200 and got.content == site.public_pem()
    assert requests.get(site.url + "/no-such-kid", timeout=5).status_code == 404
    assert site.key_requests == 2
    assert site.server_errors == []


def test_local_alb_claims_follow_local_cognito_users(lc: LocalCognito, site: LocalALB) -> None:
    claims = site.user_claims(USER)
    assert claims["username"] == USER and claims["email_verified"] == "true"
    with pytest.raises(ValueError, match="no user"):
        site.user_claims("nobody")


def test_local_alb_follows_the_local_cognito_clock(lc: LocalCognito, site: LocalALB) -> None:
    headers = site.headers(USER)
    assert verify_alb_request(headers, **site.verify_options)
    lc.advance_clock(-site.token_lifetime)  # minted a lifetime ago: expired now
    with pytest.raises(TokenExpiredError):
        verify_alb_request(site.headers(USER), **site.verify_options)


def test_local_alb_without_local_cognito_makes_users_up() -> None:
    with LocalALB() as alb:
        headers = alb.headers("carol")
        assert headers["x-amzn-oidc-identity"] == alb.headers("carol")["x-amzn-oidc-identity"]
        assert headers["x-amzn-oidc-accesstoken"].count(".") == 0
        identity = verify_alb_request(headers, **alb.verify_options)
        assert identity.claims["username"] == "carol"


def test_local_alb_refuses_a_previous_key_before_any_rotation() -> None:
    alb = LocalALB()
    with pytest.raises(ValueError, match="previous"):
        alb.mint(key="previous")


def test_local_alb_refuses_a_malformed_arn() -> None:
    with pytest.raises(ValueError):
        LocalALB(alb_arn="my-alb")


# -- the padded base64url rule ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", b""),
        ("QQ", b"A"),
        ("QQ==", b"A"),
        ("QUI", b"AB"),
        ("QUI=", b"AB"),
        ("QUJD", b"ABC"),
    ],
)
def test_padded_base64url_accepts_padding_of_the_right_length(text: str, expected: bytes) -> None:
    assert b64url_decode_padded(text) == expected


@pytest.mark.parametrize("text", ["QQ=", "QQ===", "QUI==", "QUJD=", "QUJD==", "Q", "Q===", "QR=="])
def test_padded_base64url_refuses_any_other_padding(text: str) -> None:
    with pytest.raises(ValueError):
        b64url_decode_padded(text)


def test_importing_the_package_does_not_import_the_alb_module() -> None:
    import subprocess
    import sys

    code = "import sys, cognito_helper; sys.exit('cognito_helper.verification.alb' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
