"""The pool's signing keys: two RSA-2048 pairs (ID and access tokens use different ``kid``),
the pair the last rotation replaced, and the old public keys still published in the JWKS."""

from __future__ import annotations

import base64
import secrets
import threading
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple, Union

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .._encoding import b64url_encode

#: What :meth:`LocalCognito.mint` accepts as ``key``.
KeyArg = Union[str, bytes, rsa.RSAPrivateKey]

TOKEN_USES = ("id", "access")


def _b64url_uint(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: rsa.RSAPrivateKey = field(repr=False)

    @classmethod
    def generate(cls) -> SigningKey:
        # Cognito kids are standard base64 (with + / and = padding) of 32 random bytes.
        kid = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
        return cls(kid, rsa.generate_private_key(public_exponent=65537, key_size=2048))

    @property
    def jwk(self) -> Dict[str, str]:
        numbers = self.private_key.public_key().public_numbers()
        return {
            "alg": "RS256",
            "e": _b64url_uint(numbers.e),
            "kid": self.kid,
            "kty": "RSA",
            "n": _b64url_uint(numbers.n),
            "use": "sig",
        }


def _load_private_key(key: Union[str, bytes]) -> rsa.RSAPrivateKey:
    data = key.encode("ascii") if isinstance(key, str) else key
    loaded = serialization.load_pem_private_key(data, password=None)
    if not isinstance(loaded, rsa.RSAPrivateKey):
        raise ValueError("key must be an RSA private key")
    return loaded


def _key_pairs() -> Dict[str, SigningKey]:
    return {token_use: SigningKey.generate() for token_use in TOKEN_USES}


class KeyRing:
    """The keys that sign and the keys that are published; safe to use from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current = _key_pairs()
        self._previous: Optional[Dict[str, SigningKey]] = None
        self._kept: List[SigningKey] = []

    def rotate(self, *, keep_old: bool) -> None:
        """Replace both pairs; with ``keep_old`` the published public keys stay published."""
        fresh = _key_pairs()
        with self._lock:
            old = self._current
            self._kept = [*old.values(), *self._kept] if keep_old else []
            self._previous = old
            self._current = fresh

    def published(self) -> List[SigningKey]:
        """The keys in the JWKS: the current pair, then any kept by ``rotate(keep_old=True)``."""
        with self._lock:
            return [*self._current.values(), *self._kept]

    def signing_key(self, token_use: str, key: KeyArg = "current") -> Tuple[str, rsa.RSAPrivateKey]:
        """``(kid, private key)`` to sign a ``token_use`` token with; see ``mint(key=...)``.

        Raises ``ValueError`` for another token use or an unusable key.
        """
        if token_use not in TOKEN_USES:
            raise ValueError(f"token_use must be 'id' or 'access', got {token_use!r}")
        with self._lock:
            current = self._current[token_use]
            previous = self._previous
        if key == "current":
            return current.kid, current.private_key
        if key == "previous":
            if previous is None:
                raise ValueError("there is no previous key: rotate_keys() has not been called")
            return previous[token_use].kid, previous[token_use].private_key
        if isinstance(key, rsa.RSAPrivateKey):
            return current.kid, key
        if isinstance(key, (str, bytes)):
            return current.kid, _load_private_key(key)
        raise ValueError("key must be 'current', 'previous', an RSA private key or a PEM")
