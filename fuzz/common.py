"""What the fuzz targets share: a pool with one RSA key, its JWKS on loopback, valid tokens.

Everything here is independent of the library's own signing code (``cryptography`` only), so a
token that verifies was signed by this key and nothing else. The JWKS is served by the
project's one loopback server, which plays no part in what is verified.
"""

from __future__ import annotations

import base64
import json
import os
import time
from typing import Any, Dict, List, Optional

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from cognito_helper.testing.server import LoopbackServer, static_handler

POOL = "us-east-1_FuzzPool1"
CLIENT = "fuzzclient1234567890abcdef"
KID = "fuzz-kid-1"
# Far in the future, so a corpus saved today still holds valid tokens next year.
EXP = 4102444800  # 2100-01-01


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64json(obj: Any) -> str:
    return b64(json.dumps(obj, separators=(",", ":")).encode())


def _uint(value: int) -> str:
    return b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


PRIVATE = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_NUMBERS = PRIVATE.public_key().public_numbers()
JWK: Dict[str, str] = {
    "alg": "RS256",
    "e": _uint(_NUMBERS.e),
    "kid": KID,
    "kty": "RSA",
    "n": _uint(_NUMBERS.n),
    "use": "sig",
}
JWKS_BODY = json.dumps({"keys": [JWK]}).encode()


def sign(signing_input: bytes) -> bytes:
    return PRIVATE.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())


def token_from(header: Dict[str, Any], claims: Dict[str, Any]) -> str:
    signing_input = f"{b64json(header)}.{b64json(claims)}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


def serve_jwks() -> str:
    """Serve the JWKS on a loopback port in a daemon thread; return its URL."""
    server = LoopbackServer(static_handler(JWKS_BODY), name="fuzz JWKS").start()
    return f"{server.url}/{POOL}/.well-known/jwks.json"


def issuer_for(jwks_url: str) -> str:
    return jwks_url.rsplit("/.well-known/", 1)[0]


def claims(token_use: str, issuer: str, **extra: Any) -> Dict[str, Any]:
    now = int(time.time())
    base: Dict[str, Any] = {
        "sub": "7d8ca528-4931-4254-9273-ea5ee853f271",
        "iss": issuer,
        "token_use": token_use,
        "auth_time": now,
        "iat": now,
        "exp": EXP,
        "jti": "e8b3ff1c-4b49-4fa4-a1a8-47ab5d4fd5b3",
        "origin_jti": "0c0c3d1a-19c7-49a4-9a36-3d6e7d9fb06a",
        "event_id": "2b2b9f8e-8ea1-4b5d-a2b1-6a3b0d2cfa51",
    }
    if token_use == "id":
        base.update(
            {
                "aud": CLIENT,
                "cognito:username": "alice",
                "cognito:groups": ["admin", "staff"],
                "email": "alice@example.com",
                "email_verified": True,
                "nonce": "n-0S6_WzA2Mj",
                "at_hash": "HK6E_P6Dh8Y93mRNtsDB1Q",
            }
        )
    else:
        base.update(
            {
                "client_id": CLIENT,
                "username": "alice",
                "scope": "openid email orders/read",
                "version": 2,
            }
        )
    base.update(extra)
    return base


def valid_tokens(issuer: str) -> List[str]:
    header = {"kid": KID, "alg": "RS256"}
    return [token_from(header, claims("id", issuer)), token_from(header, claims("access", issuer))]


def write_seeds(directory: Optional[str], seeds: List[bytes]) -> None:
    """Put ``seeds`` into an empty corpus directory (libFuzzer then mutates them)."""
    if not directory or directory.startswith("-") or os.path.isfile(directory):
        return
    os.makedirs(directory, exist_ok=True)
    if os.listdir(directory):
        return
    for i, seed in enumerate(seeds):
        with open(os.path.join(directory, f"seed-{i:03d}"), "wb") as f:
            f.write(seed)
