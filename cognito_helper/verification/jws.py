"""Stages 1 and 2 of verification: decomposing a compact JWS (:func:`decompose`) and the
header rules every kind of token shares (:func:`check_alg`); :func:`parse` is both stages for a
Cognito token, whose header segment is remembered once it passed. What each stage checks, for
Cognito tokens and for an ALB's, is said once, in SECURITY.md.

Both fail with :class:`MalformedTokenError`, whose message never contains the token. This
module needs no HTTP and no crypto, so :func:`decode_unverified` is cheap to import.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Dict, NamedTuple, Optional, Tuple, cast

from ..core.encoding import (
    COMPACT_JWS,
    COMPACT_JWS_PADDED,
    DecodeError,
    b64url_decode,
    b64url_decode_padded,
    json_claims,
    json_object,
)
from ..core.errors import MalformedTokenError

__all__ = [
    "MAX_TOKEN_CHARS",
    "Signed",
    "check_alg",
    "decode_unverified",
    "decompose",
    "key_id",
    "parse",
    "shown",
]

MAX_TOKEN_CHARS = 64 * 1024

_SHAPE = COMPACT_JWS
_B64URL_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

Claims = Dict[str, Any]
Decoder = Callable[[str], bytes]


class Signed(NamedTuple):
    """A token that passed stages 1 and 2: what the later stages read."""

    kid: str
    #: The decoded header, for a profile whose later stages read it (an ALB's); else ``None``.
    header: Optional[Claims]
    payload: Claims
    signing_input: bytes
    signature: bytes
    #: No value of the payload is an array or an object (the memo then copies it flat).
    flat: bool


# Header segment -> kid, for header segments that passed stages 1 and 2. A pool signs with two
# keys, so a handful of entries is all a real pool ever needs; junk cannot grow it past the cap.
_header_kids: Dict[str, str] = {}
_MAX_HEADER_KIDS = 64


def forget_header_kids() -> None:
    """Forget every remembered header segment (``cognito_helper.testing.reset()`` calls it)."""
    _header_kids.clear()


def _why(exc: ValueError) -> str:
    """Why a segment was refused, in words fit for the client: a :class:`DecodeError`'s own
    sentence, never another exception's text (a codec's or a JSON decoder's)."""
    return str(exc) if isinstance(exc, DecodeError) else "it cannot be decoded"


def _decode_payload(segment: str, decode: Decoder = b64url_decode) -> Claims:
    return _decode_payload_flat(segment, decode)[0]


def _decode_payload_flat(segment: str, decode: Decoder = b64url_decode) -> Tuple[Claims, bool]:
    """The payload object, and whether it is flat: no value is an array or an object.

    "Flat" is read off the JSON bytes: no ``[`` and no ``{`` but the first byte. That can only
    err towards "not flat" (a bracket inside a string), which costs a scan, never a mistake.
    """
    try:
        data = decode(segment)
        payload = json_claims(data)
    except ValueError as exc:
        raise MalformedTokenError(f"the JWT payload is not a JSON object: {_why(exc)}") from None
    return payload, b"[" not in data and data.find(b"{", 1) < 0


def _decode_signature(segment: str, decode: Decoder = b64url_decode) -> bytes:
    try:
        return decode(segment)
    except ValueError:
        raise MalformedTokenError("the JWT signature is not base64url") from None


def decompose(
    token: object, max_chars: int, *, padded: bool = False
) -> Tuple[Claims, Claims, bytes, bytes]:
    """Stage 1: split and decode a compact JWS: (header, payload, signing input, signature).

    Raises :class:`MalformedTokenError` (naming a wrapped token's wrapping) for anything
    but a ``str`` of at most ``max_chars`` characters in the shape and encoding above.

    ``padded``: segments may end in ``=`` padding of the right length (the ALB's form, see
    :func:`~cognito_helper.core.encoding.b64url_decode_padded`); the signing input is the header
    and payload segments exactly as received, padding included.
    """
    shape = COMPACT_JWS_PADDED if padded else _SHAPE
    decode: Decoder = b64url_decode_padded if padded else b64url_decode
    if not isinstance(token, str):
        raise MalformedTokenError(f"a token must be a str, not {type(token).__name__}")
    if len(token) > max_chars:
        raise MalformedTokenError(f"the token is longer than {max_chars} characters")
    if not shape.fullmatch(token):
        _refuse_wrapped(token, shape)
        count = token.count(".") + 1
        if count != 3:
            raise MalformedTokenError(f"a JWT has 3 dot-separated segments, this has {count}")
        if padded:
            raise MalformedTokenError(
                "a JWT segment is empty or not base64url (A-Z a-z 0-9 - _, '=' only as "
                "padding at its end)"
            )
        raise MalformedTokenError("a JWT segment is empty or not base64url (A-Z a-z 0-9 - _)")
    head_b64, payload_b64, sig_b64 = token.split(".")
    try:
        header = json_object(decode(head_b64))
    except ValueError as exc:
        raise MalformedTokenError(f"the JWT header is not a JSON object: {_why(exc)}") from None
    payload = _decode_payload(payload_b64, decode)
    signature = _decode_signature(sig_b64, decode)
    return header, payload, (head_b64 + "." + payload_b64).encode("ascii"), signature


