"""PKCE (RFC 7636) for the authorization-code flow: a fresh code verifier and its challenge.

Cognito supports the S256 method only, so that is the only one made here.
"""

from __future__ import annotations

import hashlib
import secrets
import string

from ..core.arguments import wrong_type
from ..core.encoding import b64url_encode

__all__ = ["new_verifier", "pkce_challenge", "random_text"]

_VERIFIER_FIRST = string.ascii_letters + string.digits


def pkce_challenge(code_verifier: str) -> str:
    """Return the S256 PKCE ``code_challenge`` for ``code_verifier`` (RFC 7636).

    Raises ``TypeError`` for a verifier that is not a string and ``ValueError`` for one that is
    not ASCII text, without repeating it.
    """
    if not isinstance(code_verifier, str):
        raise wrong_type("a PKCE code_verifier", code_verifier, "a string")
    if not code_verifier.isascii():
        # Checked rather than caught: a UnicodeEncodeError holds (and its repr shows) the
        # whole verifier, and would ride along as the __context__ of any error raised for it.
        raise ValueError("a PKCE code_verifier must be ASCII text ([A-Za-z0-9-._~])")
    return b64url_encode(hashlib.sha256(code_verifier.encode("ascii")).digest())


def new_verifier() -> str:
    """A fresh RFC 7636 code verifier: 86 base64url characters that never start with ``-``."""
    return random_text(64)


def random_text(nbytes: int) -> str:
    """``secrets.token_urlsafe(nbytes)``, except that it never starts with ``-``.

    About 1 in 64 ``token_urlsafe`` strings start with ``-``, which a command line then reads
    as an option (``--code-verifier -x...``, ``--nonce -x...``). Such a first character is
    redrawn from letters and digits; the others keep their randomness either way.
    """
    text = secrets.token_urlsafe(nbytes)
    if text.startswith("-"):
        text = secrets.choice(_VERIFIER_FIRST) + text[1:]
    return text
