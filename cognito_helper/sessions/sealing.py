"""Encrypting and authenticating what a shared store holds: :class:`Sealer`.

Fernet (``cryptography``): AES-128-CBC with a random IV, then HMAC-SHA256 over the version,
timestamp, IV and ciphertext, checked (in constant time) before anything is decrypted. Each
secret the app gives is stretched with HKDF-SHA256 into the 32 bytes of a Fernet key (16 for
the HMAC, 16 for AES), so any long random string will do (``secrets.token_urlsafe(32)``).
With several secrets (a rotation), the first seals and every one of them opens
(``MultiFernet``).
"""

from __future__ import annotations

import base64
from typing import List, Optional, Sequence, Union

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..core.errors import ConfigError

__all__ = ["Sealer", "MIN_SECRET_BYTES"]

#: The shortest secret accepted, in bytes (UTF-8 for a ``str``): 128 bits when random.
MIN_SECRET_BYTES = 16
_INFO = b"cognito-helper sessions v1"

Secret = Union[str, bytes]


def _fernet(secret: object, position: int) -> Fernet:
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if not isinstance(secret, bytes):
        raise ConfigError(
            f"secret {position} is a {type(secret).__name__}: give a str or bytes (or a "
            "list of them, the newest first)"
        )
    if len(secret) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"secret {position} is shorter than {MIN_SECRET_BYTES} bytes: give a long random "
            "string, e.g. secrets.token_urlsafe(32)"
        )
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
    return Fernet(base64.urlsafe_b64encode(derived))


class Sealer:
    """Seals (encrypts and authenticates) and opens bytes with the app's secret(s).

    ``secret`` is one secret (``str`` or ``bytes``, at least :data:`MIN_SECRET_BYTES`) or a
    non-empty list of them: the first seals, any of them opens. Raises :class:`ConfigError`
    for no secret, an empty list, a short secret or one of another type; the message never
    shows a secret. ``repr()`` shows how many secrets there are, nothing else.
    """

    def __init__(self, secret: Union[Secret, Sequence[Secret], None]) -> None:
        if secret is None or secret == "" or secret == b"":
            raise ConfigError(
                "a shared session store needs secret=: what it holds (refresh tokens, 30-day "
                "credentials) is encrypted with it; give a long random string, e.g. "
                "secrets.token_urlsafe(32), or a list of them to rotate (the first encrypts)"
            )
        if isinstance(secret, (str, bytes)):
            given: List[object] = [secret]
        elif isinstance(secret, (list, tuple)):
            given = list(secret)
        else:
            raise ConfigError(
                f"secret is a {type(secret).__name__}: give a str or bytes, or a list of them"
            )
        if not given:
            raise ConfigError("secret is an empty list: give at least one secret")
        self._count = len(given)
        self._fernet = MultiFernet([_fernet(s, i + 1) for i, s in enumerate(given)])

    def __repr__(self) -> str:
        return f"Sealer(secrets={self._count})"

    def seal(self, data: bytes) -> bytes:
        """``data`` encrypted and authenticated with the first secret (a Fernet token)."""
        return self._fernet.encrypt(data)

    def open(self, sealed: object) -> Optional[bytes]:
        """What :meth:`seal` sealed with any of the secrets; ``None`` for anything else (not
        bytes or text, forged, altered, or sealed with a secret no longer given)."""
        if isinstance(sealed, str):
            sealed = sealed.encode("ascii", "replace")
        if not isinstance(sealed, bytes):
            return None
        try:
            return self._fernet.decrypt(sealed)
        except InvalidToken:
            return None