def _refuse_wrapped(token: str, shape: re.Pattern[str] = _SHAPE) -> None:
    """Name the usual ways a good token arrives wrapped: an HTTP scheme, quotes, spaces."""
    if token[:7].lower() == "bearer ":
        raise MalformedTokenError(
            "the token starts with 'Bearer ': remove that prefix (it belongs to the "
            "Authorization header, not to the token)"
        )
    stripped = token.strip()
    if len(stripped) >= 2 and stripped[0] == stripped[-1] and stripped[0] in "\"'":
        raise MalformedTokenError("the token is wrapped in quotes: remove the quotes")
    if stripped != token and shape.fullmatch(stripped):
        raise MalformedTokenError("the token has white space around it: remove it")


def shown(value: Any) -> str:
    """``repr(value)`` cut to 120 characters: how a message shows a value the token chose."""
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def check_alg(header: Claims, alg: str) -> None:
    """Stage 2's first rules, for every kind of token: the header's ``alg`` is exactly
    ``alg`` and it has no ``crit``; else :class:`MalformedTokenError`."""
    found = header.get("alg")
    if found != alg:
        raise MalformedTokenError(f"alg must be {alg!r}, found {shown(found)}")
    if "crit" in header:
        raise MalformedTokenError("the 'crit' header is not supported")


def _check_header(header: Claims) -> str:
    check_alg(header, "RS256")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise MalformedTokenError("the header has no 'kid' string naming its key")
    return kid


def parse(token: object) -> Signed:
    """Stages 1 and 2 of a Cognito token (RS256, unpadded segments, a ``kid`` string).

    A header segment remembered in ``_header_kids`` decoded to a JSON object that passed
    every header check, so the same segment needs neither again; the payload and signature
    are decoded and checked as always, so the first failure is the one :func:`decompose` and
    ``_check_header`` would report. The shape test here accepts exactly what ``_SHAPE``
    does: ASCII, nothing but base64url characters and two dots, no empty segment.
    """
    if type(token) is str and len(token) <= MAX_TOKEN_CHARS and token.isascii():
        raw = token.encode("ascii")
        if raw.translate(None, _B64URL_ALPHABET) == b"..":
            first, second = token.index("."), token.rindex(".")
            kid = _header_kids.get(token[:first])
            if kid is not None and second > first + 1 and second < len(token) - 1:
                payload, flat = _decode_payload_flat(token[first + 1 : second])
                signature = _decode_signature(token[second + 1 :])
                return Signed(kid, None, payload, raw[:second], signature, flat)
    header, payload, signing_input, signature = decompose(token, MAX_TOKEN_CHARS)
    kid = _check_header(header)
    if len(_header_kids) >= _MAX_HEADER_KIDS:
        _header_kids.clear()
    _header_kids[cast(str, token)[: cast(str, token).index(".")]] = kid
    return Signed(kid, None, payload, signing_input, signature, False)


def key_id(token: object) -> str:
    """The ``kid`` of a Cognito token that passes stages 1 and 2 (see :func:`parse`), read
    from memory when its header segment passed before; :class:`MalformedTokenError`
    otherwise. Never fetches."""
    if type(token) is str:
        dot = token.find(".")
        kid = _header_kids.get(token[:dot]) if dot > 0 else None
        if kid is not None:
            return kid
    return parse(token).kid


def decode_unverified(token: str) -> Tuple[Claims, Claims]:
    """Return ``(header, claims)`` WITHOUT verifying anything. Never trust the result.

    For display and debugging only (what people paste into jwt.io). Raises
    :class:`MalformedTokenError` for input that is not a compact JWS.
    """
    header, payload, _, _ = decompose(token, MAX_TOKEN_CHARS)
    return header, payload
