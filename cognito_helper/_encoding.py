"""The one base64url and JSON decoding used everywhere in the package."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any, Dict, List, Tuple

__all__ = ["b64url_decode", "b64url_encode", "json_object"]


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_VALUE = {c: i for i, c in enumerate(_ALPHABET)}
_UNUSED_BITS = {2: 0b1111, 3: 0b11}  # low bits of the last character that encode nothing


def b64url_decode(segment: str) -> bytes:
    """Decode unpadded base64url text; raise ``ValueError`` on anything else.

    The caller has already checked the alphabet (``[A-Za-z0-9_-]``); a length of 1 mod 4
    cannot be base64 and is refused rather than silently truncated, and so is a last
    character with unused bits set (a second spelling of the same bytes).
    """
    rem = len(segment) % 4
    if rem == 1:
        raise ValueError("base64url segment has an impossible length")
    if rem and _VALUE.get(segment[-1], 0) & _UNUSED_BITS[rem]:
        # Only one spelling of given bytes is accepted, so no two token strings carry the
        # same signature (RFC 4648 section 3.5: the pad bits must be zero).
        raise ValueError("non-canonical base64url (unused bits set)")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except binascii.Error as exc:  # pragma: no cover - alphabet is checked before
        raise ValueError("invalid base64url") from exc


def b64url_encode(data: bytes) -> str:
    """Encode bytes as unpadded base64url text."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _no_duplicates(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise ValueError("duplicate member name in JSON object")
    return obj


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def json_object(data: bytes) -> Dict[str, Any]:
    """Parse UTF-8 JSON that must be an object; refuse duplicate names, NaN and Infinity.

    Raises ``ValueError`` (including ``UnicodeDecodeError`` and ``json.JSONDecodeError``) and
    ``RecursionError`` is turned into ``ValueError`` too.
    """
    try:
        value = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_no_duplicates,
            parse_constant=_no_constant,
        )
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc
    if not isinstance(value, dict):
        raise ValueError(f"JSON {type(value).__name__} where an object was expected")
    return value
