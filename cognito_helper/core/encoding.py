"""The one base64url and JSON decoding used everywhere in the package.

The JSON rule, for a JWT's header and payload alike: strict UTF-8 (no BOM, no UTF-16 or
UTF-32), standard JSON only (no ``NaN``, ``Infinity`` or a number too large to be finite),
white space allowed around the value. The header also refuses duplicate member names; the
payload is covered by the signature, so only the pool itself could send duplicates there.

Every refusal is a :class:`DecodeError`, a ``ValueError`` whose message is this module's own
sentence naming what was wrong, never a codec's or the JSON decoder's text: it may reach the
client that sent the token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from functools import lru_cache
from typing import Any, Dict, List, Tuple

__all__ = [
    "COMPACT_JWS",
    "COMPACT_JWS_PADDED",
    "DecodeError",
    "at_hash",
    "b64url_decode",
    "b64url_decode_padded",
    "b64url_encode",
    "json_claims",
    "json_object",
    "octets",
]

#: The shape of a compact JWS: three non-empty base64url segments joined by dots.
COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
#: The same shape where each segment may end in ``=`` padding, as an Application Load
#: Balancer writes its ``x-amzn-oidc-data`` JWT; ``=`` anywhere else is refused.
COMPACT_JWS_PADDED = re.compile(r"[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]+={0,2}\.[A-Za-z0-9_-]+={0,2}")


class DecodeError(ValueError):
    """Text that is not base64url, or bytes that are not a JSON object, by this module's rules.

    The message is a neutral sentence (no Python internals), fit to show whoever sent it.
    """


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
_VALUE = {c: i for i, c in enumerate(_ALPHABET)}
_UNUSED_BITS = {2: 0b1111, 3: 0b11}  # low bits of the last character that encode nothing


def b64url_decode(segment: str) -> bytes:
    """Decode unpadded base64url text; raise :class:`DecodeError` on anything else.

    The caller has already checked the alphabet (``[A-Za-z0-9_-]``); a length of 1 mod 4
    cannot be base64 and is refused rather than silently truncated, and so is a last
    character with unused bits set (a second spelling of the same bytes).
    """
    rem = len(segment) % 4
    if rem == 1:
        raise DecodeError("base64url segment has an impossible length")
    if rem and _VALUE.get(segment[-1], 0) & _UNUSED_BITS[rem]:
        # Only one spelling of given bytes is accepted, so no two token strings carry the
        # same signature (RFC 4648 section 3.5: the pad bits must be zero).
        raise DecodeError("non-canonical base64url (unused bits set)")
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except binascii.Error as exc:  # pragma: no cover - alphabet is checked before
        raise DecodeError("invalid base64url") from exc


def b64url_decode_padded(segment: str) -> bytes:
    """Decode base64url text that may end in ``=`` padding; :class:`DecodeError` otherwise.

    The rule of :func:`b64url_decode` with one variant: padding, when present, must be
    exactly the length that completes the last group (``-len % 4`` of the text before it);
    unpadded text is decoded as :func:`b64url_decode` does. The caller has already checked
    the alphabet, with ``=`` only at the end (see :data:`COMPACT_JWS_PADDED`).
    """
    text = segment.rstrip("=")
    padding = len(segment) - len(text)
    if padding and padding != -len(text) % 4:
        raise DecodeError("base64url padding of the wrong length")
    return b64url_decode(text)


def b64url_encode(data: bytes) -> str:
    """Encode bytes as unpadded base64url text."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def octets(text: str) -> bytes:
    """``text`` as UTF-8, lone surrogates included, so that any two strings can be compared."""
    return text.encode("utf-8", "surrogatepass")


@lru_cache(maxsize=256)
def at_hash(access_token: str) -> str:
    """The OIDC ``at_hash`` of an access token for RS256: the left half of its SHA-256.

    Remembered for the last 256 access tokens: an API verifies an ID token with the same
    access token on every request, and hashing it costs more than the rest of a memo hit.
    """
    digest = hashlib.sha256(octets(access_token)).digest()
    return b64url_encode(digest[: len(digest) // 2])


def _no_duplicates(pairs: List[Tuple[str, Any]]) -> Dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        raise DecodeError("duplicate member name in JSON object")
    return obj


def _no_constant(name: str) -> Any:
    raise DecodeError(f"{name} is not JSON")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise DecodeError(f"the number {text[:20]} is too large")
    return value


_STRICT = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)
_STRICT_NO_DUPLICATES = json.JSONDecoder(
    object_pairs_hook=_no_duplicates, parse_constant=_no_constant, parse_float=_finite
)


# What a JSON value that is not an object is called, in JSON's words (not Python's).
_JSON_KINDS = {list: "an array", str: "a string", int: "a number", float: "a number"}


def _loads_object(decoder: json.JSONDecoder, data: bytes) -> Dict[str, Any]:
    try:
        text = data.decode("utf-8")  # strict: a BOM stays a character, and no JSON starts so
        try:
            value, end = decoder.raw_decode(text)  # the usual case: nothing around the value
        except ValueError:
            end = -1
        if end != len(text):
            value = decoder.decode(text)  # white space around it, or the precise error
    except DecodeError:
        raise  # one of this module's hooks, already in its own words
    except UnicodeDecodeError as exc:
        raise DecodeError("the bytes are not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise DecodeError("the text is not JSON") from exc
    except RecursionError as exc:
        raise DecodeError("JSON nested too deeply") from exc
    except ValueError as exc:  # Python's limit on the digits of an int (3.11+)
        raise DecodeError("a JSON number has too many digits") from exc
    if type(value) is not dict:
        kind = _JSON_KINDS.get(type(value)) or json.dumps(value)  # true, false or null
        raise DecodeError(f"the JSON is {kind} where an object was expected")
    return value


def json_object(data: bytes) -> Dict[str, Any]:
    """Parse JSON that must be an object, by the module's rule; refuse duplicate names too.

    Raises :class:`DecodeError` (a ``ValueError``) for bytes that are not UTF-8, text that
    is not JSON, JSON nested too deeply, and JSON that breaks the module's rule.
    """
    return _loads_object(_STRICT_NO_DUPLICATES, data)


def json_claims(data: bytes) -> Dict[str, Any]:
    """Parse a JWT payload: JSON that must be an object, by the module's rule.

    Raises :class:`DecodeError` as :func:`json_object` does.
    """
    return _loads_object(_STRICT, data)
