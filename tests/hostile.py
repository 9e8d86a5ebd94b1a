"""Builders shared by the hostile-token tables (tests/test_adversarial.py, a JWKS issuer's RS256
tokens; tests/test_alb_verify.py, an ALB's padded ES256 data tokens): the ``DROP`` marker that
removes a member, and compact tokens of exactly the bytes a case chooses."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any, Callable, Dict, Optional, Union

from .tokens import b64

DROP = object()  # changed(head, {"alg": DROP}) removes alg


def changed(base: Dict[str, Any], changes: Dict[str, Any]) -> Dict[str, Any]:
    """``base`` with ``changes`` applied, in ``base``'s order; a member set to ``DROP`` is
    removed."""
    merged = {**base, **changes}
    return {name: value for name, value in merged.items() if value is not DROP}


def padded(data: bytes) -> str:
    """base64url with its ``=`` padding, as the ALB writes its segments."""
    return base64.urlsafe_b64encode(data).decode()


def compact(
    header: Union[bytes, Dict[str, Any]],
    payload: Union[bytes, Dict[str, Any]],
    *,
    sign: Optional[Callable[[bytes], bytes]] = None,
    signature: Optional[bytes] = None,
    encode: Callable[[bytes], str] = b64,
) -> str:
    """A compact JWS of exactly these header and payload bytes (a dict is written as JSON),
    each segment written by ``encode``; the signature is ``signature`` if given, else ``sign``
    of the signing input (so a case can be validly signed yet hostile)."""
    head = header if isinstance(header, bytes) else json.dumps(header).encode()
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signing_input = f"{encode(head)}.{encode(body)}"
    if signature is None:
        assert sign is not None, "give sign or signature"
        signature = sign(signing_input.encode())
    return f"{signing_input}.{encode(signature)}"


def hmac_sha256(secret: bytes) -> Callable[[bytes], bytes]:
    """An HS256 signer keyed with ``secret`` (what an algorithm-confusion attack signs with)."""
    return lambda message: hmac.new(secret, message, hashlib.sha256).digest()
