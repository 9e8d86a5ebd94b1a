"""The pool's signing keys: two RSA-2048 pairs (ID and access tokens use different ``kid``),
the pair the last rotation replaced, and the old public keys still published in the JWKS."""

from __future__ import annotations

import base64
import secrets
import threading
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple, Union

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ..core.encoding import b64url_encode

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
        """A new RSA-2048 key under a new kid (about 35 ms: see :class:`KeyPool`)."""
        return cls(_new_kid(), _new_rsa_key())

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


def _new_kid() -> str:
    # Cognito kids are standard base64 (with + / and = padding) of 32 random bytes.
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def _new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class KeyPool:
    """RSA keys generated once and handed out in turn, each time under a new kid.

    Generating an RSA-2048 key takes tens of milliseconds, and a provider needs two, so a test
    suite that starts a :class:`~cognito_helper.testing.LocalCognito` per test spends most of
    its time there. Hand the providers one pool (``LocalCognito(key_pool=pool)``): the first
    ``size`` keys it gives are generated, later ones reuse them in the same order, so any
    ``size`` keys given one after another are distinct (a provider takes two at start and two
    per :meth:`~cognito_helper.testing.LocalCognito.rotate_keys`). Every key it gives has a
    kid of its own. Safe to use from several threads.
    """

    def __init__(self, size: int = 16) -> None:
        """Keep at most ``size`` keys (at least 2); ``ValueError`` otherwise."""
        if isinstance(size, bool) or not isinstance(size, int) or size < 2:
            raise ValueError("a key pool holds at least 2 keys")
        self.size = size
        self._keys: List[rsa.RSAPrivateKey] = []
        self._given = 0
        self._lock = threading.Lock()

    def signing_key(self) -> SigningKey:
        """The next key, under a new kid."""
        with self._lock:
            index = self._given % self.size
            self._given += 1
            if index == len(self._keys):
                self._keys.append(_new_rsa_key())
            return SigningKey(_new_kid(), self._keys[index])


def _key_pairs(new_key: Callable[[], SigningKey]) -> Dict[str, SigningKey]:
    return {token_use: new_key() for token_use in TOKEN_USES}


class KeyRing:
    """The keys that sign and the keys that are published; safe to use from several threads."""

    def __init__(self, new_key: Callable[[], SigningKey] = SigningKey.generate) -> None:
        """``new_key`` gives each new signing key (a new RSA key each time by default)."""
        self._new_key = new_key
        self._lock = threading.Lock()
        self._current = _key_pairs(new_key)
        self._previous: Optional[Dict[str, SigningKey]] = None
        self._kept: List[SigningKey] = []

    def rotate(self, *, keep_old: bool) -> None:
        """Replace both pairs; with ``keep_old`` the published public keys stay published."""
        fresh = _key_pairs(self._new_key)
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
