"""Hostile tokens: one table of named cases, each with the exact error it must raise.

Every case runs against a real loopback JWKS, with the clock pinned, and with a watched
"hostile" server that serves an attacker's keys and certificates: whatever a token's header
says (``jku``, ``x5u``, a URL as ``kid``...), that server must receive nothing. No error message
may contain the token. The cases are grouped by the stage they attack: the algorithm, the key,
the structure, the claims and the signature.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass, replace
from typing import Any, Callable, Dict, Iterator, List, Optional, Union

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding

from cognito_helper import (
    CognitoConfig,
    InvalidClaimsError,
    InvalidSignatureError,
    MalformedTokenError,
    TokenExpiredError,
    UnknownKeyError,
    decode_verify_jwt,
    jwks_cache,
)

from .conftest import Issuer
from .helpers import (
    Case,
    at_hash,
    compact_form_cases,
    expiry_cases,
    refused_as_the_case_says,
    segments,
    tampered_signature_cases,
    with_signature,
)
from .hostile import changed, compact, hmac_sha256
from .servers import ScriptedServer, respond
from .tokens import CLIENT, POOL, KeyPair, b64, claims_for, x5c_entry

# -- the context every case builds its token in ---------------------------------------------


@dataclass
class Ctx:
    issuer: Issuer
    hostile: ScriptedServer
    attacker: KeyPair  # a well-formed RSA-2048 key the pool never published
    now: int

    @property
    def key(self) -> KeyPair:
        return self.issuer.key

    @property
    def kid(self) -> str:
        return self.issuer.key.kid

    def claims(self, kind: str = "id", /, **overrides: Any) -> Dict[str, Any]:
        claims = claims_for(kind, self.issuer.issuer)
        for name, value in overrides.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def signed(
        self,
        kind: str = "id",
        /,
        *,
        header: Optional[Dict[str, Any]] = None,
        key: Optional[KeyPair] = None,
        **overrides: Any,
    ) -> str:
        """A ``kind`` token signed RS256 by ``key`` (the pool's by default), claims changed
        by ``overrides`` (``None`` removes one)."""
        return (key or self.key).token(self.claims(kind, **overrides), header)

    def raw(
        self,
        header: Union[bytes, Dict[str, Any]],
        payload: Union[bytes, Dict[str, Any]],
        signature: Optional[bytes] = None,
        *,
        key: Optional[KeyPair] = None,
    ) -> str:
        """Exactly these header and payload bytes; signed RS256 by ``key`` unless a
        ``signature`` is given (so a case can be validly signed yet hostile)."""
        return compact(header, payload, sign=(key or self.key).sign_raw, signature=signature)

    def header(self, **changes: Any) -> Dict[str, Any]:
        return changed({"kid": self.kid, "alg": "RS256"}, changes)


# -- algorithm games ----------------------------------------------------------------------


def _public_pem(ctx: Ctx) -> bytes:
    return ctx.key.private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _public_der(ctx: Ctx) -> bytes:
    return ctx.key.private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _hs256(ctx: Ctx, secret: bytes, alg: str = "HS256") -> str:
    return _signed_with(ctx, alg, hmac_sha256(secret))


def _signed_with(ctx: Ctx, alg: str, sign: Callable[[bytes], bytes]) -> str:
    return compact(ctx.header(alg=alg), ctx.claims(), sign=sign)


def _rs(ctx: Ctx, alg: str, digest: hashes.HashAlgorithm) -> str:
    return _signed_with(ctx, alg, lambda m: ctx.key.private.sign(m, padding.PKCS1v15(), digest))


def _ps256(ctx: Ctx) -> str:
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    return _signed_with(ctx, "PS256", lambda m: ctx.key.private.sign(m, pss, hashes.SHA256()))


def _es256(ctx: Ctx) -> str:
    key = ec.generate_private_key(ec.SECP256R1())
    return _signed_with(ctx, "ES256", lambda m: key.sign(m, ec.ECDSA(hashes.SHA256())))


def _eddsa(ctx: Ctx) -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    return _signed_with(ctx, "EdDSA", key.sign)


def _none(ctx: Ctx, alg: str, signature: bytes = b"") -> str:
    return compact(ctx.header(alg=alg), ctx.claims(), signature=signature)


ALGORITHM = [
    Case(
        "alg-none-without-signature", "algorithm", lambda c: _none(c, "none"), MalformedTokenError
    ),
    Case(
        "alg-none-with-a-valid-rs256-signature",
        "algorithm",
        lambda c: c.signed(header={"alg": "none"}),
        MalformedTokenError,
    ),
    Case("alg-None", "algorithm", lambda c: _none(c, "None", b"x"), MalformedTokenError),
    Case("alg-NONE", "algorithm", lambda c: _none(c, "NONE", b"x"), MalformedTokenError),
    Case(
        "alg-HS256-keyed-with-the-public-PEM",
        "algorithm",
        lambda c: _hs256(c, _public_pem(c)),
        MalformedTokenError,
    ),
    Case(
        "alg-HS256-keyed-with-the-public-DER",
        "algorithm",
        lambda c: _hs256(c, _public_der(c)),
        MalformedTokenError,
    ),
    Case(
        "alg-HS256-keyed-with-the-jwk-n",
        "algorithm",
        lambda c: _hs256(c, c.key.jwk()["n"].encode()),
        MalformedTokenError,
    ),
    Case(
        "alg-HS256-keyed-with-the-jwk-json",
        "algorithm",
        lambda c: _hs256(c, json.dumps(c.key.jwk()).encode()),
        MalformedTokenError,
    ),
    Case(
        "alg-RS512-signed-by-the-rs256-key",
        "algorithm",
        lambda c: _rs(c, "RS512", hashes.SHA512()),
        MalformedTokenError,
    ),
    Case(
        "alg-RS384-signed-by-the-rs256-key",
        "algorithm",
        lambda c: _rs(c, "RS384", hashes.SHA384()),
        MalformedTokenError,
    ),
    Case("alg-PS256-signed-by-the-rsa-key", "algorithm", _ps256, MalformedTokenError),
    Case("alg-ES256", "algorithm", _es256, MalformedTokenError),
    Case("alg-EdDSA", "algorithm", _eddsa, MalformedTokenError),
    Case(
        "alg-missing",
        "algorithm",
        lambda c: c.signed(header={"alg": None}),
        MalformedTokenError,
    ),
    Case(
        "alg-as-a-list",
        "algorithm",
        lambda c: c.signed(header={"alg": ["RS256"]}),
        MalformedTokenError,
    ),
    Case(
        "alg-lower-case-rs256",
        "algorithm",
        lambda c: c.signed(header={"alg": "rs256"}),
        MalformedTokenError,
    ),
    Case(
        "alg-with-trailing-space",
        "algorithm",
        lambda c: c.signed(header={"alg": "RS256 "}),
        MalformedTokenError,
    ),
]


# -- key games ----------------------------------------------------------------------------


def _attacker_jwks(ctx: Ctx, kid: Optional[str] = None) -> Dict[str, Any]:
    return {"keys": [ctx.attacker.jwk(kid=kid or ctx.attacker.kid)]}


def _x5c(ctx: Ctx) -> str:
    """A self-signed certificate for the attacker's key, as a JWS x5c entry."""
    return x5c_entry(ctx.attacker.private, "cognito-idp.amazonaws.com")


def _with_extra_jwk(**extra: Any) -> Callable[[Ctx], str]:
    """The pool's JWKS also lists the attacker's key, unusable because of ``extra``."""

    def make(ctx: Ctx) -> str:
        ctx.issuer.jwks = [ctx.key.jwk(), ctx.attacker.jwk(**extra)]
        return ctx.signed(key=ctx.attacker, header={"kid": ctx.attacker.kid})

    return make


def _weak_key(ctx: Ctx) -> str:
    weak = KeyPair(kid="weak-1024", bits=1024)
    ctx.issuer.jwks = [ctx.key.jwk(), weak.jwk()]
    return ctx.signed(key=weak, header={"kid": weak.kid})


KEY = [
    Case("kid-missing", "key", lambda c: c.signed(header={"kid": None}), MalformedTokenError),
    Case("kid-empty", "key", lambda c: c.signed(header={"kid": ""}), MalformedTokenError),
    Case("kid-number", "key", lambda c: c.signed(header={"kid": 0}), MalformedTokenError),
    Case("kid-list", "key", lambda c: c.signed(header={"kid": [c.kid]}), MalformedTokenError),
    Case("kid-object", "key", lambda c: c.signed(header={"kid": {"$ne": ""}}), MalformedTokenError),
    Case("kid-boolean", "key", lambda c: c.signed(header={"kid": True}), MalformedTokenError),
    Case(
        "kid-unknown",
        "key",
        lambda c: c.signed(key=c.attacker, header={"kid": c.attacker.kid}),
        UnknownKeyError,
    ),
    Case(
        "kid-path-traversal",
        "key",
        lambda c: c.signed(key=c.attacker, header={"kid": "../../../../etc/passwd"}),
        UnknownKeyError,
    ),
    Case(
        "kid-is-a-url-to-the-watched-server",
        "key",
        lambda c: c.signed(key=c.attacker, header={"kid": c.hostile.url + "/jwks.json"}),
        UnknownKeyError,
    ),
    Case(
        "kid-sql-injection",
        "key",
        lambda c: c.signed(key=c.attacker, header={"kid": "' OR '1'='1"}),
        UnknownKeyError,
    ),
    Case(
        "kid-with-nul-byte",
        "key",
        lambda c: c.signed(key=c.attacker, header={"kid": c.kid + "\x00"}),
        UnknownKeyError,
    ),
    Case(
        "same-kid-different-key",
        "key",
        lambda c: c.signed(key=c.attacker, header={"kid": c.kid}),
        InvalidSignatureError,
    ),
    Case(
        "jku-to-the-watched-server",
        "key",
        lambda c: c.signed(
            key=c.attacker, header={"kid": c.attacker.kid, "jku": c.hostile.url + "/jwks.json"}
        ),
        UnknownKeyError,
    ),
    Case(
        "jku-to-the-watched-server-with-the-pools-kid",
        "key",
        lambda c: c.signed(
            key=c.attacker, header={"kid": c.kid, "jku": c.hostile.url + "/pool-kid-jwks.json"}
        ),
        InvalidSignatureError,
    ),
    Case(
        "x5u-to-the-watched-server",
        "key",
        lambda c: c.signed(
            key=c.attacker, header={"kid": c.attacker.kid, "x5u": c.hostile.url + "/cert.pem"}
        ),
        UnknownKeyError,
    ),
    Case(
        "jwk-header-with-the-attackers-key",
        "key",
        lambda c: c.signed(key=c.attacker, header={"kid": c.attacker.kid, "jwk": c.attacker.jwk()}),
        UnknownKeyError,
    ),
    Case(
        "jwk-header-with-the-attackers-key-under-the-pools-kid",
        "key",
        lambda c: c.signed(key=c.attacker, header={"kid": c.kid, "jwk": c.attacker.jwk(kid=c.kid)}),
        InvalidSignatureError,
    ),
    Case(
        "x5c-header-with-a-self-signed-certificate",
        "key",
        lambda c: c.signed(key=c.attacker, header={"kid": c.attacker.kid, "x5c": [_x5c(c)]}),
        UnknownKeyError,
    ),
    Case(
        "x5c-header-under-the-pools-kid",
        "key",
        lambda c: c.signed(key=c.attacker, header={"kid": c.kid, "x5c": [_x5c(c)]}),
        InvalidSignatureError,
    ),
    Case(
        "crit-header",
        "key",
        lambda c: c.signed(header={"crit": ["exp"], "exp": 1}),
        MalformedTokenError,
    ),
    Case(
        "kid-of-an-encryption-key-in-the-jwks",
        "key",
        _with_extra_jwk(use="enc"),
        UnknownKeyError,
    ),
    Case("kid-of-an-rs512-jwk", "key", _with_extra_jwk(alg="RS512"), UnknownKeyError),
    Case("kid-of-an-ec-jwk", "key", _with_extra_jwk(kty="EC"), UnknownKeyError),
    Case("kid-of-a-1024-bit-key", "key", _weak_key, UnknownKeyError),
]


# -- structure ----------------------------------------------------------------------------


def _payload_with_duplicate(ctx: Ctx, member: bytes) -> str:
    """A validly signed token whose payload then gets ``member`` repeated at its end."""
    head, body, sig = segments(ctx.signed())
    payload = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    return f"{head}.{b64(payload[:-1] + b', ' + member + b'}')}.{sig}"


def _deep(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


STRUCTURE = [
    *compact_form_cases(),
    Case(
        "five-segments-like-a-jwe-refresh-token",
        "structure",
        lambda c: c.signed() + ".AAAA.BBBB",
        MalformedTokenError,
    ),
    Case(
        "empty-header-segment",
        "structure",
        lambda c: "." + ".".join(segments(c.signed())[1:]),
        MalformedTokenError,
    ),
    Case(
        "empty-payload-segment",
        "structure",
        lambda c: "{0}..{2}".format(*segments(c.signed())),
        MalformedTokenError,
    ),
    Case("base64-padding", "structure", lambda c: c.signed() + "==", MalformedTokenError),
    Case(
        "non-ascii-character",
        "structure",
        lambda c: c.signed()[:-1] + "\u00e9",
        MalformedTokenError,
    ),
    Case(
        "fullwidth-digit",
        "structure",
        lambda c: c.signed()[:-1] + "\uff11",
        MalformedTokenError,
    ),
    Case(
        "impossible-base64-length",
        "structure",
        lambda c: c.signed() + "AAA",  # 342 + 3 characters: 1 mod 4, no base64 length
        MalformedTokenError,
    ),
    Case(
        "header-json-null", "structure", lambda c: c.raw(b"null", c.claims()), MalformedTokenError
    ),
    Case(
        "header-json-number", "structure", lambda c: c.raw(b"256", c.claims()), MalformedTokenError
    ),
    Case(
        "header-json-string",
        "structure",
        lambda c: c.raw(b'"RS256"', c.claims()),
        MalformedTokenError,
    ),
    Case(
        "header-deeply-nested",
        "structure",
        lambda c: c.raw(b'{"alg":"RS256","kid":"kid-0","x":' + _deep(100_000) + b"}", c.claims()),
        MalformedTokenError,
    ),
    Case(
        "header-huge-number",
        "structure",
        lambda c: c.raw(b'{"alg":"RS256","kid":"kid-0","x":1' + b"0" * 5000 + b"}", c.claims()),
        MalformedTokenError,
    ),
    Case(
        "header-duplicate-alg-none-last",
        "structure",
        lambda c: c.raw(b'{"kid":"kid-0","alg":"RS256","alg":"none"}', c.claims()),
        MalformedTokenError,
    ),
    Case(
        "header-duplicate-alg-none-first",
        "structure",
        lambda c: c.raw(b'{"kid":"kid-0","alg":"none","alg":"RS256"}', c.claims()),
        MalformedTokenError,
    ),
    Case(
        "header-duplicate-kid",
        "structure",
        lambda c: c.raw(b'{"alg":"RS256","kid":"attacker","kid":"kid-0"}', c.claims()),
        MalformedTokenError,
    ),
    # The payload cases are validly signed by the pool's key: the parser must hold even so.
    Case(
        "payload-json-null-signed",
        "structure",
        lambda c: c.raw(c.header(), b"null"),
        MalformedTokenError,
    ),
    Case(
        "payload-json-number-signed",
        "structure",
        lambda c: c.raw(c.header(), b"1"),
        MalformedTokenError,
    ),
    Case(
        "payload-deeply-nested-signed",
        "structure",
        lambda c: c.raw(c.header(), _deep(100_000)),
        MalformedTokenError,
    ),
    Case(
        "payload-huge-integer-signed",
        "structure",
        lambda c: c.raw(c.header(), b'{"exp":1' + b"0" * 5000 + b"}"),
        MalformedTokenError,
    ),
    Case(
        "payload-not-utf8-signed",
        "structure",
        lambda c: c.raw(c.header(), b'{"sub":"\xff"}'),
        MalformedTokenError,
    ),
    # Unsigned duplicate member names in the payload: the forgery fails at the signature
    # (the payload is parsed last-wins, as RFC 7519 allows; only Cognito could sign one).
    Case(
        "payload-duplicate-token-use-unsigned",
        "structure",
        lambda c: _payload_with_duplicate(c, b'"token_use": "access"'),
        InvalidSignatureError,
    ),
    Case(
        "payload-duplicate-aud-signed-last-wins",
        "structure",
        lambda c: c.raw(
            c.header(),
            json.dumps(c.claims()).encode()[:-1] + b', "aud": "otherclient"}',
        ),
        InvalidClaimsError,
    ),
    Case("dict-not-str", "structure", lambda c: {"token": c.signed()}, MalformedTokenError),
]


# -- claims (all validly signed by the pool's key) -----------------------------------------------


def _missing(name: str, token_use: str = "id") -> Case:
    return Case(
        f"claim-{name}-missing-{token_use}-token",
        "claims",
        lambda c: c.signed(token_use, **{name: None}),
        InvalidClaimsError,
    )


def _typed(name: str, value: Any, label: str, token_use: str = "id", **options: Any) -> Case:
    return Case(
        f"claim-{name}-{label}",
        "claims",
        lambda c: c.signed(token_use, **{name: value}),
        InvalidClaimsError,
        options,
    )


UPDATED_ISSUER = f"https://issuer-cognito-idp.us-east-1.amazonaws.com/{POOL}"
ORIGINAL_ISSUER = f"https://cognito-idp.us-east-1.amazonaws.com/{POOL}"

CLAIMS = [
    *expiry_cases(),
    *(_missing(name) for name in ("exp", "iat", "iss", "token_use", "aud", "sub")),
    *(_missing(name, "access") for name in ("exp", "client_id", "sub")),
    _typed("exp", str(2**31), "numeric-string"),
    _typed("exp", True, "boolean"),
    _typed("exp", [2**31], "list"),
    # json.dumps writes Infinity, which is not JSON: the payload is refused before its claims.
    Case(
        "claim-exp-infinite",
        "claims",
        lambda c: c.signed(exp=1e400),
        MalformedTokenError,
    ),
    _typed("exp", 10**400, "huge-integer", leeway=0.5),
    _typed("exp", -1, "negative"),
    _typed("nonce", "\ud800", "lone-surrogate", nonce="n"),
    _typed("iat", "0", "string"),
    _typed("nbf", "0", "string"),
    _typed("auth_time", "yesterday", "string"),
    _typed("iss", 1, "number"),
    _typed("token_use", ["id"], "list"),
    _typed("aud", [CLIENT], "list"),
    _typed("sub", 5, "number"),
    _typed("client_id", [CLIENT], "list", "access"),
    _typed("scope", ["openid"], "list", "access", scopes="openid"),
    _typed("cognito:groups", "admin", "string", groups="admin"),
    _typed("nonce", 5, "number", nonce="5"),
    Case(
        "exp-plus-leeway-equals-now",
        "claims",
        lambda c: c.signed(exp=c.now - 30),
        TokenExpiredError,
        {"leeway": 30},
    ),
    Case("nbf-one-second-ahead", "claims", lambda c: c.signed(nbf=c.now + 1), InvalidClaimsError),
    Case(
        "nbf-beyond-the-leeway",
        "claims",
        lambda c: c.signed(nbf=c.now + 31),
        InvalidClaimsError,
        {"leeway": 30},
    ),
    Case(
        "iat-beyond-the-allowed-skew",
        "claims",
        lambda c: c.signed(iat=c.now + 301),
        InvalidClaimsError,
    ),
    Case(
        "iat-beyond-skew-plus-leeway",
        "claims",
        lambda c: c.signed(iat=c.now + 331),
        InvalidClaimsError,
        {"leeway": 30},
    ),
    Case(
        "id-token-where-access-is-required",
        "claims",
        lambda c: c.signed("id"),
        InvalidClaimsError,
        {"token_use": "access"},
    ),
    Case(
        "access-token-where-id-is-required",
        "claims",
        lambda c: c.signed("access"),
        InvalidClaimsError,
        {"token_use": "id"},
    ),
    Case(
        "token-use-refresh",
        "claims",
        lambda c: c.signed(token_use="refresh"),
        InvalidClaimsError,
    ),
    Case(
        "access-token-relabelled-id-without-aud",
        "claims",
        lambda c: c.signed("access", token_use="id"),
        InvalidClaimsError,
    ),
    Case(
        "id-token-of-another-client",
        "claims",
        lambda c: c.signed(aud="otherclient"),
        InvalidClaimsError,
    ),
    Case(
        "access-token-of-another-client",
        "claims",
        lambda c: c.signed("access", client_id="otherclient"),
        InvalidClaimsError,
    ),
    Case(
        "access-token-aud-standing-in-for-client-id",
        "claims",
        lambda c: c.signed("access", client_id="otherclient", aud=CLIENT),
        InvalidClaimsError,
    ),
    Case(
        "issuer-of-another-pool",
        "claims",
        lambda c: c.signed(iss=c.issuer.issuer.replace(POOL, "us-east-1_OtherPool")),
        InvalidClaimsError,
    ),
    Case(
        "issuer-in-the-original-aws-form",
        "claims",
        lambda c: c.signed(iss=ORIGINAL_ISSUER),
        InvalidClaimsError,
    ),
    Case(
        "issuer-in-the-updated-aws-form",
        "claims",
        lambda c: c.signed(iss=UPDATED_ISSUER),
        InvalidClaimsError,
    ),
    Case(
        "issuer-with-a-trailing-slash",
        "claims",
        lambda c: c.signed(iss=c.issuer.issuer + "/"),
        InvalidClaimsError,
    ),
    Case(
        "issuer-in-another-case",
        "claims",
        lambda c: c.signed(iss=c.issuer.issuer.upper()),
        InvalidClaimsError,
    ),
    Case(
        "nonce-of-another-sign-in",
        "claims",
        lambda c: c.signed(nonce="n-other"),
        InvalidClaimsError,
        {"nonce": "n-mine"},
    ),
    Case(
        "nonce-checked-on-an-access-token",
        "claims",
        lambda c: c.signed("access", nonce="n-mine"),
        InvalidClaimsError,
        {"nonce": "n-mine"},
    ),
    Case(
        "at-hash-of-another-access-token",
        "claims",
        lambda c: c.signed(at_hash=at_hash("some.other.token")),
        InvalidClaimsError,
        {"access_token": "the.real.token"},
    ),
    Case(
        "group-not-held",
        "claims",
        lambda c: c.signed(**{"cognito:groups": ["staff"]}),
        InvalidClaimsError,
        {"groups": ["admin"]},
    ),
    Case(
        "scope-prefix-only",
        "claims",
        lambda c: c.signed("access", scope="orders/readonly"),
        InvalidClaimsError,
        {"scopes": "orders/read"},
    ),
]


# -- signatures ---------------------------------------------------------------------------


def _with_signature(ctx: Ctx, change: Callable[[bytes], bytes]) -> str:
    return with_signature(ctx, change)


def _signature_over_other_header(ctx: Ctx) -> str:
    _, body, sig = segments(ctx.signed(header={"typ": "JWT"}))
    head = segments(ctx.signed())[0]
    return f"{head}.{body}.{sig}"


def _signature_of_another_token(ctx: Ctx) -> str:
    head, body, _ = segments(ctx.signed("id"))
    return f"{head}.{body}.{segments(ctx.signed('access'))[2]}"


def _noncanonical_signature(ctx: Ctx) -> str:
    """The same signature bytes, with the unused low bits of the last character set."""
    head, body, sig = segments(ctx.signed())
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(sig[-1])
    return f"{head}.{body}.{sig[:-1]}{alphabet[last | 0b1111]}"


SIGNATURE = [
    *tampered_signature_cases(),
    Case(
        "signature-truncated-by-a-byte",
        "signature",
        lambda c: _with_signature(c, lambda s: s[:-1]),
        InvalidSignatureError,
    ),
    Case(
        "signature-truncated-to-half",
        "signature",
        lambda c: _with_signature(c, lambda s: s[:128]),
        InvalidSignatureError,
    ),
    Case(
        "signature-first-bit-flipped",
        "signature",
        lambda c: _with_signature(c, lambda s: bytes([s[0] ^ 0x80]) + s[1:]),
        InvalidSignatureError,
    ),
    Case(
        "signature-one-zero-byte",
        "signature",
        lambda c: _with_signature(c, lambda s: b"\0"),
        InvalidSignatureError,
    ),
    Case(
        "signature-doubled",
        "signature",
        lambda c: _with_signature(c, lambda s: s + s),
        InvalidSignatureError,
    ),
    Case(
        "signature-one-byte-longer",
        "signature",
        lambda c: _with_signature(c, lambda s: s + b"\0"),
        InvalidSignatureError,
    ),
    Case(
        "signature-with-leading-zero-byte",
        "signature",
        lambda c: _with_signature(c, lambda s: b"\0" + s[:-1]),
        InvalidSignatureError,
    ),
    Case(
        "valid-signature-over-a-different-header",
        "signature",
        _signature_over_other_header,
        InvalidSignatureError,
    ),
    Case(
        "signature-of-another-token",
        "signature",
        _signature_of_another_token,
        InvalidSignatureError,
    ),
    Case(
        "signature-with-non-canonical-base64url",
        "signature",
        _noncanonical_signature,
        MalformedTokenError,
    ),
]

CASES: List[Case] = [*ALGORITHM, *KEY, *STRUCTURE, *CLAIMS, *SIGNATURE]
CATEGORIES = ("algorithm", "key", "structure", "claims", "signature")


# -- the suite ----------------------------------------------------------------------------


@pytest.fixture
def ctx(issuer: Issuer, key_pairs: List[KeyPair], monkeypatch: pytest.MonkeyPatch) -> Iterator[Ctx]:
    now = int(time.time())
    monkeypatch.setattr(time, "time", lambda: float(now))  # claims and checks see one clock
    attacker = key_pairs[2]
    with ScriptedServer() as hostile:
        # Everything an attacker would like fetched: their JWKS (under their kid and under the
        # pool's), a certificate. Serving it proves nothing; being asked for it would.
        hostile.routes["/jwks.json"] = respond(200, {"keys": [attacker.jwk()]})
        hostile.routes["/pool-kid-jwks.json"] = respond(
            200, {"keys": [attacker.jwk(kid=issuer.key.kid)]}
        )
        hostile.routes["/cert.pem"] = respond(200, b"-----BEGIN CERTIFICATE-----", "text/plain")
        yield Ctx(issuer=issuer, hostile=hostile, attacker=attacker, now=now)


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_hostile_token_is_rejected_with_its_error(ctx: Ctx, case: Case) -> None:
    def verify(token: Any) -> object:
        return decode_verify_jwt(token, config=ctx.issuer.config, **case.options)

    refused_as_the_case_says(case, ctx, verify, ctx.hostile)


def test_the_table_has_fifty_distinct_named_cases_in_every_category() -> None:
    names = [case.name for case in CASES]
    assert len(set(names)) == len(names) >= 50
    for category in CATEGORIES:
        assert sum(case.category == category for case in CASES) >= 5, category


def test_every_signed_case_is_a_real_token_when_left_alone(ctx: Ctx) -> None:
    """The table's helpers make tokens that verify: the cases fail for their one change."""
    assert decode_verify_jwt(ctx.signed(), config=ctx.issuer.config)["token_use"] == "id"
    assert decode_verify_jwt(ctx.raw(ctx.header(), ctx.claims()), config=ctx.issuer.config)
    token = ctx.signed("access")
    assert decode_verify_jwt(token, config=ctx.issuer.config, token_use="access")
    head, body, sig = segments(ctx.signed())
    raw = base64.urlsafe_b64decode(sig + "=" * (-len(sig) % 4))
    assert decode_verify_jwt(f"{head}.{body}.{b64(raw)}", config=ctx.issuer.config)
    assert decode_verify_jwt(ctx.signed(exp=ctx.now + 1), config=ctx.issuer.config)
    assert decode_verify_jwt(ctx.signed(nbf=ctx.now), config=ctx.issuer.config)
    assert decode_verify_jwt(ctx.signed(iat=ctx.now + 300), config=ctx.issuer.config)
    assert decode_verify_jwt(ctx.signed(exp=ctx.now - 29), config=ctx.issuer.config, leeway=30)


# -- a remembered verification launders nothing ---------------------------------------------
# A token verified once may be answered from a memo later; every claim check must still run.


def test_a_verified_token_still_fails_every_claim_check_it_would_fail(ctx: Ctx) -> None:
    token = ctx.signed("id", nonce="n-1", **{"cognito:groups": ["staff"]})
    config = ctx.issuer.config
    for _ in range(2):
        assert decode_verify_jwt(token, config=config)["nonce"] == "n-1"
    refusals = [
        ({"token_use": "access"}, InvalidClaimsError),
        ({"nonce": "n-2"}, InvalidClaimsError),
        ({"groups": ["admin"]}, InvalidClaimsError),
        ({"scopes": ["openid"]}, InvalidClaimsError),
    ]
    for options, error in refusals:
        with pytest.raises(error):
            decode_verify_jwt(token, config=config, **options)
    other_client = replace(config, client_id="otherclient")
    with pytest.raises(InvalidClaimsError, match="aud"):
        decode_verify_jwt(token, config=other_client)
    other_issuer = replace(config, issuer=UPDATED_ISSUER)
    with pytest.raises(InvalidClaimsError, match="iss"):
        decode_verify_jwt(token, config=other_issuer)
    assert decode_verify_jwt(token, config=config)["nonce"] == "n-1"


def test_a_verified_token_expires_on_time(ctx: Ctx, monkeypatch: pytest.MonkeyPatch) -> None:
    token = ctx.signed(exp=ctx.now + 60)
    assert decode_verify_jwt(token, config=ctx.issuer.config)
    monkeypatch.setattr(time, "time", lambda: float(ctx.now + 60))
    with pytest.raises(TokenExpiredError):
        decode_verify_jwt(token, config=ctx.issuer.config)


def test_a_verified_token_stops_verifying_when_its_key_is_withdrawn(ctx: Ctx) -> None:
    token = ctx.signed()
    assert decode_verify_jwt(token, config=ctx.issuer.config)
    new = ctx.issuer.spare[0]
    ctx.issuer.jwks = [new.jwk()]
    decode_verify_jwt(ctx.signed(key=new, header={"kid": new.kid}), config=ctx.issuer.config)
    with pytest.raises(UnknownKeyError):
        decode_verify_jwt(token, config=ctx.issuer.config)


def test_a_verified_token_fails_when_its_kid_is_given_to_another_key(ctx: Ctx) -> None:
    token = ctx.signed()
    assert decode_verify_jwt(token, config=ctx.issuer.config)
    ctx.issuer.jwks = [ctx.attacker.jwk(kid=ctx.kid)]
    jwks_cache(ctx.issuer.config.jwks_url).ttl = 0  # the next call refreshes the keys
    with pytest.raises(InvalidSignatureError):
        decode_verify_jwt(token, config=ctx.issuer.config)


def test_a_verified_token_is_not_valid_for_a_pool_with_another_jwks(ctx: Ctx) -> None:
    token = ctx.signed()
    assert decode_verify_jwt(token, config=ctx.issuer.config)
    with ScriptedServer() as other_pool:
        other_pool.routes["/jwks.json"] = respond(200, {"keys": [ctx.attacker.jwk(kid=ctx.kid)]})
        config = CognitoConfig(
            user_pool_id=POOL,
            client_id=CLIENT,
            issuer=ctx.issuer.issuer,
            jwks_url=other_pool.url + "/jwks.json",
        )
        with pytest.raises(InvalidSignatureError):
            decode_verify_jwt(token, config=config)
