"""An issuer independent of the library: RSA keys and RS256 signing with `cryptography` only;
self-signed X.509 certificates (x5c headers, loopback TLS)."""

from __future__ import annotations

import base64
import datetime
import json
import time
import uuid
from typing import Any, Dict, Optional, Tuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import NameOID

POOL = "us-east-1_TestPool1"
CLIENT = "testclient1234567890abcdef"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(obj: Any) -> str:
    return b64(json.dumps(obj).encode())


def _int_b64(n: int) -> str:
    return b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))


class KeyPair:
    def __init__(self, kid: Optional[str] = None, bits: int = 2048) -> None:
        self.kid = kid or uuid.uuid4().hex
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=bits)

    def jwk(self, **extra: Any) -> Dict[str, Any]:
        numbers = self.private.public_key().public_numbers()
        jwk = {
            "alg": "RS256",
            "e": _int_b64(numbers.e),
            "kid": self.kid,
            "kty": "RSA",
            "n": _int_b64(numbers.n),
            "use": "sig",
        }
        jwk.update(extra)
        return jwk

    def sign_raw(self, signing_input: bytes) -> bytes:
        return self.private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())

    def token(self, claims: Dict[str, Any], header: Optional[Dict[str, Any]] = None) -> str:
        head = {"kid": self.kid, "alg": "RS256"}
        head.update(header or {})
        head = {k: v for k, v in head.items() if v is not None}
        return self.signed(b64json(head), b64json(claims))

    def signed(self, head: str, body: str) -> str:
        """The compact token of these two segments, exactly as given, RS256-signed by this key:
        validly signed, whatever the segments hold."""
        return f"{head}.{body}.{b64(self.sign_raw(f'{head}.{body}'.encode()))}"


def self_signed_certificate(
    key: CertificateIssuerPrivateKeyTypes,
    common_name: str,
    *extensions: Tuple[x509.ExtensionType, bool],
) -> x509.Certificate:
    """A certificate for ``key``'s public key, signed by ``key`` (SHA-256), named
    ``common_name``, valid from a day ago to a day ahead, with ``(extension, critical)``s."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    for extension, critical in extensions:
        builder = builder.add_extension(extension, critical=critical)
    return builder.sign(key, hashes.SHA256())


def x5c_entry(key: CertificateIssuerPrivateKeyTypes, common_name: str) -> str:
    """A self-signed certificate for ``key`` as a JWS ``x5c`` entry (standard base64 DER)."""
    cert = self_signed_certificate(key, common_name)
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def claims_for(
    token_use: str, issuer: str, *, client_id: str = CLIENT, ttl: int = 3600, **overrides: Any
) -> Dict[str, Any]:
    now = int(time.time())
    claims: Dict[str, Any] = {
        "sub": str(uuid.uuid4()),
        "iss": issuer,
        "token_use": token_use,
        "auth_time": now,
        "iat": now,
        "exp": now + ttl,
        "jti": str(uuid.uuid4()),
        "origin_jti": str(uuid.uuid4()),
        "event_id": str(uuid.uuid4()),
    }
    if token_use == "id":
        claims.update(
            {
                "aud": client_id,
                "cognito:username": "alice",
                "email": "alice@example.com",
                "email_verified": True,
            }
        )
    else:
        claims.update(
            {
                "client_id": client_id,
                "username": "alice",
                "scope": "openid email profile",
                "version": 2,
            }
        )
    for name, value in overrides.items():
        if value is None:
            claims.pop(name, None)
        else:
            claims[name] = value
    return claims
